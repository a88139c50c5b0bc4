// Engine tests: openDfuTarget + flashImage driven against the emulated STM32 ROM bootloader.
// Every test looks at what actually reached the (emulated) device: its flash contents, the DFU
// requests on the wire and the events it raised, not just what the engine says it did.
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {Command, pollUntilIdle, readUnprotect, setAddress} from '../source/dfu/dfuse.js';
import {flashImage} from '../source/dfu/flash.js';
import {planFlash} from '../source/dfu/plan.js';
import {abort, dnload, ensureIdle, getStatus, Request, State, Status, upload} from '../source/dfu/requests.js';
import {openDfuTarget} from '../source/dfu/target.js';
import {controlOut} from '../source/dfu/transfer.js';
import {
	CancelledError,
	DeviceGoneError,
	DfuStatusError,
	FitError,
	ReadProtectedError,
	TransferError,
	VerifyError,
} from '../source/errors.js';
import {DfuState} from '../source/emulator/index.js';
import type {FirmwareImage} from '../source/firmware/image.js';
import {betaflightLikeImage, fullImage, prng} from '../scripts/synthetic-firmware.js';
import {
	assertFlashHolds,
	assertRange,
	CLASS_OUT,
	commands,
	CONFIG_SECTOR,
	FLASH,
	firstDiff,
	flashSize,
	image,
	isDataDnload,
	isDnload,
	isGetStatus,
	isUpload,
	KiB,
	pattern,
	phasesInOrder,
	rig,
} from './helpers/engine-rig.js';

/** 0xFF bytes in whole transfer-size chunks, per segment, as the engine chunks them. */
function expectedSkipped(img: FirmwareImage, size: number): number {
	let skipped = 0;
	for (const s of img.segments) {
		for (let o = 0; o < s.data.length; o += size) {
			const chunk = s.data.subarray(o, o + size);
			if (chunk.every((b) => b === 0xff)) skipped += chunk.length;
		}
	}
	return skipped;
}

// --- the Betaflight-like F405 flash --------------------------------------------------------------

describe('flashImage: Betaflight-like image on an STM32F405', () => {
	it('writes every segment, keeps the config sector and the sectors past the image, erases only touched sectors', async () => {
		const before = pattern(flashSize('stm32f405'));
		const r = await rig('stm32f405', {flash: before.slice()});
		const img = image(betaflightLikeImage({bytes: 660 * KiB}));
		assert.equal(img.segments.length, 2, 'fixture: two segments around the config sector');
		const result = await flashImage(r.target, img, {onProgress: r.onProgress});
		const flash = r.dev.bootloader.flash;

		assertFlashHolds(flash, img.segments);
		assertRange(flash, CONFIG_SECTOR.start, CONFIG_SECTOR.end, before, 'config sector');
		// 0x08008000 + 644 KiB ends at 0x080A9000, inside sector 9 (0x080A0000-0x080BFFFF).
		assertRange(flash, 0x080c0000, FLASH + flash.length, before, 'sectors past the image');
		// The rest of the last touched sector was erased (it held the pattern).
		assert.ok(flash.subarray(0x080a9000 - FLASH, 0x080c0000 - FLASH).every((b) => b === 0xff), 'tail of sector 9 is erased');

		const touched = [0x08000000, 0x08008000, 0x0800c000, 0x08010000, 0x08020000, 0x08040000, 0x08060000, 0x08080000, 0x080a0000];
		const bytes = 3 * 16 * KiB + 64 * KiB + 5 * 128 * KiB;
		assert.deepEqual(result.erase, {mode: 'sectors', sectors: touched.length, bytes, unchanged: 0, blank: 0});
		assert.deepEqual(commands(r.log, Command.ERASE), touched, 'one erase command per touched sector, in order');

		// Skipped 0xFF blocks: reported, never sent, and the flash is still right (checked above).
		const skipped = expectedSkipped(img, r.target.transferSize);
		assert.ok(skipped > 0, 'fixture has erased blocks');
		assert.equal(result.skipped, skipped);
		const sent = r.log.filter(isDataDnload).reduce((n, e) => n + e.data!.length, 0);
		assert.equal(result.written, sent, 'written = bytes actually DNLOADed');
		assert.equal(result.written + result.skipped, img.bytes);
		assert.ok(r.log.filter(isDataDnload).every((e) => e.data!.some((b) => b !== 0xff)), 'no all-0xFF block was sent');

		// One set-address for the whole write: block N lands at pointer + (N - 2) * 2048, and the code
		// segment starts on that grid (0x08008000 is block 18), so the config-sector gap just skips numbers.
		assert.deepEqual(commands(r.log, Command.SET_ADDRESS, 'write'), [FLASH]);
		const blocks = r.log.filter(isDataDnload).map((e) => e.value);
		assert.equal(blocks[8], 18, 'first block of the code segment');
		assert.equal(result.verified, true);
		assert.equal(result.left, true);
		assert.equal(result.recoveries, 0);
		assert.ok(result.durationMs >= 0);
	});

	it('plans the same sectors it erases (planFlash agrees with the layout)', async () => {
		const r = await rig('stm32f405');
		const img = image(betaflightLikeImage({bytes: 200 * KiB}));
		const plan = planFlash(img, r.target.flash);
		// 0x08008000 + 184 KiB = 0x08036000: sectors 0, 2, 3, 4, 5.
		assert.deepEqual(plan.sectors.map((s) => s.start), [0x08000000, 0x08008000, 0x0800c000, 0x08010000, 0x08020000]);
		assert.equal(plan.eraseBytes, 3 * 16 * KiB + 64 * KiB + 128 * KiB);
		// rewrite: the plain path erases every touched sector, even on a blank board.
		const result = await flashImage(r.target, img, {leave: false, rewrite: true});
		assert.deepEqual(result.erase, {mode: 'sectors', sectors: 5, bytes: plan.eraseBytes, unchanged: 0, blank: 0});
		assert.deepEqual(commands(r.log, Command.ERASE), plan.sectors.map((s) => s.start));
		assert.equal(result.left, false);
		assert.deepEqual(r.disconnects, [], 'leave: false keeps the board in DFU');
	});
});

