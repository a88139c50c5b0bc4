// Flash on connect on a bench of emulated boards: several at once, each flashed once, the wrong
// target skipped with its reason, a board pulled out fails alone, --count, and the two stops.
import assert from 'node:assert/strict';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, describe, it} from 'node:test';
import {SimulatedSource} from '../source/devices/simulated.js';
import {makeImage, type FirmwareImage} from '../source/firmware/image.js';
import {startOnConnectJob} from '../source/jobs/on-connect-job.js';
import type {FleetReport, JobEvent, OnConnectRequest} from '../source/jobs/types.js';
import {betaflightLikeImage} from '../scripts/synthetic-firmware.js';
import {BenchSource, type BenchBoard} from './helpers/bench-source.js';
import {drive} from './helpers/job-driver.js';

const FLASH = 0x08000000;
const KiB = 1024;
const state = mkdtempSync(join(tmpdir(), 'fcflash-fleet-'));
process.env.XDG_STATE_HOME = state;
process.env.XDG_DATA_HOME = state;
process.env.FCFLASH_LOCK_DIR = state;
after(() => rmSync(state, {recursive: true, force: true}));

const f405 = makeImage('betaflight_4.5.6_STM32F405.hex', 'hex', betaflightLikeImage({target: 'STM32F405', bytes: 120 * KiB}), null);
const holds = (flash: Uint8Array, img: FirmwareImage) =>
	img.segments.every((s) => Buffer.from(flash.subarray(s.address - FLASH, s.address - FLASH + s.data.length)).equals(Buffer.from(s.data)));

function run(boards: BenchBoard[], request: Partial<OnConnectRequest> = {}, onEvent?: (e: JobEvent, stop: () => void) => void) {
	const source = new BenchSource(boards);
	const driven = drive<FleetReport>((listener) => startOnConnectJob({source, interaction: 'none'}, {image: f405, yes: true, ...request}, listener), () => 'yes', (e, job) => onEvent?.(e, () => job.stop()));
	return {source, driven};
}

const results = (events: JobEvent[]) => events.filter((e): e is Extract<JobEvent, {type: 'fleet'}> => e.type === 'fleet' && e.event.type === 'result');

