// runFlashJob end to end against simulated boards: reboot a serial FC into DFU, wait, open, plan,
// confirm, flash; the declined and read-protected paths.
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {setTimeout as sleep} from 'node:timers/promises';
import type {Progress} from '../source/devices/select.js';
import type {TraceEntry} from '../source/dfu/transfer.js';
import {Request} from '../source/dfu/requests.js';
import {SimulatedSource} from '../source/devices/simulated.js';
import type {Board, BoardSource, DfuBoard, SerialBoard} from '../source/devices/types.js';
import {EmulatedBootloader, EmulatedUsbDevice, profiles, type DisconnectReason} from '../source/emulator/index.js';
import {DeclinedError, FcflashError, ReadProtectedError} from '../source/errors.js';
import {runFlashJob} from '../source/flash-job.js';
import {makeImage, type FirmwareImage} from '../source/firmware/image.js';
import {betaflightLikeImage} from '../scripts/synthetic-firmware.js';

const FLASH = 0x08000000;
const KiB = 1024;

function image(target: string, bytes: number, seed = 1): FirmwareImage {
	return makeImage(`bf-${target}.hex`, 'hex', betaflightLikeImage({target, bytes, seed}), null);
}

function emulated(device: unknown): EmulatedBootloader {
	assert.ok(device instanceof EmulatedUsbDevice, 'a simulated board opens as an EmulatedUsbDevice');
	return device.bootloader;
}

function assertHolds(flash: Uint8Array, img: FirmwareImage) {
	for (const s of img.segments) {
		const got = flash.subarray(s.address - FLASH, s.address - FLASH + s.data.length);
		assert.ok(Buffer.from(got).equals(Buffer.from(s.data)), `segment at 0x${s.address.toString(16)} not in flash`);
	}
}

const phases = (events: Progress[]) => events.reduce<string[]>((out, p) => (out.at(-1) === p.phase ? out : [...out, p.phase]), []);

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 3000): Promise<T> {
	const deadline = performance.now() + timeoutMs;
	for (;;) {
		const v = await fn();
		if (v !== undefined) return v;
		if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
		await sleep(10);
	}
}

describe('runFlashJob with the simulated demo boards', () => {
	it('lists a DFU F405 and a serial F722 running Betaflight', async () => {
		const source = new SimulatedSource('', {timeScale: 0});
		try {
			const boards = await source.list();
			assert.deepEqual(boards.map((b) => [b.kind, b.id]), [['dfu', profiles.stm32f405.serialNumber], ['serial', profiles.stm32f722.serialNumber]]);
			const fc = boards[1] as SerialBoard;
			assert.equal(fc.fc?.variant, 'BTFL');
			assert.equal(fc.fc?.target, 'STM32F7X2');
		} finally {
			await source.close();
		}
	});

	it('reboots the serial F722 into DFU, waits, then erases, writes, verifies and leaves', async () => {
		const source = new SimulatedSource('', {timeScale: 0});
		try {
			const fc = (await source.list()).find((b): b is SerialBoard => b.kind === 'serial')!;
			const img = image('STM32F7X2', 440 * KiB, 2);
			const events: Progress[] = [];
			let confirmed: DfuBoard | undefined;
			const result = await runFlashJob(source, fc, img, {
				waitMs: 5000,
				onProgress: (p) => events.push(p),
				confirm: async ({board, plan}) => {
					confirmed = board;
					assert.ok(plan.sectors.length > 0);
					return true;
				},
			});
			// The emulated board is blank: the compare finds nothing to erase (smart flash).
			assert.deepEqual(phases(events), ['reboot', 'wait', 'compare', 'write', 'verify', 'leave']);
			assert.deepEqual(events.slice(0, 4).map((p) => [p.phase, p.done, p.total]), [['reboot', 0, 1], ['reboot', 1, 1], ['wait', 0, 1], ['wait', 1, 1]]);
			assert.equal(confirmed?.kind, 'dfu');
			assert.equal(confirmed?.serialNumber, fc.serialNumber, 'the same chip came back in DFU');
			assert.equal(result.board.id, profiles.stm32f722.serialNumber);
			assert.equal(result.verified, true);
			assert.equal(result.erase.mode, 'sectors');
			assert.equal(result.written + result.skipped, img.bytes);
			const core = emulated(result.target.device);
			assert.equal(core.profile.name, 'stm32f722');
			assertHolds(core.flash, img);
			// After leave, the board runs the new firmware and shows up as a flight controller again.
			const back = await until('the F722 to come back as a flight controller', async () =>
				(await source.list()).find((b): b is SerialBoard => b.kind === 'serial' && b.id === fc.id),
			);
			assert.equal(back.fc?.target, 'STM32F7X2');
			assert.equal(back.fc?.version, '4.5.1');
		} finally {
			await source.close();
		}
	});

	it('flashes the DFU F405 directly (no reboot or wait phase)', async () => {
		const source = new SimulatedSource('', {timeScale: 0});
		try {
			const dfu = (await source.list()).find((b): b is DfuBoard => b.kind === 'dfu')!;
			const img = image('STM32F405', 200 * KiB);
			const events: Progress[] = [];
			const result = await runFlashJob(source, dfu, img, {onProgress: (p) => events.push(p)});
			assert.deepEqual(phases(events), ['compare', 'write', 'verify', 'leave']);
			assertHolds(emulated(result.target.device).flash, img);
		} finally {
			await source.close();
		}
	});

	it('confirm returning false is a DeclinedError (exit 5): nothing erased or written', async () => {
		const source = new SimulatedSource('stm32f405', {timeScale: 0});
		try {
			const [dfu] = await source.list();
			const trace: TraceEntry[] = [];
			let before: Uint8Array | undefined;
			let core: EmulatedBootloader | undefined;
			await assert.rejects(
				runFlashJob(source, dfu!, image('STM32F405', 200 * KiB), {
					trace: (e) => trace.push(e),
					confirm: async ({target, plan}) => {
						core = emulated(target.device);
						before = core.flash.slice();
						assert.equal(plan.sectors.length, 5);
						return false;
					},
				}),
				(error: unknown) => {
					assert.ok(error instanceof DeclinedError, `got ${String(error)}`);
					assert.equal(error.exitCode, 5);
					return true;
				},
			);
			assert.ok(core && before);
			assert.ok(Buffer.from(core.flash).equals(Buffer.from(before)), 'flash unchanged');
			assert.ok(core.flash.every((b) => b === 0xff));
			assert.equal(trace.filter((e) => e.dir === 'out' && e.request === Request.DNLOAD).length, 0, 'no DNLOAD at all');
			// The board is still there and still in DFU.
			assert.equal(core.connected, true);
			assert.deepEqual((await source.list()).map((b) => b.kind), ['dfu']);
		} finally {
			await source.close();
		}
	});

	it('a serial FC with reboot: false is refused (exit 3) before anything happens', async () => {
		const source = new SimulatedSource('', {timeScale: 0});
		try {
			const fc = (await source.list()).find((b): b is SerialBoard => b.kind === 'serial')!;
			await assert.rejects(runFlashJob(source, fc, image('STM32F7X2', 100 * KiB), {reboot: false}), (error: unknown) => {
				assert.ok(error instanceof FcflashError);
				assert.equal(error.exitCode, 3);
				assert.match(error.message, /--no-reboot/);
				return true;
			});
			assert.deepEqual((await source.list()).map((b) => b.kind), ['dfu', 'serial'], 'the FC was not rebooted');
		} finally {
			await source.close();
		}
	});

	it('an image too big for the board fails before the confirmation', async () => {
		const source = new SimulatedSource('stm32f411', {timeScale: 0});
		try {
			const [dfu] = await source.list();
			let asked = false;
			await assert.rejects(
				runFlashJob(source, dfu!, image('STM32F411', 700 * KiB), {confirm: async () => (asked = true)}),
				(error: unknown) => error instanceof FcflashError && error.exitCode === 2 && /0x08080000/.test(error.message),
			);
			assert.equal(asked, false);
		} finally {
			await source.close();
		}
	});
});