// --- full erase ---------------------------------------------------------------------------------

describe('flashImage: fullErase', () => {
	it('mass-erases (the config sector is wiped) and reports mode mass', async () => {
		const r = await rig('stm32f405', {flash: pattern(flashSize('stm32f405'))});
		const img = image(betaflightLikeImage({bytes: 100 * KiB}));
		const result = await flashImage(r.target, img, {fullErase: true});
		const flash = r.dev.bootloader.flash;
		assert.deepEqual(result.erase, {mode: 'mass', sectors: 12, bytes: 1024 * KiB, unchanged: 0, blank: 0});
		assert.deepEqual(commands(r.log, Command.ERASE), [undefined], 'exactly one mass erase command (0x41 without address)');
		assertFlashHolds(flash, img.segments);
		assert.ok(flash.subarray(CONFIG_SECTOR.start - FLASH, CONFIG_SECTOR.end - FLASH).every((b) => b === 0xff), 'config sector wiped');
		assert.ok(flash.subarray(0x08020000 - FLASH).every((b) => b === 0xff), 'everything past the image wiped');
		assert.equal(result.verified, true);
	});

	it('keeps polling a mass erase that takes far longer than its reported poll timeout', async () => {
		// 8 s mass erase scaled to 300 ms; the ROM keeps reporting 100 ms scaled to 3.75 ms.
		const scale = 300 / 8000;
		const r = await rig('stm32f405', {timeScale: scale, flash: pattern(flashSize('stm32f405'))});
		const img = image(fullImage(16 * KiB));
		const started = performance.now();
		let eraseDoneAt = 0;
		const result = await flashImage(r.target, img, {
			fullErase: true,
			onProgress: (p) => {
				r.onProgress(p);
				if (p.phase === 'erase' && p.done === p.total && p.done > 0) eraseDoneAt = performance.now();
			},
		});
		assert.equal(result.erase.mode, 'mass');
		assert.ok(eraseDoneAt - started >= 290, `erase phase took ${Math.round(eraseDoneAt - started)} ms, the erase takes 300 ms`);
		const polls = r.log.filter((e) => e.phase === 'erase' && isGetStatus(e));
		assert.ok(polls.length > 5, `polled ${polls.length} times at the reported ~4 ms interval`);
		assert.ok(polls.length < 300, `polled ${polls.length} times: that is busy-polling`);
		assertFlashHolds(r.dev.bootloader.flash, img.segments);
		assert.ok(r.dev.bootloader.flash.subarray(16 * KiB).every((b) => b === 0xff));
	});

	it('falls back to erasing every sector when the mass erase fails', async () => {
		const r = await rig('stm32f405', {faults: {massEraseFails: true}, flash: pattern(flashSize('stm32f405'))});
		const img = image(betaflightLikeImage({bytes: 100 * KiB}));
		const result = await flashImage(r.target, img, {fullErase: true});
		assert.deepEqual(result.erase, {mode: 'sectors-fallback', sectors: 12, bytes: 1024 * KiB, unchanged: 0, blank: 0});
		const erases = commands(r.log, Command.ERASE);
		assert.equal(erases[0], undefined, 'tried the mass erase first');
		assert.deepEqual(erases.slice(1), r.target.flash.sectors.map((s) => s.start));
		const flash = r.dev.bootloader.flash;
		assertFlashHolds(flash, img.segments);
		assert.ok(flash.subarray(CONFIG_SECTOR.start - FLASH, CONFIG_SECTOR.end - FLASH).every((b) => b === 0xff));
		assert.equal(result.verified, true);
	});
});

