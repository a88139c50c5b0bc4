// Engine faults from issue #8 ("no fault that passes silently"): opening a board that is busy, not
// in DFU or in dfuERROR; descriptors the engine cannot work with; operations stuck in dfuDNBUSY on
// H7 (recovered and checked) and on every other chip (a typed error); block numbers that would pass
// 0xFFFF; cancellation during the mass erase; a refused leave. Each test looks at the wire and the
// emulated flash, not only at what the engine returns.
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {flashImage, leaveAddress, startFirmware} from '../source/dfu/flash.js';
import {readMainFlash, vectorTable} from '../source/dfu/read.js';
import {Command} from '../source/dfu/dfuse.js';
import {Status} from '../source/dfu/requests.js';
import {openDfuTarget} from '../source/dfu/target.js';
import {usbError, usbProblem} from '../source/devices/usb-errors.js';
import {DfuStatusError, FcflashError, UnstableReadError, VerifyError} from '../source/errors.js';
import {DfuState, type Faults, type ProfileName} from '../source/emulator/index.js';
import {fullImage, prng} from '../scripts/synthetic-firmware.js';
import {
	assertFlashHolds,
	commands,
	device,
	FLASH,
	image,
	isDataDnload,
	isDnload,
	isGetStatus,
	isUpload,
	KiB,
	pattern,
	rig,
} from './helpers/engine-rig.js';

const H7_BANK2 = 0x08100000;

function random(length: number, seed: number): Uint8Array {
	const next = prng(seed);
	return Uint8Array.from({length}, () => next() & 0xff);
}

/** The error is a typed FcflashError with this exit code (and hint, when given). */
function typed(exitCode: number, hint?: string, message?: RegExp) {
	return (error: unknown) => {
		assert.ok(error instanceof FcflashError, `not a typed error: ${String(error)}`);
		assert.equal(error.exitCode, exitCode, `exit code of: ${error.message}`);
		if (hint !== undefined) assert.equal(error.hint, hint, `hint of: ${error.message}`);
		if (message) assert.match(error.message, message);
		return true;
	};
}