/**
 * SimulatedSource has no read-protected board, so this is a one-board source around an emulated
 * bootloader with the readProtected fault; like a real chip it comes back in DFU after a reset.
 */
class ProtectedBoardSource implements BoardSource {
	readonly core = new EmulatedBootloader(profiles.stm32f405, {timeScale: 0, faults: {readProtected: true}, flash: new Uint8Array(1024 * KiB).fill(0x42)});
	readonly reasons: DisconnectReason[] = [];
	readonly board: DfuBoard = {kind: 'dfu', id: 'PROT1', vendorId: 0x0483, productId: 0xdf11, name: 'STM32 BOOTLOADER', serialNumber: this.core.serialNumber};
	constructor() {
		this.core.on('disconnect', (reason) => {
			this.reasons.push(reason);
			if (reason === 'unprotect') setTimeout(() => this.core.reset(), 30);
		});
	}
	async list(): Promise<Board[]> {
		return this.core.connected ? [this.board] : [];
	}
	async openDfu(): Promise<EmulatedUsbDevice> {
		return new EmulatedUsbDevice(this.core);
	}
}

describe('runFlashJob on a read-protected chip', () => {
	it('without unprotect: ReadProtectedError, the chip untouched', async () => {
		const source = new ProtectedBoardSource();
		const trace: TraceEntry[] = [];
		await assert.rejects(runFlashJob(source, source.board, image('STM32F405', 200 * KiB), {trace: (e) => trace.push(e)}), ReadProtectedError);
		assert.equal(source.core.readProtected, true);
		assert.ok(source.core.flash.every((b) => b === 0x42), 'flash unchanged');
		assert.deepEqual(source.reasons, []);
		assert.equal(trace.filter((e) => e.dir === 'out' && e.request === Request.DNLOAD && e.length > 5).length, 0);
	});

	// Regression: the read-protection probe leaves the ROM in dfuERROR (errVENDOR after the stalled
	// UPLOAD); the unprotect's 0x92 DNLOAD must come after a CLRSTATUS or the ROM stalls it.
	it('with unprotect: wipes the chip, waits for it to come back and flashes it', async () => {
		const source = new ProtectedBoardSource();
		const img = image('STM32F405', 200 * KiB);
		const info: string[] = [];
		const result = await runFlashJob(source, source.board, img, {unprotect: true, waitMs: 5000, onInfo: (l) => info.push(l)});
		assert.equal(source.core.readProtected, false);
		assert.deepEqual(source.reasons, ['unprotect', 'leave']);
		assert.match(info.join('\n'), /wipes the whole chip/);
		assert.equal(result.verified, true);
		assertHolds(source.core.flash, img);
		// The unprotect wiped everything, including the config sector the image leaves alone.
		assert.ok(source.core.flash.subarray(0x4000, 0x8000).every((b) => b === 0xff), 'config sector wiped by the unprotect');
		assert.ok(source.core.flash.subarray(0x40000).every((b) => b === 0xff), 'past the image wiped');
	});
});