// --- nothing is touched when the image does not fit ------------------------------------------------

describe('planFlash / FitError', () => {
	it('refuses a 1 MiB image on a 512 KiB F411 before any request reaches the device', async () => {
		const before = pattern(flashSize('stm32f411'));
		const r = await rig('stm32f411', {flash: before.slice()});
		const opened = r.log.length;
		const img = image(fullImage(1024 * KiB));
		await assert.rejects(flashImage(r.target, img), (error: unknown) => {
			assert.ok(error instanceof FitError, `got ${String(error)}`);
			assert.equal(error.address, 0x08080000);
			assert.match(error.message, /0x08080000/);
			assert.equal(error.exitCode, 2);
			return true;
		});
		assert.equal(r.log.slice(opened).filter(isDnload).length, 0, 'no DNLOAD (erase or data) was sent');
		assert.equal(firstDiff(r.dev.bootloader.flash, before), -1, 'flash unchanged');
	});

	it('names the first address outside the flash for an image at a non-flash address', async () => {
		const r = await rig('stm32f405');
		const opened = r.log.length;
		const img = image([
			{address: FLASH, data: pattern(4 * KiB)},
			{address: 0x20000000, data: pattern(1 * KiB)},
		]);
		await assert.rejects(flashImage(r.target, img), (error: unknown) => {
			assert.ok(error instanceof FitError);
			assert.equal(error.address, 0x20000000);
			assert.match(error.message, /0x20000000/);
			return true;
		});
		assert.equal(r.log.slice(opened).filter(isDnload).length, 0);
		assert.ok(r.dev.bootloader.flash.every((b) => b === 0xff));
	});

	it('refuses a sector that is not writable or erasable, naming the address', () => {
		const layout = {name: 'X', sectors: [
			{start: FLASH, size: 16 * KiB, readable: true, erasable: true, writable: true},
			{start: FLASH + 16 * KiB, size: 16 * KiB, readable: true, erasable: false, writable: false},
		]};
		assert.throws(() => planFlash(image([{address: FLASH + 8 * KiB, data: pattern(16 * KiB)}]), layout), (error: unknown) => {
			assert.ok(error instanceof FitError);
			assert.equal(error.address, FLASH + 16 * KiB);
			assert.match(error.message, /0x08004000/);
			return true;
		});
	});
});

// --- verify ---------------------------------------------------------------------------------------

