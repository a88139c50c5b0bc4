// The flash job end to end against emulated boards: every decision the CLI and the TUI share
// (target check, confirmation, read protection, lock, hang-up, stop) made in one place.
import assert from 'node:assert/strict';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, describe, it} from 'node:test';
import {setTimeout as sleep} from 'node:timers/promises';
import {SimulatedSource} from '../source/devices/simulated.js';
import type {SerialBoard} from '../source/devices/types.js';
import {Request} from '../source/dfu/requests.js';
import type {TraceEntry} from '../source/dfu/transfer.js';
import {makeImage, type FirmwareImage} from '../source/firmware/image.js';
import {acquireBoardLock} from '../source/jobs/board-lock.js';
import {startFlashJob} from '../source/jobs/flash-job.js';
import type {FlashReport, FlashRequest, Interaction, JobContext, JobEvent} from '../source/jobs/types.js';
import {betaflightLikeImage} from '../scripts/synthetic-firmware.js';
import {drive, OneBoardSource, phasesOf, type Answerer} from './helpers/job-driver.js';

const FLASH = 0x08000000;
const KiB = 1024;
const state = mkdtempSync(join(tmpdir(), 'fcflash-jobs-'));
process.env.FCFLASH_LOCK_DIR = state;
process.env.XDG_STATE_HOME = state;
after(() => rmSync(state, {recursive: true, force: true}));

function image(target: string, bytes: number, seed = 1): FirmwareImage {
	return makeImage(`bf-${target}.hex`, 'hex', betaflightLikeImage({target, bytes, seed}), null);
}

function holds(flash: Uint8Array, img: FirmwareImage): boolean {
	return img.segments.every((s) => Buffer.from(flash.subarray(s.address - FLASH, s.address - FLASH + s.data.length)).equals(Buffer.from(s.data)));
}

function flashWith(source: JobContext['source'], request: FlashRequest, interaction: Interaction = 'full', answer?: Answerer, trace?: (e: TraceEntry) => void) {
	return drive<FlashReport>((listener) => startFlashJob({source, interaction, trace}, request, listener), answer);
}

const dnloads = (trace: TraceEntry[]) => trace.filter((e) => e.dir === 'out' && e.request === Request.DNLOAD && e.length > 5).length;

describe('flash job: the demo boards', () => {
	it('a serial F722: reboot into DFU, wait, erase, write, verify, leave; it comes back running the image', async () => {
		const source = new SimulatedSource('', {timeScale: 0});
		try {
			const fc = (await source.list()).find((b): b is SerialBoard => b.kind === 'serial')!;
			const img = image('STM32F7X2', 440 * KiB, 2);
			const {result, events, questions} = await flashWith(source, {board: fc, image: img, waitMs: 5000});
			assert.equal(result.ok, true, result.error?.message);
			assert.deepEqual(phasesOf(events), ['backup', 'reboot', 'wait', 'compare', 'write', 'verify', 'leave', 'firmware', 'restore'], 'a blank board: the read-back finds nothing to erase');
			assert.equal(questions.length, 1);
			assert.equal(questions[0]!.kind, 'confirm');
			const boards = events.filter((e): e is Extract<JobEvent, {type: 'board'}> => e.type === 'board').map((e) => e.board.kind);
			assert.deepEqual(boards, ['serial', 'dfu'], 'the board, then the same chip in DFU');
			assert.equal(result.data?.verified, true);
			assert.equal(result.data?.boardState, 'running');
			assert.equal(result.fields.verified, true);
			for (;;) {
				const back = (await source.list()).find((b): b is SerialBoard => b.kind === 'serial' && b.id === fc.id);
				if (back) {
					assert.equal(back.fc?.target, 'STM32F7X2');
					break;
				}
				await sleep(10);
			}
		} finally {
			await source.close();
		}
	});

	it('settings in the result: an object with backup null when a serial FC was flashed without keeping them; null for a board in DFU', async () => {
		const source = new SimulatedSource('', {timeScale: 0});
		try {
			const boards = await source.list();
			const fc = boards.find((b): b is SerialBoard => b.kind === 'serial')!;
			const {result} = await flashWith(source, {board: fc, image: image('STM32F7X2', 100 * KiB), keepSettings: false, waitMs: 5000});
			assert.equal(result.ok, true, result.error?.message);
			assert.deepEqual(result.fields.settings, {backup: null, restored: false, applied: 0, rejected: [], remaining: []});
			const dfu = (await source.list()).find((b) => b.kind === 'dfu')!;
			const inDfu = await flashWith(source, {board: dfu, image: image('STM32F405', 100 * KiB), yes: true});
			assert.equal(inDfu.result.ok, true, inDfu.result.error?.message);
			assert.equal(inDfu.result.fields.settings, null, 'no firmware to read settings from');
		} finally {
			await source.close();
		}
	});

	it('a serial FC with the reboot turned off is refused (exit 3) before anything happens', async () => {
		const source = new SimulatedSource('', {timeScale: 0});
		try {
			const fc = (await source.list()).find((b): b is SerialBoard => b.kind === 'serial')!;
			const {result, questions} = await flashWith(source, {board: fc, image: image('STM32F7X2', 100 * KiB), reboot: false});
			assert.equal(result.exitCode, 3);
			assert.match(result.error!.message, /reboot into DFU is turned off/);
			assert.equal(questions.length, 0);
			assert.deepEqual((await source.list()).map((b) => b.kind), ['dfu', 'serial'], 'the FC was not rebooted');
		} finally {
			await source.close();
		}
	});
});