describe('flash on connect', () => {
	it('boards present and arriving are each flashed once, at the same time; the wrong target is skipped with its reason', async () => {
		const {source, driven} = run(
			[{profile: 'stm32f405', timeScale: 0.02}, {profile: 'stm32f405', timeScale: 0.02}, {profile: 'stm32f722'}, {profile: 'stm32f405', arriveAfterMs: 150, timeScale: 0.02}],
			{count: 3},
		);
		const {result, events} = await driven;
		assert.equal(result.ok, true, result.error?.message);
		const fleet = result.fields.boards as Array<{boardId: string; ok: boolean; skipped?: boolean; reason?: string}>;
		assert.deepEqual(fleet.filter((b) => b.ok).map((b) => b.boardId).sort(), ['BENCH0001@1-1', 'BENCH0002@1-2', 'BENCH0004@1-4']);
		const skipped = fleet.find((b) => b.skipped)!;
		assert.equal(skipped.boardId, 'BENCH0003@1-3');
		assert.match(skipped.reason!, /built for STM32F405, but the board in DFU is an STM32F722/);
		for (const i of [0, 1, 3]) assert.ok(holds(source.slots[i]!.core.flash, f405), `board ${i + 1} holds the image`);
		assert.ok(source.slots[2]!.core.flash.every((b) => b === 0xff), 'the F722 was not touched');
		// Two boards were writing at the same time: their write phases overlap in the event stream.
		const writing = new Set<string>();
		let overlap = false;
		for (const e of events) {
			if (e.type !== 'fleet') continue;
			if (e.event.type === 'progress' && e.event.phase === 'write') writing.add(e.boardId);
			if (e.event.type === 'result') writing.delete(e.boardId);
			if (writing.size > 1) overlap = true;
		}
		assert.ok(overlap, 'flashed at the same time');
		assert.equal(results(events).length, 3, 'one result per board tried');
		await source.close();
	});

	it('a board pulled out mid-flash fails alone (exit 1); the others finish; each gets a log line', async () => {
		const {source, driven} = run([{profile: 'stm32f405', timeScale: 0.02}, {profile: 'stm32f405', timeScale: 0.02, faults: {disconnectAfterBytes: 40 * KiB}}], {count: 2});
		const {result} = await driven;
		assert.equal(result.exitCode, 1);
		const fleet = result.fields.boards as Array<{boardId: string; ok: boolean; error?: {message: string}}>;
		assert.equal(fleet.find((b) => b.boardId.startsWith('BENCH0001'))?.ok, true);
		assert.match(fleet.find((b) => b.boardId.startsWith('BENCH0002'))!.error!.message, /disconnected/);
		assert.ok(holds(source.slots[0]!.core.flash, f405));
		const log = readFileSync(join(state, 'fcflash-tui', 'flash.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l.replace(/^\S+ /, '')) as Record<string, unknown>);
		const lines = log.filter((l) => l.reason === 'on-connect' && String(l.board).startsWith('BENCH000'));
		assert.ok(lines.some((l) => l.ok === true && l.file === f405.file));
		assert.ok(lines.some((l) => l.ok === false && /disconnected/.test(String(l.message))));
		await source.close();
	});

	it('a board that comes back in DFU right after its own leave (BOOT held) is reported, never flashed twice', async () => {
		const {source, driven} = run([{profile: 'stm32f405', bootHeld: true}, {profile: 'stm32f405', arriveAfterMs: 400}], {count: 2});
		const {result, events} = await driven;
		assert.equal(result.ok, true, result.error?.message);
		const again = events.find((e) => e.type === 'board-skipped' && e.boardId.startsWith('BENCH0001'));
		assert.ok(again && again.type === 'board-skipped' && /came back in DFU .* after its firmware was started/.test(again.reason), 'reported');
		assert.equal(results(events).filter((e) => e.boardId.startsWith('BENCH0001')).length, 1, 'flashed once');
		await source.close();
	});

	it('a board still listed for a moment after its leave (the detach noticed late) is not reported as back in DFU', async () => {
		// The third board arrives later, so the run is still watching while the first two linger; an
		// image without an ident has no look for the started firmware, so its job ends at once.
		const plain = makeImage('plain.bin', 'bin', [{address: FLASH, data: new Uint8Array(64 * KiB).map((_, i) => (i * 13) & 0xff)}], null);
		const {source, driven} = run([{profile: 'stm32f405', leaveLingerMs: 400}, {profile: 'stm32f405', leaveLingerMs: 400}, {profile: 'stm32f405', arriveAfterMs: 1500}], {count: 3, image: plain});
		const {result, events} = await driven;
		assert.equal(result.ok, true, result.error?.message);
		assert.equal(results(events).length, 3);
		const skipped = events.filter((e) => e.type === 'board-skipped');
		assert.deepEqual(skipped, [], 'a board that never left and came back is no "came back in DFU"');
		await source.close();
	});

	it('--count counts boards tried, not skipped ones; stopped with nothing tried is exit 3 (no device)', async () => {
		const counted = run([{profile: 'stm32f722'}, {profile: 'stm32f405'}, {profile: 'stm32f405'}], {count: 1});
		const c = await counted.driven;
		assert.equal(c.result.ok, true, c.result.error?.message);
		const fleet = c.result.fields.boards as Array<{ok: boolean; skipped?: boolean}>;
		assert.equal(fleet.filter((b) => b.ok).length, 1, 'one board tried');
		assert.equal(fleet.filter((b) => b.skipped).length, 1, 'the F722 skipped, not counted');
		assert.equal(counted.source.slots.filter((s) => holds(s.core.flash, f405)).length, 1, 'the second F405 was not taken');
		await counted.source.close();

		const wrong = run([{profile: 'stm32f722'}], {}, (e, stop) => {
			if (e.type === 'board-skipped') stop();
		});
		const w = await wrong.driven;
		assert.equal(w.result.exitCode, 3);
		assert.match(w.result.error!.message, /No board was flashed/);
		await wrong.source.close();
	});

	it('one USB port, one board after another: each new board (its own serial number) is flashed', {timeout: 20_000}, async () => {
		const {source, driven} = run(
			[
				{profile: 'stm32f405', serialNumber: 'AAA', usbPath: '1-1'},
				{profile: 'stm32f405', serialNumber: 'BBB', usbPath: '1-1', arriveAfterMs: 400},
				{profile: 'stm32f405', serialNumber: 'CCC', usbPath: '1-1', arriveAfterMs: 800},
			],
			{count: 3},
		);
		const {result, events} = await driven;
		assert.equal(result.ok, true, result.error?.message);
		assert.deepEqual(results(events).map((e) => e.boardId), ['AAA@1-1', 'BBB@1-1', 'CCC@1-1']);
		assert.deepEqual(events.filter((e) => e.type === 'board-skipped'), [], 'no new board taken for the one flashed before it');
		for (const slot of source.slots) assert.ok(holds(slot.core.flash, f405), `${slot.board.serialNumber} holds the image`);
		await source.close();
	});

	it('two boards showing one serial number (clones) on two ports are both flashed: the port tells them apart', {timeout: 20_000}, async () => {
		const {source, driven} = run(
			[
				{profile: 'stm32f405', serialNumber: 'AAA', usbPath: '1-1'},
				{profile: 'stm32f405', serialNumber: 'AAA', usbPath: '1-2', arriveAfterMs: 400},
			],
			{count: 2},
		);
		const {result, events} = await driven;
		assert.equal(result.ok, true, result.error?.message);
		assert.deepEqual(results(events).map((e) => e.boardId), ['AAA@1-1', 'AAA@1-2']);
		for (const slot of source.slots) assert.ok(holds(slot.core.flash, f405));
		await source.close();
	});

	it('a serial FC already running the exact build is skipped; the same release built from another revision is flashed', {timeout: 30_000}, async () => {
		const f722 = (revision?: string) => makeImage('bf-f722.hex', 'hex', betaflightLikeImage({target: 'STM32F7X2', bytes: 48 * KiB, revision}), null);
		const asRunning = f722(); // the emulated FC runs Betaflight 4.5.1 for STM32F7X2, revision c155f58
		const same = new SimulatedSource('stm32f722:fc', {timeScale: 0});
		const skipped = await drive<FleetReport>((l) => startOnConnectJob({source: same, interaction: 'none'}, {image: asRunning, yes: true}, l), () => 'yes', (e, job) => {
			if (e.type === 'board-skipped') job.stop();
		});
		const reason = skipped.events.find((e): e is Extract<JobEvent, {type: 'board-skipped'}> => e.type === 'board-skipped')?.reason;
		assert.match(reason ?? '', /already runs Betaflight 4\.5\.1 for STM32F7X2/);
		await same.close();

		const custom = new SimulatedSource('stm32f722:fc', {timeScale: 0});
		const flashed = await drive<FleetReport>((l) => startOnConnectJob({source: custom, interaction: 'none'}, {image: f722('0badc0de1'), yes: true, count: 1}, l), () => 'yes', (e, job) => {
			if (e.type === 'board-skipped') job.stop();
		});
		assert.equal(flashed.result.ok, true, flashed.result.error?.message);
		assert.equal(results(flashed.events).length, 1, 'flashed: another build of 4.5.1 is not what it runs');
		await custom.close();
	});

	it('--force is refused with --on-connect (exit 2)', async () => {
		const {driven} = run([{profile: 'stm32f405'}], {force: true});
		assert.equal((await driven).result.exitCode, 2);
	});

	it('the first stop lets running flashes finish (exit 130, boards ok); the second stops them at a block boundary', async () => {
		let stopped = false;
		const gentle = run([{profile: 'stm32f405', timeScale: 0.05}, {profile: 'stm32f405', arriveAfterMs: 3000}], {}, (e, stop) => {
			if (!stopped && e.type === 'fleet' && e.event.type === 'progress' && e.event.phase === 'write' && e.event.done > 0) {
				stopped = true;
				stop();
			}
		});
		const g = await gentle.driven;
		assert.equal(g.result.exitCode, 130);
		assert.deepEqual((g.result.fields.boards as Array<{ok: boolean}>).map((b) => b.ok), [true], 'the running flash finished; no new board taken');
		const said = g.events.filter((e): e is Extract<JobEvent, {type: 'info'}> => e.type === 'info').map((e) => e.text);
		assert.ok(said.some((t) => /No new boards: the 1 flash under way finishes\. Stop again to stop it at a block boundary/.test(t)), said.join('\n'));
		assert.ok(holds(gentle.source.slots[0]!.core.flash, f405));
		await gentle.source.close();

		let stops = 0;
		const hard = run([{profile: 'stm32f405', timeScale: 0.05}], {}, (e, stop) => {
			if (e.type === 'fleet' && e.event.type === 'progress' && e.event.phase === 'write' && e.event.done > 0 && stops < 2) {
				stops++;
				stop();
				stop();
			}
		});
		const h = await hard.driven;
		assert.equal(h.result.exitCode, 130);
		const board = (h.result.fields.boards as Array<{ok: boolean; error?: {code: number}}>)[0]!;
		assert.equal(board.ok, false);
		assert.equal(board.error?.code, 130);
		await hard.source.close();
	});
});