describe('flashImage: verify', () => {
	it('reports the corrupted address as a VerifyError', async () => {
		const img = image(betaflightLikeImage({bytes: 100 * KiB}));
		const bad = 0x08008000 + 5000;
		const r = await rig('stm32f405', {faults: {corruptUploadAt: bad}});
		await assert.rejects(flashImage(r.target, img, {onProgress: r.onProgress}), (error: unknown) => {
			assert.ok(error instanceof VerifyError, `got ${String(error)}`);
			assert.equal(error.address, bad);
			const expected = img.segments[1]!.data[5000]!;
			assert.equal(error.expected, expected);
			assert.equal(error.actual, expected ^ 0x01);
			assert.match(error.message, /0x08009388/);
			return true;
		});
		assert.deepEqual(r.disconnects, [], 'no leave after a failed verify');
		assertFlashHolds(r.dev.bootloader.flash, img.segments);
	});

	it('verify: false with rewrite reads nothing back after the read-protection probe', async () => {
		const img = image(betaflightLikeImage({bytes: 100 * KiB}));
		const r = await rig('stm32f405');
		const result = await flashImage(r.target, img, {verify: false, rewrite: true, onProgress: r.onProgress});
		assert.equal(result.verified, false);
		const uploads = r.log.filter(isUpload);
		// The only UPLOAD is the 4-byte RDP probe made before the erase.
		assert.equal(uploads.length, 1);
		assert.equal(uploads[0]!.length, 4);
		assert.equal(uploads[0]!.phase, 'open');
		assert.ok(!r.progress.some((p) => p.phase === 'verify'), 'no verify progress');
		assertFlashHolds(r.dev.bootloader.flash, img.segments);
	});
});

// --- device errors --------------------------------------------------------------------------------