describe('flash job: confirmation', () => {
	it('no: exit 5, nothing erased or written (only read, to say what it runs), the flash unchanged', async () => {
		const old = new Uint8Array(1024 * KiB).map((_, i) => (i * 7) & 0xff);
		const source = new OneBoardSource('stm32f405', {flash: old.slice()});
		const trace: TraceEntry[] = [];
		const {result, questions} = await flashWith(source, {image: image('STM32F405', 200 * KiB)}, 'confirm', () => 'no', (e) => trace.push(e));
		assert.equal(result.exitCode, 5);
		assert.equal(result.data?.boardState, 'untouched');
		const dnloads = trace.filter((e) => e.dir === 'out' && e.request === 1);
		assert.ok(dnloads.length > 0 && dnloads.every((e) => e.value === 0 && e.length === 5), 'only DfuSe commands (the read pointer), no data block');
		assert.ok(trace.some((e) => e.dir === 'in' && e.request === 2), 'read with UPLOAD');
		assert.equal(source.reasons.length, 0, 'never left DFU');
		assert.deepEqual(source.core.flash, old, 'not a byte changed (an erase would show)');
		const q = questions[0];
		assert.equal(q?.kind === 'confirm' && q.facts.runs, 'no firmware that names itself (blank, or firmware without an ident)');
	});

	it('s (a board in DFU running an older release): its firmware is started and the job asks again from its serial port; only yes there flashes', async () => {
		process.env.XDG_DATA_HOME = state;
		const statePath = join(state, 'f722-s.bin');
		const earlier = new SimulatedSource('stm32f722', {timeScale: 0, statePath});
		const first = await flashWith(earlier, {image: image('STM32F7X2', 120 * KiB, 3), yes: true});
		assert.equal(first.result.ok, true, first.result.error?.message);
		await earlier.saveState();
		await earlier.close();
		// Plugged in again holding BOOT: in DFU, with Betaflight 4.5.1 in its flash.
		const source = new SimulatedSource('stm32f722', {timeScale: 0, statePath});
		try {
			const upgrade = makeImage('bf-2026.hex', 'hex', betaflightLikeImage({target: 'STM32F7X2', bytes: 120 * KiB, seed: 4, version: '2026.12.0'}), null);
			await source.saveState();
			const before = readFileSync(statePath);
			const answers: string[] = [];
			// Chosen on a list, as the TUI does: the job must not look for the board in DFU again.
			const inDfu = (await source.list()).find((b) => b.kind === 'dfu')!;
			const declined = await flashWith(source, {board: inDfu, image: upgrade}, 'full', (q) => {
				if (q.kind !== 'confirm') return 'no';
				answers.push(q.facts.board.kind);
				return answers.length === 1 ? 'serial' : 'no';
			});
			assert.deepEqual(answers, ['dfu', 'serial'], 'asked in DFU, then again for the same board on its serial port');
			const second = declined.questions[1]!;
			assert.ok(second.kind === 'confirm' && second.facts.steps.some((s) => /back up/i.test(s)), JSON.stringify(second.kind === 'confirm' && second.facts.steps));
			assert.equal(declined.result.exitCode, 5, 'declined the second time: nothing written');
			await source.saveState();
			assert.deepEqual(readFileSync(statePath), before, 'the flash holds the old firmware, byte for byte');
			const running = (await source.list()).find((b): b is SerialBoard => b.kind === 'serial');
			assert.ok(running, 'its firmware runs (it was started to be flashed from its serial port)');
			const flashed = await flashWith(source, {image: upgrade}, 'full', () => 'yes');
			assert.equal(flashed.result.ok, true, flashed.result.error?.message);
			assert.ok(flashed.result.data?.settings?.backup, 'flashed from the serial port: the settings were backed up');
		} finally {
			await source.close();
		}
	});

	it('stopped while asking: exit 130, nothing written', async () => {
		const source = new OneBoardSource('stm32f405');
		const {result} = await flashWith(source, {image: image('STM32F405', 200 * KiB)}, 'confirm', () => 'stop');
		assert.equal(result.exitCode, 130);
		assert.equal(result.cancelled, true);
		assert.match(result.error!.message, /nothing was written/);
		assert.ok(source.core.flash.every((b) => b === 0xff));
	});

	it('no way to ask and no --yes: exit 2, nothing touched', async () => {
		const source = new OneBoardSource('stm32f405');
		const {result, questions} = await flashWith(source, {image: image('STM32F405', 200 * KiB)}, 'none');
		assert.equal(result.exitCode, 2);
		assert.equal(result.error!.hintId, 'confirm-needed');
		assert.equal(questions.length, 0);
	});

	it('the facts name the board, the file and what is erased, and time starts after the answer', async () => {
		const source = new OneBoardSource('stm32f405');
		const img = image('STM32F405', 200 * KiB);
		let askedAt = 0;
		let answeredAt = 0;
		const {result, questions} = await drive<FlashReport>(
			(listener) => startFlashJob({source, interaction: 'confirm'}, {image: img}, listener),
			(q, job) => {
				askedAt = performance.now();
				// A pilot who takes a while to answer.
				setTimeout(() => {
					answeredAt = performance.now();
					job.answer(q.id, 'yes');
				}, 400);
				return undefined;
			},
		);
		assert.equal(result.ok, true);
		const q = questions[0]!;
		assert.equal(q.kind, 'confirm');
		if (q.kind !== 'confirm') return;
		assert.equal(q.requires, 'yes');
		assert.match(q.facts.erase, /at most 5 sectors, 240 KiB \(0x08000000-0x0803FFFF\)/);
		assert.deepEqual(q.facts.steps, ['write 200 KiB', 'verify', 'start the firmware']);
		assert.ok(askedAt > 0);
		const afterAnswer = performance.now() - answeredAt;
		assert.ok(result.data!.durationMs <= afterAnswer + 5, `${result.data!.durationMs} ms counted, ${Math.round(afterAnswer)} ms since the answer: the 400 ms at the prompt are not the flash's`);
	});

	it('an image too big for the board: exit 2 before any question, naming the first address outside', async () => {
		const source = new OneBoardSource('stm32f411');
		const {result, questions} = await flashWith(source, {image: image('STM32F411', 700 * KiB), force: true});
		assert.equal(result.exitCode, 2);
		assert.match(result.error!.message, /0x08080000/);
		assert.equal(questions.length, 0, 'an image that does not fit is never forceable');
	});
});