// The groups are independent boards: run them side by side (several wait out real bounds).
describe('engine faults (#8)', {concurrency: true}, () => {
	describe('openDfuTarget: a board that cannot be used is refused, and closed', () => {
		it('another program holds the interface (LIBUSB_ERROR_BUSY): hint busy, exit 1', async () => {
			const {dev} = device('stm32f405', {faults: {claimBusy: true}});
			await assert.rejects(openDfuTarget(dev), typed(1, 'busy', /another program/i));
			assert.equal(dev.opened, false, 'the device was closed');
		});

		it('a board that answers appIDLE is not in DFU: hint boot-button', async () => {
			const {dev, log} = device('stm32f405', {faults: {openState: 'appIDLE'}});
			await assert.rejects(openDfuTarget(dev), typed(1, 'boot-button', /appIDLE/));
			assert.equal(dev.opened, false);
			assert.equal(log.filter(isDnload).length, 0);
		});

		it('a board in dfuERROR is brought back with CLRSTATUS and opens', async () => {
			const {dev} = device('stm32f405', {faults: {openState: 'dfuERROR'}});
			const target = await openDfuTarget(dev);
			assert.equal(dev.bootloader.state, DfuState.dfuIDLE);
			assert.equal(target.transferSize, 2048);
		});

		it('a board stuck in dfuDNBUSY: a bounded wait, then a clear error', {timeout: 15_000}, async () => {
			const {dev, log} = device('stm32f405', {faults: {openState: 'dfuDNBUSY'}});
			await assert.rejects(openDfuTarget(dev, {busyWaitMs: 300}), typed(1, 'stuck-busy', /dfuDNBUSY/));
			assert.equal(dev.opened, false);
			assert.ok(log.filter(isGetStatus).length < 200, `${log.filter(isGetStatus).length} GETSTATUS: polled at the reported interval`);
		});

		it('a failure while reading the descriptors closes the device', async () => {
			const {dev} = device('stm32f405', {faults: {stallOnRequest: 1}});
			await assert.rejects(openDfuTarget(dev), typed(1));
			assert.equal(dev.opened, false);
		});
	});

	describe('openDfuTarget: descriptors are checked before anything is sent', () => {
		const cases: Array<[string, ProfileName, Faults['descriptor'], RegExp]> = [
			['transfer size 0', 'stm32f405', {transferSize: 0}, /transfer size of 0 bytes/],
			// DFU allows 1, but a DfuSe command is a 5-byte DNLOAD, longer than the board accepts.
			['transfer size 1', 'stm32f405', {transferSize: 1}, /transfer size of 1 bytes[\s\S]*5/],
			['transfer size 8192', 'stm32f405', {transferSize: 8192}, /transfer size of 8192 bytes/],
			['no DFU functional descriptor', 'stm32f405', {functional: false}, /functional descriptor/i],
			['no writable sector in alt 0', 'stm32f405', {layout: '@Internal Flash  /0x08000000/04*016Ka,01*064Ka'}, /writable/i],
			['H7 transfer size off the 32-byte flash word', 'stm32h743', {transferSize: 1000}, /32/],
		];
		for (const [name, profile, descriptor, message] of cases) {
			it(`refuses ${name} (exit 1) and closes the device`, async () => {
				const {dev, log} = device(profile, {faults: {descriptor}});
				await assert.rejects(openDfuTarget(dev), typed(1, 'bad-descriptor', message));
				assert.equal(dev.opened, false);
				assert.equal(log.filter(isDnload).length, 0, 'nothing sent');
			});
		}

		it('transfer size 8: a run gets a new set-address before its block number passes 0xFFFF', {timeout: 60_000}, async () => {
			// One segment, mostly 0xFF: only its first and last blocks hold data, 65,600 blocks apart.
			const last = 65_600 * 8;
			const data = new Uint8Array(last + 8).fill(0xff);
			data.fill(0x11, 0, 8);
			data.fill(0x22, last, last + 8);
			const r = await rig('stm32f405', {faults: {descriptor: {transferSize: 8}}});
			const result = await flashImage(r.target, image([{address: FLASH, data}]), {verify: false, leave: false, onProgress: r.onProgress});
			const flash = r.dev.bootloader.flash;
			assert.deepEqual([flash[0], flash[7], flash[last], flash[last + 7]], [0x11, 0x11, 0x22, 0x22]);
			assert.ok(flash.subarray(8, last).every((b) => b === 0xff));
			const blocks = r.log.filter(isDataDnload).map((e) => e.value);
			assert.equal(blocks.length, 2);
			assert.ok(blocks.every((b) => b >= 2 && b <= 0xffff), `block numbers ${blocks.join(', ')}`);
			assert.equal(result.written, 16);
		});
	});

	describe('stuck in dfuDNBUSY on a chip that is not an H7: a bounded wait, then a typed error', {concurrency: true}, () => {
		for (const op of ['write', 'erase'] as const) {
			for (const outcome of ['done', 'lost'] as const) {
				it(`F405 ${op} stuck (${outcome}), verify off: never ok`, {timeout: 15_000}, async () => {
					const at = 0x08020000 + 4 * KiB;
					// Old firmware on the board, so the sector is erased.
					const r = await rig('stm32f405', {flash: pattern(1024 * KiB), faults: {stuckBusy: {at, op, outcome}}});
					const img = image([{address: 0x08020000, data: random(16 * KiB, 7)}]);
					await assert.rejects(flashImage(r.target, img, {verify: false}), typed(1, 'stuck-busy', /dfuDNBUSY/));
					assert.deepEqual(r.disconnects, [], 'no leave');
				});
			}
		}
	});

	describe('stuck in dfuDNBUSY on an STM32H7: recovered with CLRSTATUS, then checked', () => {
		const at = H7_BANK2 + 3 * KiB + 100;
		const img = () => image([{address: H7_BANK2, data: random(8 * KiB, 3)}]);
		const before = () => {
			const f = new Uint8Array(2048 * KiB).fill(0xff);
			f.set(pattern(128 * KiB), 0x100000);
			return f;
		};

		for (const verify of [true, false]) {
			for (const outcome of ['done', 'lost', 'partial'] as const) {
				it(`a write stuck (${outcome}), verify ${verify ? 'on' : 'off'}: ok, and the flash holds the image`, async () => {
					const r = await rig('stm32h743', {flash: before(), faults: {stuckBusy: {at, op: 'write', outcome}}});
					const result = await flashImage(r.target, img(), {verify, onProgress: r.onProgress});
					assertFlashHolds(r.dev.bootloader.flash, img().segments);
					assert.equal(result.recoveries, 1);
					assert.ok(r.log.some((e) => e.phase === 'write' && isUpload(e)), 'the block of unknown outcome was read back');
					const erases = commands(r.log, Command.ERASE);
					assert.deepEqual(erases, outcome === 'partial' ? [H7_BANK2, H7_BANK2] : [H7_BANK2], 'a garbled block costs its sector an erase');
				});
			}
			for (const outcome of ['done', 'lost'] as const) {
				it(`an erase stuck (${outcome}), verify ${verify ? 'on' : 'off'}: ok, and the flash holds the image`, async () => {
					const r = await rig('stm32h743', {flash: before(), faults: {stuckBusy: {at, op: 'erase', outcome}}});
					const result = await flashImage(r.target, img(), {verify, onProgress: r.onProgress});
					assertFlashHolds(r.dev.bootloader.flash, img().segments);
					assert.ok(r.dev.bootloader.flash.subarray(0x100000 + 8 * KiB, 0x120000).every((b) => b === 0xff), 'rest of the sector erased');
					assert.equal(result.recoveries, 1);
					assert.deepEqual(commands(r.log, Command.ERASE), outcome === 'lost' ? [H7_BANK2, H7_BANK2] : [H7_BANK2]);
				});
			}
			for (const op of ['write', 'erase'] as const) {
				it(`a ${op} stuck that failed, verify ${verify ? 'on' : 'off'}: the status after the recovery is an error`, async () => {
					const r = await rig('stm32h743', {flash: before(), faults: {stuckBusy: {at, op, outcome: 'failed'}}});
					await assert.rejects(flashImage(r.target, img(), {verify}), (error: unknown) => {
						assert.ok(error instanceof DfuStatusError, `got ${String(error)}`);
						assert.equal(error.status, op === 'write' ? Status.errWRITE : Status.errERASE);
						assert.match(error.message, /0x081/);
						return true;
					});
					assert.deepEqual(r.disconnects, []);
				});
			}
		}

		it('every block stuck: each recovers within a few polls of its expected end (counted, not timed)', async () => {
			const data = random(64 * KiB, 5);
			const r = await rig('stm32h743', {faults: {stuckBusy: {at: FLASH, op: 'write', outcome: 'done', every: true}}});
			const result = await flashImage(r.target, image([{address: FLASH, data}]), {verify: false, leave: false, onProgress: r.onProgress});
			assertFlashHolds(r.dev.bootloader.flash, [{address: FLASH, data}]);
			assert.equal(result.recoveries, 64);
			// GETSTATUS between each data block and the next DNLOAD.
			const write = r.log.filter((e) => e.phase === 'write');
			const polls: number[] = [];
			for (const [i, e] of write.entries()) {
				if (!isDataDnload(e)) continue;
				let n = 0;
				for (let j = i + 1; j < write.length && !isDnload(write[j]!); j++) if (isGetStatus(write[j]!)) n++;
				polls.push(n);
			}
			assert.equal(polls.length, 64);
			assert.ok(Math.max(...polls) <= 5, `GETSTATUS per stuck block: max ${Math.max(...polls)}`);
		});
	});

	describe('mass erase: progress the device does not report, and cancellation', {concurrency: true}, () => {
		it('sends elapsed and expected time at least once a second while the chip erases', {timeout: 20_000}, async () => {
			const r = await rig('stm32f405', {timeScale: 2600 / 8000});
			await flashImage(r.target, image(fullImage(16 * KiB)), {fullErase: true, verify: false, leave: false, onProgress: r.onProgress});
			const timed = r.progress.filter((p) => p.phase === 'erase' && p.elapsedMs !== undefined);
			assert.ok(timed.length >= 3, `${timed.length} timed events for a 2.6 s erase`);
			assert.ok(timed.every((p) => p.expectedMs === 8000));
			for (let i = 1; i < timed.length; i++) assert.ok(timed[i]!.elapsedMs! - timed[i - 1]!.elapsedMs! <= 1100, 'at least one a second');
			assert.ok(timed.at(-1)!.elapsedMs! >= 2500, 'the last one at the end of the erase');
		});

		it('honours the signal between polls: CancelledError saying the chip is erasing and to flash again', {timeout: 20_000}, async () => {
			const r = await rig('stm32f405', {timeScale: 3000 / 8000});
			const controller = new AbortController();
			let abortedAt = -1;
			setTimeout(() => {
				abortedAt = r.log.length;
				controller.abort();
			}, 300);
			await assert.rejects(
				flashImage(r.target, image(fullImage(16 * KiB)), {fullErase: true, signal: controller.signal, onProgress: r.onProgress}),
				typed(130, 'interrupted', /mass erase[\s\S]*flash again/i),
			);
			assert.ok(abortedAt > 0);
			assert.ok(r.log.slice(abortedAt).filter(isGetStatus).length <= 1, 'stopped polling at once');
		});
	});

	describe('leave: a refused leave is not a success', {concurrency: true}, () => {
		for (const leave of ['stall', 'error', 'no-reset'] as const) {
			it(`leave ${leave}: a typed error saying the board is still in DFU and how to start it`, {timeout: 15_000}, async () => {
				const r = await rig('stm32f405', {faults: {leave}});
				const img = image(fullImage(16 * KiB));
				await assert.rejects(flashImage(r.target, img, {onProgress: r.onProgress}), typed(1, 'still-in-dfu', /still in DFU[\s\S]*fcflash-tui leave/));
				assertFlashHolds(r.dev.bootloader.flash, img.segments);
				assert.equal(r.dev.bootloader.connected, true);
			});
		}

		it('startFirmware on a board that resets: resolves, and the board is gone', async () => {
			const r = await rig('stm32f405');
			await startFirmware(r.target, FLASH);
			assert.deepEqual(r.disconnects, ['leave']);
			assert.deepEqual(r.resets, [FLASH]);
		});
	});

	describe('reading back: the chip cannot checksum its flash, so reads are checked', () => {
		const contents = () => {
			const f = pattern(1024 * KiB, 9);
			f.fill(0xff, 512 * KiB);
			return f;
		};

		it('readMainFlash reads every block twice: an intermittent corruption is read again and heals', async () => {
			const r = await rig('stm32f405', {flash: contents(), faults: {corruptUpload: {at: FLASH + 300 * KiB + 5, reads: 1}}});
			const dump = await readMainFlash(r.target);
			assert.equal(dump.address, FLASH);
			assert.deepEqual(dump.data, contents());
			const uploads = r.log.filter(isUpload).length;
			assert.equal(uploads, 2 * 512 + 1, 'two passes over 512 blocks, one block read a third time');
		});

		it('readMainFlash refuses a read path that never gives the same bytes twice', async () => {
			const bad = FLASH + 700 * KiB + 1;
			const r = await rig('stm32f405', {flash: contents(), faults: {corruptUpload: {at: bad}}});
			await assert.rejects(readMainFlash(r.target), (error: unknown) => {
				assert.ok(error instanceof UnstableReadError, `got ${String(error)}`);
				assert.equal(error.exitCode, 1);
				assert.equal(error.hint, 'unstable-read');
				assert.match(error.message, /0x080AF000/);
				return true;
			});
		});

		it('verify reads a block that differs again: a glitch heals, a flash that is wrong stays a VerifyError', async () => {
			const img = image([{address: 0x08020000, data: random(32 * KiB, 4)}]);
			const glitch = await rig('stm32f405', {faults: {corruptUpload: {at: 0x08020000 + 100, reads: 1}}});
			const ok = await flashImage(glitch.target, img, {leave: false});
			assert.equal(ok.verified, true);
			const persistent = await rig('stm32f405', {faults: {corruptUpload: {at: 0x08020000 + 100}}});
			await assert.rejects(flashImage(persistent.target, img, {leave: false}), VerifyError);
		});

		it('vectorTable reads the 8 bytes at an address; undefined when read protection hides them', async () => {
			const f = contents();
			const r = await rig('stm32f405', {flash: f});
			assert.deepEqual(await vectorTable(r.target, FLASH), f.subarray(0, 8));
			const rdp = await rig('stm32f405', {flash: f, faults: {readProtected: true}});
			assert.equal(await vectorTable(rdp.target, FLASH), undefined);
			assert.equal(rdp.dev.bootloader.state, DfuState.dfuIDLE, 'left idle for what comes next');
		});
	});

	describe('leaveAddress: one start address for flash and leave', () => {
		it('the image\'s lowest address when there is an image, else the start of main flash', async () => {
			const r = await rig('stm32f405');
			assert.equal(leaveAddress(r.target.flash), FLASH);
			assert.equal(leaveAddress(r.target.flash, image([{address: 0x08008000, data: pattern(64)}, {address: 0x08020000, data: pattern(64)}])), 0x08008000);
			const flashed = await rig('stm32f405');
			await flashImage(flashed.target, image([{address: 0x08008000, data: pattern(4 * KiB)}]));
			assert.deepEqual(flashed.resets, [0x08008000]);
		});
	});

	describe('libusb errors', () => {
		it('an unknown libusb error is not a permission problem (only ACCESS/EACCES/EPERM are)', () => {
			const p = usbProblem(new Error('LIBUSB_ERROR_OTHER'));
			assert.notEqual(p.hint, 'udev');
			assert.notEqual(usbError(new Error('LIBUSB_ERROR_OTHER')).exitCode, 4);
			assert.equal(usbError(new Error('LIBUSB_ERROR_ACCESS')).exitCode, 4);
			assert.equal(usbError(new Error('open error: EPERM')).exitCode, 4);
		});
	});
});