describe('flashImage: device failures', () => {
	it('a failing write is a DfuStatusError naming errWRITE', async () => {
		const r = await rig('stm32f405', {faults: {writeErrorAt: 0x08008000 + 10 * KiB}});
		await assert.rejects(flashImage(r.target, image(betaflightLikeImage({bytes: 100 * KiB}))), (error: unknown) => {
			assert.ok(error instanceof DfuStatusError, `got ${String(error)}`);
			assert.equal(error.status, Status.errWRITE);
			assert.match(error.message, /errWRITE/);
			assert.match(error.message, /0x0?800A800/i, 'names the block that failed');
			assert.equal(error.exitCode, 1);
			return true;
		});
	});

	it('a failing erase is a DfuStatusError naming errERASE, and nothing is written', async () => {
		const r = await rig('stm32f405', {faults: {eraseErrorAt: 0x08010000}});
		await assert.rejects(flashImage(r.target, image(betaflightLikeImage({bytes: 100 * KiB})), {rewrite: true}), (error: unknown) => {
			assert.ok(error instanceof DfuStatusError, `got ${String(error)}`);
			assert.equal(error.status, Status.errERASE);
			assert.match(error.message, /errERASE/);
			assert.match(error.message, /0x0?8010000/i);
			return true;
		});
		assert.equal(r.log.filter(isDataDnload).length, 0);
		assert.deepEqual(commands(r.log, Command.ERASE), [0x08000000, 0x08008000, 0x0800c000, 0x08010000], 'stopped at the failing sector');
	});

	it('a board that vanishes mid-write is a DeviceGoneError (exit 1, hint device-gone)', async () => {
		const r = await rig('stm32f405', {faults: {disconnectAfterBytes: 40 * KiB}});
		await assert.rejects(flashImage(r.target, image(betaflightLikeImage({bytes: 100 * KiB}))), (error: unknown) => {
			assert.ok(error instanceof DeviceGoneError, `got ${String(error)}`);
			assert.equal(error.exitCode, 1);
			assert.equal(error.hint, 'device-gone');
			return true;
		});
		assert.deepEqual(r.disconnects, ['fault']);
	});

	it('a stalled request ends the flash with a clear error instead of hanging', async () => {
		// Find the session-relative number of the 10th data DNLOAD on a clean run, then stall it.
		const img = image(betaflightLikeImage({bytes: 100 * KiB}));
		const clean = await rig('stm32f405');
		await flashImage(clean.target, img, {leave: false, verify: false});
		// The session starts at open(); open() itself makes no control request.
		const index = clean.log.findIndex((e, i) => isDataDnload(e) && clean.log.slice(0, i + 1).filter(isDataDnload).length === 10);
		assert.ok(index > 0);
		const r = await rig('stm32f405', {faults: {stallOnRequest: index + 1}});
		const started = performance.now();
		await assert.rejects(flashImage(r.target, img), (error: unknown) => {
			assert.ok(error instanceof DfuStatusError, `got ${String(error)}`);
			assert.match(error.message, /refused DNLOAD block/);
			assert.match(error.message, /errSTALLEDPKT/);
			return true;
		});
		assert.ok(performance.now() - started < 3000, 'failed promptly');
		const stalled = r.log.findIndex((e) => e.status === 'stall');
		assert.equal(stalled, index, 'the stalled request was that DNLOAD');
		assert.equal(r.log.slice(stalled + 1).filter(isDnload).length, 0, 'no DNLOAD after the stall');
	});

	it('a stalled GETSTATUS is a TransferError, not a hang', async () => {
		const r0 = await rig('stm32f405');
		await flashImage(r0.target, image(fullImage(8 * KiB)), {leave: false, verify: false, onProgress: r0.onProgress});
		const index = r0.log.findIndex((e) => isGetStatus(e) && e.phase === 'write');
		const r = await rig('stm32f405', {faults: {stallOnRequest: index + 1}});
		await assert.rejects(flashImage(r.target, image(fullImage(8 * KiB))), (error: unknown) => {
			assert.ok(error instanceof TransferError, `got ${String(error)}`);
			assert.match(error.message, /stalled GETSTATUS/);
			return true;
		});
	});

	it('a read-protected chip fails with ReadProtectedError before any erase', async () => {
		const before = pattern(flashSize('stm32f405'));
		const r = await rig('stm32f405', {faults: {readProtected: true}, flash: before.slice()});
		await assert.rejects(flashImage(r.target, image(betaflightLikeImage({bytes: 100 * KiB}))), (error: unknown) => {
			assert.ok(error instanceof ReadProtectedError, `got ${String(error)}`);
			assert.equal(error.hint, 'read-protect');
			return true;
		});
		assert.deepEqual(commands(r.log, Command.ERASE), [], 'no erase command');
		assert.equal(r.log.filter(isDataDnload).length, 0);
		assert.equal(firstDiff(r.dev.bootloader.flash, before), -1);
		assert.equal(r.dev.bootloader.readProtected, true);
	});

	// Regression: the RDP probe leaves the ROM in dfuERROR; readUnprotect must leave it (CLRSTATUS)
	// before its DNLOAD, which the ROM would otherwise stall.
	it('readUnprotect works right after flashImage refused a read-protected chip', async () => {
		const r = await rig('stm32f405', {faults: {readProtected: true}, flash: pattern(flashSize('stm32f405'))});
		await assert.rejects(flashImage(r.target, image(fullImage(8 * KiB))), ReadProtectedError);
		await readUnprotect(r.target);
		assert.equal(r.dev.bootloader.readProtected, false);
		assert.deepEqual(r.disconnects, ['unprotect']);
		assert.ok(r.dev.bootloader.flash.every((b) => b === 0xff));
	});

	it('readUnprotect on a ROM that answers dfuDNBUSY through its wipe: a stop is taken between polls, with what the chip does meanwhile', async () => {
		const r = await rig('stm32f405', {faults: {readProtected: true, unprotectStaysBusy: true}, timeScale: 1, flash: pattern(flashSize('stm32f405'))});
		const stop = new AbortController();
		setTimeout(() => stop.abort(), 300);
		const started = performance.now();
		await assert.rejects(readUnprotect(r.target, {signal: stop.signal, cancelledMessage: 'stopped mid-wipe'}), (error: unknown) => error instanceof CancelledError && /stopped mid-wipe/.test(error.message));
		assert.ok(performance.now() - started < 2000, `stopped after ${Math.round(performance.now() - started)} ms of an 8 s wipe`);
	});

	it('readUnprotect wipes the chip, clears RDP and the board resets (reason unprotect)', async () => {
		const r = await rig('stm32f405', {faults: {readProtected: true}, flash: pattern(flashSize('stm32f405'))});
		await readUnprotect(r.target);
		const bl = r.dev.bootloader;
		assert.equal(bl.readProtected, false);
		assert.ok(bl.flash.every((b) => b === 0xff), 'flash wiped');
		assert.deepEqual(r.disconnects, ['unprotect']);
		assert.deepEqual(commands(r.log, Command.READ_UNPROTECT), [undefined]);
		// After the reset the chip is flashable.
		bl.reset();
		const again = await openDfuTarget(r.dev);
		const img = image(betaflightLikeImage({bytes: 64 * KiB}));
		const result = await flashImage(again, img);
		assert.equal(result.verified, true);
		assertFlashHolds(bl.flash, img.segments);
	});
});