describe('flash job: wrong target (one policy for the CLI and the TUI)', () => {
	const f7onF4 = () => image('STM32F7X2', 200 * KiB, 3);

	it('CLI (confirm): exit 2 without asking, nothing written', async () => {
		const source = new OneBoardSource('stm32f405');
		const {result, questions} = await flashWith(source, {image: f7onF4()}, 'confirm');
		assert.equal(result.exitCode, 2);
		assert.equal(result.error!.hintId, 'target-mismatch');
		assert.match(result.error!.message, /built for STM32F7X2, but the board in DFU is an STM32F405\/F407/);
		assert.equal(questions.length, 0);
		assert.ok(source.core.flash.every((b) => b === 0xff));
	});

	it('TUI (full): the confirmation requires the word force; yes alone refuses with exit 2', async () => {
		const source = new OneBoardSource('stm32f405');
		const {result, questions} = await flashWith(source, {image: f7onF4()}, 'full', () => 'yes');
		assert.equal(questions[0]?.kind === 'confirm' && questions[0].requires, 'force');
		assert.equal(result.exitCode, 2);
		assert.ok(source.core.flash.every((b) => b === 0xff));
	});

	it('TUI (full): typing force flashes it', async () => {
		const source = new OneBoardSource('stm32f405');
		const img = f7onF4();
		const {result} = await flashWith(source, {image: img}, 'full', () => 'force');
		assert.equal(result.ok, true, result.error?.message);
		assert.ok(holds(source.core.flash, img));
	});

	it('--force: a warning, then the usual y/N', async () => {
		const source = new OneBoardSource('stm32f405');
		const {result, questions} = await flashWith(source, {image: f7onF4(), force: true}, 'confirm', () => 'yes');
		assert.equal(result.ok, true);
		assert.equal(questions[0]?.kind === 'confirm' && questions[0].requires, 'yes');
		assert.match(String(result.fields.warnings), /Flashing anyway \(forced\)/);
	});

	it('F4 and F7 are told apart in DFU by the option bytes, not alt 0 (the same layout on F411 and F722)', async () => {
		const onF411 = await flashWith(new OneBoardSource('stm32f411'), {image: image('STM32F7X2', 100 * KiB)}, 'confirm');
		assert.equal(onF411.result.exitCode, 2);
		const onF722 = await flashWith(new OneBoardSource('stm32f722'), {image: image('STM32F7X2', 100 * KiB), yes: true}, 'none');
		assert.equal(onF722.result.ok, true, onF722.result.error?.message);
		const f411onF405 = await flashWith(new OneBoardSource('stm32f405'), {image: image('STM32F411', 100 * KiB)}, 'confirm');
		assert.equal(f411onF405.result.exitCode, 2, 'same family, another part: an F411 image does not run on an F405');
	});
});

