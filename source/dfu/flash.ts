// The load loop: erase what the image touches (or mass erase), write each contiguous run with one
// set-address and consecutive block numbers, read everything back, then leave into the firmware.
// Nothing is erased before the whole image has been checked against the layout (planFlash).
import {CancelledError, DeviceGoneError, DfuStatusError, FcflashError, ReadProtectedError, TransferError, VerifyError} from '../errors.js';
import {hex32} from '../format.js';
import type {FirmwareImage} from '../firmware/image.js';
import {eraseSector, massErase, setAddress} from './dfuse.js';
import {planFlash, writeRuns, type FlashPlan} from './plan.js';
import {abort, dnload, ensureIdle, getStatus, upload} from './requests.js';
import {pollUntilIdle} from './dfuse.js';
import {readMemory} from './upload.js';
import type {DfuTarget} from './target.js';
import {PhaseClock, type Progress} from './progress.js';

export type {Phase, Progress} from './progress.js';

export interface FlashOptions {
	fullErase?: boolean;
	/** Read back and compare (default true). */
	verify?: boolean;
	/** Start the firmware at the end (default true). */
	leave?: boolean;
	signal?: AbortSignal;
	onProgress?: (progress: Progress) => void;
}

export type EraseMode = 'sectors' | 'mass' | 'sectors-fallback';

export interface FlashResult {
	erase: {mode: EraseMode; sectors: number; bytes: number};
	/** Bytes actually sent. */
	written: number;
	/** Bytes left out because they were 0xFF in a freshly erased sector. */
	skipped: number;
	verified: boolean;
	left: boolean;
	/** H7 dfuDNBUSY recoveries (CLRSTATUS) during the run. */
	recoveries: number;
	durationMs: number;
}

function checkCancelled(signal?: AbortSignal) {
	if (signal?.aborted) throw new CancelledError('Interrupted at a block boundary. The board is still in its ROM bootloader: flash again to finish.');
}

const isErased = (bytes: Uint8Array) => bytes.every((b) => b === 0xff);

/**
 * Probe read protection before erasing: with RDP on, the ROM refuses to read flash (errVENDOR).
 * Costs four transfers and saves a confusing failure half-way.
 */
export async function checkReadProtection(target: DfuTarget, address: number): Promise<void> {
	await setAddress(target, address);
	await abort(target);
	await upload(target, 2, 4);
	await abort(target);
}

export async function flashImage(target: DfuTarget, image: FirmwareImage, options: FlashOptions = {}): Promise<FlashResult> {
	const started = performance.now();
	const plan = planFlash(image, target.flash);
	let recoveries = 0;
	const counted = async <T extends {recovered: boolean}>(p: Promise<T>) => {
		const r = await p;
		if (r.recovered) recoveries++;
		return r;
	};

	await ensureIdle(target);
	checkCancelled(options.signal);
	await checkReadProtection(target, image.low);

	const erase = await eraseFlash(target, plan, options, counted);
	const {written, skipped} = await writeImage(target, image, options, counted);
	let verified = false;
	if (options.verify !== false) {
		await verifyImage(target, image, options);
		verified = true;
	}
	let left = false;
	if (options.leave !== false) {
		await leave(target, image.low, options);
		left = true;
	}
	return {erase, written, skipped, verified, left, recoveries, durationMs: Math.round(performance.now() - started)};
}

type Counted = <T extends {recovered: boolean}>(p: Promise<T>) => Promise<T>;