// --- H7 ---------------------------------------------------------------------------------------------

describe('flashImage: STM32H743', () => {
	it('recovers a write stuck in dfuDNBUSY with CLRSTATUS and still flashes correctly', async () => {
		// Bank 2 at 0x08100000; writes reaching past 0x08101800 stay busy: the last two 1 KiB blocks.
		const data = new Uint8Array(8 * KiB);
		const next = prng(3);
		for (let i = 0; i < data.length; i++) data[i] = next() & 0xff;
		const img = image([{address: 0x08100000, data}]);
		const r = await rig('stm32h743', {faults: {stuckBusy: {at: 0x08101800, op: 'write', outcome: 'done', every: true}}});
		assert.equal(r.target.transferSize, 1024);
		const result = await flashImage(r.target, img, {onProgress: r.onProgress});
		assert.equal(result.recoveries, 2);
		assert.equal(result.verified, true);
		assertFlashHolds(r.dev.bootloader.flash, img.segments);
		const clears = r.log.filter((e) => e.phase === 'write' && e.type === CLASS_OUT && e.request === Request.CLRSTATUS);
		assert.ok(clears.length >= 2, `${clears.length} CLRSTATUS during write`);
	});

	it('erases before writing, so a second, different image flashes over the first (ECC words refuse re-programming)', async () => {
		const first = image(fullImage(64 * KiB, 11));
		const second = image(fullImage(64 * KiB, 12));
		const r = await rig('stm32h743');
		await flashImage(r.target, first);
		const bl = r.dev.bootloader;
		assertFlashHolds(bl.flash, first.segments);
		assert.deepEqual(r.disconnects, ['leave']);

		// Without an erase the H7 refuses: programming a word that is not erased fails with errPROG.
		bl.reset();
		let target = await openDfuTarget(r.dev);
		await setAddress(target, FLASH);
		await dnload(target, 2, second.segments[0]!.data.subarray(0, 1024));
		await assert.rejects(pollUntilIdle(target, 'raw write', {kind: 'write'}), (error: unknown) => {
			assert.ok(error instanceof DfuStatusError);
			assert.equal(error.status, Status.errPROG);
			return true;
		});
		assertFlashHolds(bl.flash, first.segments);

		// The engine erases first, so it succeeds.
		bl.reset();
		target = await openDfuTarget(r.dev);
		const result = await flashImage(target, second);
		assert.equal(result.verified, true);
		assertFlashHolds(bl.flash, second.segments);
		assert.deepEqual(result.erase, {mode: 'sectors', sectors: 1, bytes: 128 * KiB, unchanged: 0, blank: 0});
	});
});

describe('flashImage: STM32H743 flash-word alignment', () => {
	// H7 programs 32-byte ECC flash words and pads a partial word with 0xFF; a word can be programmed
	// once. A segment that does not start on a 32-byte boundary puts every later block boundary inside
	// a word the previous block already programmed; two segments sharing a word do the same.
	it('flashes a segment that starts off a 32-byte boundary', async () => {
		const data = new Uint8Array(4 * KiB);
		const next = prng(9);
		for (let i = 0; i < data.length; i++) data[i] = next() & 0xff;
		const img = image([{address: 0x08000008, data}]);
		const r = await rig('stm32h743');
		const result = await flashImage(r.target, img);
		assert.equal(result.verified, true);
		assertFlashHolds(r.dev.bootloader.flash, img.segments);
	});

	it('flashes two segments that share a flash word', async () => {
		const img = image([
			{address: FLASH, data: pattern(40)},
			{address: FLASH + 0x30, data: pattern(64, 3)},
		]);
		const r = await rig('stm32h743');
		const result = await flashImage(r.target, img);
		assert.equal(result.verified, true);
		assertFlashHolds(r.dev.bootloader.flash, img.segments);
	});
});

// --- cancellation -------------------------------------------------------------------------------------