describe('flash job: read protection', () => {
	const protectedBoard = () => new OneBoardSource('stm32f405', {faults: {readProtected: true}, flash: new Uint8Array(1024 * KiB).fill(0x42)});

	it('CLI without --unprotect: exit 1 with the read-protect hint, the chip untouched', async () => {
		const source = protectedBoard();
		const trace: TraceEntry[] = [];
		const {result} = await flashWith(source, {image: image('STM32F405', 200 * KiB), yes: true}, 'none', undefined, (e) => trace.push(e));
		assert.equal(result.exitCode, 1);
		assert.equal(result.error!.hintId, 'read-protect');
		assert.equal(source.core.readProtected, true);
		assert.ok(source.core.flash.every((b) => b === 0x42));
		assert.equal(dnloads(trace), 0);
	});

	it('TUI: asks, and yes wipes the chip, waits for it to leave and come back, then flashes', async () => {
		const source = protectedBoard();
		const img = image('STM32F405', 200 * KiB);
		const {result, questions, events} = await flashWith(source, {image: img, yes: true}, 'full', (q) => (q.kind === 'unprotect' ? 'yes' : 'no'));
		assert.equal(result.ok, true, result.error?.message);
		assert.deepEqual(questions.map((q) => q.kind), ['unprotect']);
		assert.ok(phasesOf(events).includes('unprotect'));
		assert.equal(source.core.readProtected, false);
		assert.deepEqual(source.reasons, ['unprotect', 'leave']);
		assert.ok(holds(source.core.flash, img));
		assert.ok(source.core.flash.subarray(0x4000, 0x8000).every((b) => b === 0xff), 'the unprotect wiped the config sector too');
	});

	it('a ROM busy through its wipe: the unprotect reports its time each second, and a stop ends the wait at once (exit 130)', {timeout: 20_000}, async () => {
		const source = new OneBoardSource('stm32f405', {faults: {readProtected: true, unprotectStaysBusy: true}, timeScale: 1});
		const started = performance.now();
		const {result, events} = await drive<FlashReport>(
			(listener) => startFlashJob({source, interaction: 'none'}, {image: image('STM32F405', 100 * KiB), yes: true, unprotect: true}, listener),
			() => 'yes',
			(e, job) => {
				if (e.type === 'progress' && e.phase === 'unprotect' && (e.elapsedMs ?? 0) >= 900) job.stop();
			},
		);
		assert.equal(result.exitCode, 130, result.error?.message);
		assert.match(result.error!.message, /wip/i, 'says the chip goes on wiping itself');
		const ticks = events.filter((e) => e.type === 'progress' && e.phase === 'unprotect' && e.expectedMs !== undefined);
		assert.ok(ticks.length >= 2, `${ticks.length} timed unprotect events`);
		assert.ok(performance.now() - started < 5000, `stopped after ${Math.round(performance.now() - started)} ms of an 8 s wipe`);
	});

	it('--unprotect on a board that takes 1.5 s to come back: waits for it instead of opening the old one', async () => {
		const source = new OneBoardSource('stm32f405', {faults: {readProtected: true}, resetAfterMs: 1500});
		const img = image('STM32F405', 100 * KiB);
		const {result} = await flashWith(source, {image: img, yes: true, unprotect: true}, 'none');
		assert.equal(result.ok, true, result.error?.message);
		assert.ok(holds(source.core.flash, img));
	});
});