async function eraseFlash(target: DfuTarget, plan: FlashPlan, options: FlashOptions, counted: Counted): Promise<FlashResult['erase']> {
	if (options.fullErase) {
		const all = target.flash.sectors.filter((s) => s.erasable);
		const total = all.reduce((n, s) => n + s.size, 0);
		const clock = new PhaseClock('erase', total, options.onProgress);
		clock.report(0);
		try {
			await massErase(target);
			clock.report(total);
			return {mode: 'mass', sectors: all.length, bytes: total};
		} catch (error) {
			if (error instanceof ReadProtectedError || error instanceof DeviceGoneError || error instanceof CancelledError) throw error;
			if (!(error instanceof DfuStatusError || error instanceof TransferError)) throw error;
			// Some clones refuse the mass erase: erase every sector instead, as dfu-util does.
			await ensureIdle(target);
			await eraseSectors(target, all, clock, options, counted);
			return {mode: 'sectors-fallback', sectors: all.length, bytes: total};
		}
	}
	const clock = new PhaseClock('erase', plan.eraseBytes, options.onProgress);
	clock.report(0);
	await eraseSectors(target, plan.sectors, clock, options, counted);
	return {mode: 'sectors', sectors: plan.sectors.length, bytes: plan.eraseBytes};
}

async function eraseSectors(target: DfuTarget, sectors: FlashPlan['sectors'], clock: PhaseClock, options: FlashOptions, counted: Counted) {
	let done = 0;
	for (const sector of sectors) {
		checkCancelled(options.signal);
		await counted(eraseSector(target, sector.start));
		done += sector.size;
		clock.report(done);
	}
}

async function writeImage(target: DfuTarget, image: FirmwareImage, options: FlashOptions, counted: Counted) {
	const size = target.transferSize;
	const runs = writeRuns(image.segments);
	const clock = new PhaseClock('write', runs.reduce((n, r) => n + r.data.length, 0), options.onProgress);
	let done = 0;
	let written = 0;
	let skipped = 0;
	clock.report(0);
	for (const segment of runs) {
		checkCancelled(options.signal);
		await counted(setAddress(target, segment.address));
		// Block N lands at pointer + (N - 2) * wTransferSize, so a skipped block needs no new address.
		for (let offset = 0, block = 2; offset < segment.data.length; offset += size, block++) {
			checkCancelled(options.signal);
			const chunk = segment.data.subarray(offset, offset + size);
			if (isErased(chunk)) {
				skipped += chunk.length;
			} else {
				await dnload(target, block, chunk);
				const outcome = await counted(pollUntilIdle(target, `Write at ${hex32(segment.address + offset)}`));
				written += chunk.length;
				if (outcome.recovered) {
					// CLRSTATUS put the device back in dfuIDLE; the pointer survives, so carry on.
				}
			}
			done += chunk.length;
			clock.report(done);
		}
	}
	return {written, skipped};
}

async function verifyImage(target: DfuTarget, image: FirmwareImage, options: FlashOptions) {
	const clock = new PhaseClock('verify', image.bytes, options.onProgress);
	let done = 0;
	clock.report(0);
	for (const segment of image.segments) {
		await readMemory(
			target,
			segment.address,
			segment.data.length,
			(at, actual) => {
				const offset = at - segment.address;
				for (let i = 0; i < actual.length; i++) {
					if (actual[i] !== segment.data[offset + i]) throw new VerifyError(at + i, segment.data[offset + i]!, actual[i]!);
				}
				done += actual.length;
				clock.report(done);
			},
			{what: 'Verify', beforeBlock: () => checkCancelled(options.signal)},
		);
	}
}

/** Set the pointer to the vector table and send a zero-length DNLOAD: the ROM jumps to the firmware. */
export async function startFirmware(target: DfuTarget, address: number): Promise<void> {
	await ensureIdle(target);
	await setAddress(target, address);
	try {
		await dnload(target, 0);
		// The device resets during (or instead of answering) this GETSTATUS: that is success.
		await getStatus(target);
	} catch (error) {
		if (!(error instanceof FcflashError)) throw error;
	}
}

async function leave(target: DfuTarget, address: number, options: FlashOptions) {
	const clock = new PhaseClock('leave', 1, options.onProgress);
	clock.report(0);
	await startFirmware(target, address);
	clock.report(1);
}