describe('flashImage: cancellation', () => {
	it('stops at the next block boundary after the signal is aborted mid-write', async () => {
		const r = await rig('stm32f405');
		const controller = new AbortController();
		let abortedAt = -1;
		const img = image(betaflightLikeImage({bytes: 200 * KiB}));
		await assert.rejects(
			flashImage(r.target, img, {
				signal: controller.signal,
				onProgress: (p) => {
					r.onProgress(p);
					if (p.phase === 'write' && p.done >= 64 * KiB && !controller.signal.aborted) {
						controller.abort();
						abortedAt = r.log.length;
					}
				},
			}),
			(error: unknown) => {
				assert.ok(error instanceof CancelledError, `got ${String(error)}`);
				assert.equal(error.exitCode, 130);
				return true;
			},
		);
		assert.ok(abortedAt > 0, 'aborted during the write');
		assert.equal(r.log.slice(abortedAt).filter(isDnload).length, 0, 'no DNLOAD after the abort');
		const sent = r.log.filter(isDataDnload).reduce((n, e) => n + e.data!.length, 0);
		assert.ok(sent > 0 && sent < img.bytes);
		assert.deepEqual(r.disconnects, [], 'still in the bootloader');
	});

	it('an already-aborted signal sends nothing that changes the flash', async () => {
		const r = await rig('stm32f405');
		const controller = new AbortController();
		controller.abort();
		await assert.rejects(flashImage(r.target, image(fullImage(8 * KiB)), {signal: controller.signal}), CancelledError);
		assert.equal(r.log.filter(isDnload).length, 0);
	});
});

// --- progress and leave -------------------------------------------------------------------------------

describe('flashImage: progress and leave', () => {
	it('reports compare, erase, write, verify, leave in order, monotonic, ending at the total', async () => {
		// Old firmware on the board: every touched sector differs at its first block.
		const r = await rig('stm32f405', {flash: pattern(flashSize('stm32f405'))});
		const img = image(betaflightLikeImage({bytes: 200 * KiB}));
		await flashImage(r.target, img, {onProgress: r.onProgress});
		assert.deepEqual(phasesInOrder(r.progress), ['compare', 'erase', 'write', 'verify', 'leave']);
		// Verify reads back every erased sector in full (a lost erase under a skipped 0xFF block shows).
		const totals: Record<string, number> = {compare: 240 * KiB, erase: 240 * KiB, write: img.bytes - expectedSkipped(img, 2048), verify: 240 * KiB, leave: 1};
		assert.equal(r.log.filter((e) => e.phase === 'compare' && isUpload(e)).length, 5, 'one block per sector told the compare it must erase');
		for (const phase of ['compare', 'erase', 'write', 'verify', 'leave'] as const) {
			const events = r.progress.filter((p) => p.phase === phase);
			assert.equal(events[0]!.done, 0, `${phase} starts at 0`);
			assert.equal(events.at(-1)!.done, totals[phase], `${phase} ends at its total`);
			for (const [i, p] of events.entries()) {
				assert.equal(p.total, totals[phase], `${phase} total`);
				if (i > 0) assert.ok(p.done >= events[i - 1]!.done, `${phase} done went backwards`);
				assert.ok(p.done <= p.total);
				assert.ok(Number.isFinite(p.rate) && p.rate >= 0);
			}
		}
		// One write event per block sent, after the first; 0xFF blocks are never sent.
		const blocks = (16 * KiB + 184 * KiB) / 2048;
		assert.equal(r.progress.filter((p) => p.phase === 'write').length, 1 + blocks - expectedSkipped(img, 2048) / 2048);
	});

	it('leaves with a zero-length DNLOAD at the vector table (image.low), and the board resets', async () => {
		const r = await rig('stm32f405');
		const img = image(betaflightLikeImage({bytes: 100 * KiB}));
		const result = await flashImage(r.target, img, {onProgress: r.onProgress});
		assert.equal(result.left, true);
		assert.deepEqual(r.disconnects, ['leave']);
		assert.deepEqual(r.resets, [img.low]);
		assert.equal(r.dev.bootloader.addressPointer, FLASH);
		const dn = r.log.filter(isDnload);
		const last = dn.at(-1)!;
		assert.equal(last.length, 0, 'the last DNLOAD is zero-length');
		assert.equal(last.value, 0);
		const setAddr = dn.at(-2)!;
		assert.deepEqual([setAddr.data?.[0], new DataView(setAddr.data!.buffer).getUint32(1, true)], [Command.SET_ADDRESS, img.low]);
		assert.equal(r.dev.bootloader.connected, false);
	});
});

