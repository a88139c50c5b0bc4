// The fault matrix through real libusb: the bundled CLI (`node dist/cli.js flash FILE --json --yes`)
// flashes the emulated ROM served by umockdev (scripts/with-emulated-usb --faults JSON), one
// representative case or more per phase from test/helpers/fault-cases.ts, the states a board can be
// opened in (dfuERROR, dfuDNBUSY, appIDLE) among them. Each run must end by
// itself with the expected exit code, a last JSON line that says so (ok:false and error.code on a
// failure), and a flash file that holds the image after a success; after a failure the sectors the
// image does not touch are unchanged. The full matrix runs in-process (engine-fault-matrix).
import assert from 'node:assert/strict';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, describe, it} from 'node:test';
import {parseLayout} from '../source/dfu/layout.js';
import {profiles} from '../source/emulator/index.js';
import {toIntelHex} from '../scripts/synthetic-firmware.js';
import {addressedCases, boards, expectationFor, expectedFlash, FLASH, type Board, type FaultCase, type Mode} from './helpers/fault-cases.js';
import {describe as explain, repo, runHarness, skipReason} from './helpers/usb-harness.js';

const cli = join(repo ?? '', 'dist', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'usb-fault-matrix-'));
after(() => rmSync(dir, {recursive: true, force: true}));

/** Case name, and the legs run through libusb (the in-process matrix runs every leg). */
const subset: Array<[string, Array<{mode: Mode; verify: boolean}>, string?]> = [
	['appIDLE at open', [{mode: 'smart', verify: true}]],
	['dfuERROR at open', [{mode: 'smart', verify: true}]],
	['dfuDNBUSY at open', [{mode: 'smart', verify: true}]],
	['transfer size 0', [{mode: 'smart', verify: true}]],
	['read protected', [{mode: 'smart', verify: true}]],
	['claim busy', [{mode: 'smart', verify: true}]],
	['intermittent corrupt read', [{mode: 'smart', verify: true}]],
	['erase error', [{mode: 'rewrite', verify: false}]],
	['mass erase refused (fallback)', [{mode: 'full-erase', verify: true}]],
	['H7 erase stuck busy (lost)', [{mode: 'smart', verify: false}, {mode: 'rewrite', verify: true}]],
	['disconnect mid-write', [{mode: 'rewrite', verify: true}]],
	['F405 write stuck busy (lost)', [{mode: 'smart', verify: false}]],
	['H7 write stuck busy (partial)', [{mode: 'smart', verify: true}]],
	['H7 write stuck busy (failed)', [{mode: 'smart', verify: false}]],
	['a bit stuck on the read path', [{mode: 'smart', verify: true}, {mode: 'smart', verify: false}]],
	['leave stalls', [{mode: 'smart', verify: true}]],
	['leave answers dfuERROR', [{mode: 'smart', verify: false}]],
	['leave manifests but never resets', [{mode: 'smart', verify: true}]],
];

const flags: Record<Mode, string[]> = {smart: [], rewrite: ['--rewrite'], 'full-erase': ['--full-erase']};
const tally = {cases: 0, successes: 0, failures: 0, falseSuccesses: 0};

function sectorsOf(board: Board) {
	return parseLayout(profiles[board.profile].layouts[0]!).sectors;
}

function untouchedKept(board: Board, flash: Buffer): number {
	for (const s of sectorsOf(board)) {
		if (board.segments.some((g) => g.address < s.start + s.size && g.address + g.data.length > s.start)) continue;
		const lo = s.start - FLASH;
		if (!flash.subarray(lo, lo + s.size).equals(Buffer.from(board.before.subarray(lo, lo + s.size)))) return s.start;
	}
	return -1;
}

async function runCase(c: FaultCase, mode: Mode, verify: boolean) {
	const board = boards[c.profile as keyof typeof boards]();
	const id = `${c.name}-${mode}-${verify}`.replace(/[^a-z0-9]+/gi, '-');
	const hexPath = join(dir, `${id}.hex`);
	const before = join(dir, `${id}.before.bin`);
	const afterPath = join(dir, `${id}.after.bin`);
	writeFileSync(hexPath, toIntelHex(board.segments));
	writeFileSync(before, board.before);
	const r = await runHarness(
		['--profile', board.profile, '--time-scale', '0', '--flash-in', before, '--flash-out', afterPath, '--faults', JSON.stringify(c.faults(board))],
		[process.execPath, cli, 'flash', hexPath, '--json', '--yes', ...flags[mode], ...(verify ? [] : ['--no-verify'])],
		60_000,
	);
	const last = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as {event?: string; ok?: boolean; error?: {code: number; hintId: string | null}};
	return {board, r, last, flash: readFileSync(afterPath)};
}

describe('fault matrix through libusb (CLI under umockdev)', {skip: skipReason}, () => {
	for (const [name, legs, todo] of subset) {
		const c = addressedCases.find((x) => x.name === name);
		assert.ok(c, `no case named ${name}`);
		for (const {mode, verify} of legs) {
			it(`${c.phase}: ${name} [${mode}, verify ${verify ? 'on' : 'off'}]`, {timeout: 60_000, todo}, async () => {
				const expect = expectationFor(c, mode, verify);
				const {board, r, last, flash} = await runCase(c, mode, verify);
				tally.cases++;
				assert.equal(last.event, 'result', explain(r));
				if (last.ok) {
					tally.successes++;
					const want = mode === 'full-erase' ? Buffer.from(expectedFull(board)) : Buffer.from(expectedFlash(board, sectorsOf(board)));
					if (!flash.equals(want)) tally.falseSuccesses++;
					assert.ok(flash.equals(want), `ok, but the flash does not hold the image: a false success\n${explain(r)}`);
					assert.equal(expect, 'ok', `succeeded where a typed error was expected\n${explain(r)}`);
					assert.equal(r.code, 0);
					return;
				}
				tally.failures++;
				assert.notEqual(expect, 'ok', `a recoverable fault must succeed\n${explain(r)}`);
				if (expect === 'ok') return;
				assert.equal(r.code, expect.code, explain(r));
				assert.equal(last.error?.code, expect.code);
				if (expect.hint) assert.equal(last.error?.hintId, expect.hint, explain(r));
				if (mode !== 'full-erase') assert.equal(untouchedKept(board, flash), -1, 'a sector the image does not touch changed');
			});
		}
	}

	it('counts (no false success)', () => {
		assert.equal(tally.falseSuccesses, 0);
		console.log(`fault matrix (libusb): ${tally.cases} cases, ${tally.successes} successes, ${tally.failures} typed failures, ${tally.falseSuccesses} false successes`);
	});
});

function expectedFull(board: Board): Uint8Array {
	const out = new Uint8Array(board.before.length).fill(0xff);
	for (const g of board.segments) out.set(g.data, g.address - FLASH);
	return out;
}