describe('flash job: the board lock', () => {
	it('a board another process is flashing: exit 1 with the busy hint, nothing written', async () => {
		const source = new OneBoardSource('stm32f405', {usbPath: '7-1.4'});
		const release = await acquireBoardLock('7-1.4');
		try {
			// The lock is held by this very process here; a live pid is what counts.
			const {result} = await flashWith(source, {image: image('STM32F405', 100 * KiB), yes: true}, 'none');
			assert.equal(result.exitCode, 1);
			assert.equal(result.error!.hintId, 'busy');
			assert.ok(source.core.flash.every((b) => b === 0xff));
		} finally {
			release();
		}
		const {result} = await flashWith(source, {image: image('STM32F405', 100 * KiB), yes: true}, 'none');
		assert.equal(result.ok, true, 'released: the next job takes it');
	});
});

describe('flash job: hang-up', () => {
	const logLines = () => {
		try {
			return readFileSync(join(state, 'fcflash-tui', 'flash.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l.replace(/^\S+ /, '')) as Record<string, unknown>);
		} catch {
			return [];
		}
	};

	it('mid-write: the flash runs to its end (never stopped mid-write) and the result goes to the log', async () => {
		const source = new OneBoardSource('stm32f405', {timeScale: 0.05});
		const img = image('STM32F405', 200 * KiB);
		const before = logLines().length;
		const {result} = await drive<FlashReport>(
			(listener) => startFlashJob({source, interaction: 'none'}, {image: img, yes: true}, listener),
			undefined,
			(e, job) => {
				if (e.type === 'progress' && e.phase === 'write' && e.done > 0) job.hangup();
			},
		);
		assert.equal(result.ok, true);
		assert.ok(holds(source.core.flash, img));
		const entry = logLines().slice(before).at(-1)!;
		assert.equal(entry.ok, true);
		assert.equal(entry.reason, 'hangup');
		assert.equal(entry.verified, true);
	});

	it('at the confirmation: nobody can answer, so nothing is written (declined, logged)', async () => {
		const source = new OneBoardSource('stm32f405');
		const before = logLines().length;
		const {result} = await flashWith(source, {image: image('STM32F405', 100 * KiB)}, 'confirm', () => 'hangup');
		assert.equal(result.exitCode, 5);
		assert.ok(source.core.flash.every((b) => b === 0xff));
		assert.equal(logLines().slice(before).at(-1)?.exitCode, 5);
	});
});

describe('flash job: stop', () => {
	it('mid-write: exit 130 at a block boundary; the result says the board is partly written', async () => {
		const source = new OneBoardSource('stm32f405', {timeScale: 0.05});
		const {result} = await drive<FlashReport>(
			(listener) => startFlashJob({source, interaction: 'none'}, {image: image('STM32F405', 300 * KiB), yes: true}, listener),
			undefined,
			(e, job) => {
				if (e.type === 'progress' && e.phase === 'write' && e.done > 50 * KiB) job.stop();
			},
		);
		assert.equal(result.exitCode, 130);
		assert.equal(result.data?.boardState, 'partly-written');
		assert.match(result.error!.message, /flash again/i);
	});
});

describe('flash job: a USB-UART bridge', () => {
	it('is refused at once: no DFU behind a CP210x', async () => {
		const bridge: SerialBoard = {kind: 'serial', id: '/dev/ttyUSB0', port: '/dev/ttyUSB0', vendorId: 0x10c4, productId: 0xea60, name: 'CP210x USB-UART', usbPath: '3-2'};
		const source = {list: async () => [bridge], openDfu: async () => assert.fail('never opened'), rebootToDfu: async () => assert.fail('never rebooted')};
		const started = performance.now();
		const {result} = await flashWith(source, {image: image('STM32F405', 100 * KiB), yes: true}, 'none');
		assert.equal(result.exitCode, 1);
		assert.equal(result.error!.hintId, 'uart-bridge');
		assert.ok(performance.now() - started < 5000, 'no waiting for a DFU board that cannot come');
	});
});