// --- requests: ensureIdle and poll timing ----------------------------------------------------------

describe('ensureIdle', () => {
	it('leaves dfuERROR with CLRSTATUS', async () => {
		const r = await rig('stm32f405');
		// An OUT UPLOAD is a protocol error: the ROM stalls and enters dfuERROR.
		assert.equal(await controlOut(r.target, Request.UPLOAD, 0), false);
		assert.equal(r.dev.bootloader.state, DfuState.dfuERROR);
		const from = r.log.length;
		await ensureIdle(r.target);
		assert.equal(r.dev.bootloader.state, DfuState.dfuIDLE);
		assert.deepEqual(r.log.slice(from).map((e) => e.request), [Request.GETSTATUS, Request.CLRSTATUS, Request.GETSTATUS]);
	});

	it('leaves dfuDNLOAD-IDLE with ABORT', async () => {
		const r = await rig('stm32f405');
		await setAddress(r.target, 0x08010000);
		assert.equal(r.dev.bootloader.state, DfuState.dfuDNLOAD_IDLE);
		const from = r.log.length;
		await ensureIdle(r.target);
		assert.equal(r.dev.bootloader.state, DfuState.dfuIDLE);
		assert.deepEqual(r.log.slice(from).map((e) => e.request), [Request.GETSTATUS, Request.ABORT, Request.GETSTATUS]);
		assert.equal(r.dev.bootloader.addressPointer, 0x08010000, 'ABORT keeps the pointer');
	});

	it('leaves dfuUPLOAD-IDLE with ABORT', async () => {
		const r = await rig('stm32f405');
		await setAddress(r.target, FLASH);
		await abort(r.target);
		const data = await upload(r.target, 2, 64);
		assert.equal(data.length, 64);
		assert.equal(r.dev.bootloader.state, DfuState.dfuUPLOAD_IDLE);
		const from = r.log.length;
		await ensureIdle(r.target);
		assert.equal(r.dev.bootloader.state, DfuState.dfuIDLE);
		assert.deepEqual(r.log.slice(from).map((e) => e.request), [Request.GETSTATUS, Request.ABORT, Request.GETSTATUS]);
	});

	it('is a single GETSTATUS when already idle', async () => {
		const r = await rig('stm32f405');
		const from = r.log.length;
		await ensureIdle(r.target);
		assert.deepEqual(r.log.slice(from).map((e) => e.request), [Request.GETSTATUS]);
		const s = await getStatus(r.target);
		assert.deepEqual([s.status, s.state], [Status.OK, State.dfuIDLE]);
	});
});

describe('poll timing', () => {
	it('sleeps the reported bwPollTimeout instead of busy-polling (timeScale 1)', async () => {
		const r = await rig('stm32f405', {timeScale: 1});
		const img = image(fullImage(8 * KiB, 5));
		const started = performance.now();
		let eraseEnd = 0;
		await flashImage(r.target, img, {
			leave: false,
			rewrite: true,
			onProgress: (p) => {
				r.onProgress(p);
				if (p.phase === 'erase' && p.done === p.total && p.total > 0) eraseEnd = performance.now();
			},
		});
		// A 16 KiB sector erase takes 350 ms on the emulated ROM.
		assert.ok(eraseEnd - started >= 340, `erase took ${Math.round(eraseEnd - started)} ms`);
		const erasePolls = r.log.filter((e) => e.phase === 'erase' && isGetStatus(e)).length;
		assert.ok(erasePolls <= 3, `${erasePolls} GETSTATUS for one 350 ms erase`);

		// Per data block: the GETSTATUS requests between it and the next DNLOAD.
		const write = r.log.filter((e) => e.phase === 'write');
		const perBlock: number[] = [];
		for (const [i, e] of write.entries()) {
			if (!isDataDnload(e)) continue;
			let n = 0;
			for (let j = i + 1; j < write.length && !isDnload(write[j]!); j++) if (isGetStatus(write[j]!)) n++;
			perBlock.push(n);
		}
		assert.equal(perBlock.length, 4);
		assert.ok(perBlock.every((n) => n >= 2 && n <= 3), `GETSTATUS per block: ${perBlock.join(',')}`);
		assertFlashHolds(r.dev.bootloader.flash, img.segments);
	});
});
