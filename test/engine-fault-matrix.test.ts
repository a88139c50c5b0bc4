// The fault matrix of issue #8, in-process: every fault of test/helpers/fault-cases.ts, plus a
// stall and a disconnect at the first request of every phase, against the emulated ROM, in every
// mode (smart, rewrite, full erase) with verify on and off. Each run ends by itself and is either a
// typed error with the expected exit code, or a success whose flash holds exactly the image in
// every touched sector with every other sector unchanged. Zero false successes.
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {flashImage, type Progress} from '../source/dfu/flash.js';
import {closeDfuTarget, openDfuTarget, type DfuTarget} from '../source/dfu/target.js';
import {FcflashError} from '../source/errors.js';
import type {Faults} from '../source/emulator/index.js';
import {
	addressedCases,
	boards,
	expectationFor,
	expectedFlash,
	type Board,
	type Expect,
	type FaultCase,
	type FaultPhase,
	type Mode,
} from './helpers/fault-cases.js';
import {device, firstDiff, image, isDnload, isUpload, type Logged} from './helpers/engine-rig.js';

interface Outcome {
	ok: boolean;
	error?: unknown;
	flash: Uint8Array;
	log: Logged[];
	sectors: ReadonlyArray<{start: number; size: number}>;
}

async function run(board: Board, faults: Faults, mode: Mode, verify: boolean): Promise<Outcome> {
	const {dev, log, state} = device(board.profile, {flash: board.before.slice(), faults});
	let target: DfuTarget | undefined;
	const sectors = dev.bootloader.memories[0]!.layout.sectors;
	try {
		target = await openDfuTarget(dev, {busyWaitMs: 300});
		await flashImage(target, image(board.segments), {
			verify,
			rewrite: mode === 'rewrite',
			fullErase: mode === 'full-erase',
			onProgress: (p: Progress) => (state.phase = p.phase),
		});
		return {ok: true, flash: dev.bootloader.flash, log, sectors};
	} catch (error) {
		return {ok: false, error, flash: dev.bootloader.flash, log, sectors};
	} finally {
		if (target) await closeDfuTarget(target);
		assert.equal(dev.opened, false, 'the device is closed after the run');
	}
}

/** What a successful run must leave: full erase wipes the untouched sectors too. */
function wanted(board: Board, mode: Mode, sectors: Outcome['sectors']): Uint8Array {
	if (mode !== 'full-erase') return expectedFlash(board, sectors);
	const out = new Uint8Array(board.before.length).fill(0xff);
	for (const g of board.segments) out.set(g.data, g.address - 0x08000000);
	return out;
}

const tally = {cases: 0, successes: 0, failures: 0, falseSuccesses: 0};

/** Boards are built once per profile; every run starts from a copy of the old contents. */
const built = new Map<string, Board>();
const boardFor = (profile: keyof typeof boards) => built.get(profile) ?? built.set(profile, boards[profile]()).get(profile)!;

function judge(name: string, board: Board, mode: Mode, expect: Expect, o: Outcome) {
	tally.cases++;
	if (o.ok) {
		tally.successes++;
		const at = firstDiff(o.flash, wanted(board, mode, o.sectors));
		if (at !== -1) tally.falseSuccesses++;
		assert.equal(at, -1, `${name}: ok, but the flash differs at 0x${(0x08000000 + at).toString(16)}: a false success`);
		assert.equal(expect, 'ok', `${name}: succeeded where a typed error was expected`);
		return;
	}
	tally.failures++;
	assert.notEqual(expect, 'ok', `${name}: a recoverable fault must succeed, got ${String(o.error)}`);
	assert.ok(o.error instanceof FcflashError, `${name}: not a typed error: ${String(o.error)}`);
	if (expect === 'ok') return;
	assert.equal(o.error.exitCode, expect.code, `${name}: exit code of "${o.error.message}"`);
	if (expect.hint) assert.equal(o.error.hint, expect.hint, `${name}: hint of "${o.error.message}"`);
}

const modes: Mode[] = ['smart', 'rewrite', 'full-erase'];
const legs = (c: FaultCase) => (c.modes ?? modes).flatMap((mode) => (c.verify ?? [true, false]).map((verify) => ({mode, verify})));

describe('fault matrix: faults at an address, every mode, verify on and off', {concurrency: true}, () => {
	for (const c of addressedCases) {
		for (const {mode, verify} of legs(c)) {
			const name = `${c.phase}: ${c.name} [${mode}, verify ${verify ? 'on' : 'off'}]`;
			it(name, {timeout: 30_000}, async () => {
				const board = boardFor(c.profile as keyof typeof boards);
				judge(name, board, mode, expectationFor(c, mode, verify), await run(board, c.faults(board), mode, verify));
			});
		}
	}
});

// --- a stall and a disconnect at each phase, found on a clean run ---------------------------------------

/** The first request of the phase that matters there: an UPLOAD to compare/verify, a DNLOAD to erase/write/leave. */
function firstOf(log: Logged[], phase: FaultPhase): number {
	if (phase === 'open') return 2;
	const wanted = (e: Logged) => e.phase === phase && (phase === 'compare' || phase === 'verify' ? isUpload(e) : isDnload(e));
	return log.findIndex(wanted);
}

/** One clean run per board, mode and verify leg: where each phase's first request is. */
const cleanRuns = new Map<string, Promise<Outcome>>();
function cleanRun(profile: keyof typeof boards, mode: Mode, verify: boolean): Promise<Outcome> {
	const key = `${profile} ${mode} ${verify}`;
	if (!cleanRuns.has(key)) cleanRuns.set(key, run(boardFor(profile), {}, mode, verify));
	return cleanRuns.get(key)!;
}

describe('fault matrix: a stall and a disconnect at the first request of every phase', {concurrency: true}, () => {
	for (const profile of ['stm32f405', 'stm32h743'] as const) {
		for (const phase of ['open', 'compare', 'erase', 'write', 'verify', 'leave'] as const) {
			for (const fault of ['stall', 'disconnect'] as const) {
				for (const mode of modes) {
					for (const verify of [true, false]) {
						const name = `${profile} ${phase}: ${fault} [${mode}, verify ${verify ? 'on' : 'off'}]`;
						it(name, {timeout: 30_000}, async (t) => {
							const board = boardFor(profile);
							const clean = await cleanRun(profile, mode, verify);
							assert.ok(clean.ok, `the clean run fails: ${String(clean.error)}`);
							const index = firstOf(clean.log, phase);
							if (index < 0) return t.skip(`no ${phase} phase in this mode`);
							// Requests are numbered from 1 in the session that open() starts.
							const faults: Faults = fault === 'stall' ? {stallOnRequest: index + 1} : {disconnectOnRequest: index + 1};
							// A refused mass erase falls back to erasing every sector, as dfu-util does.
							const expect: Expect = fault === 'stall' && phase === 'erase' && mode === 'full-erase' ? 'ok' : {code: 1};
							judge(name, board, mode, expect, await run(board, faults, mode, verify));
						});
					}
				}
			}
		}
	}
});

it('fault matrix: counts (no false success)', () => {
	assert.ok(tally.cases > 200, `${tally.cases} cases ran`);
	assert.equal(tally.falseSuccesses, 0);
	console.log(`fault matrix (in-process): ${tally.cases} cases, ${tally.successes} successes, ${tally.failures} typed failures, ${tally.falseSuccesses} false successes`);
});
