// Erasing: the sectors a flash needs, or the whole chip (mass erase, with sector erase as the
// fallback for clones that refuse it). An erase recovered from a stuck dfuDNBUSY (H7) is never
// trusted for skipping 0xFF blocks until it has been read back blank; one that did not happen is
// erased again, a bounded number of times.
import {CancelledError, DeviceGoneError, DfuStatusError, NotErasedError, ReadProtectedError, StuckBusyError, TransferError} from '../errors.js';
import {eraseSector, massErase} from './dfuse.js';
import type {Sector} from './layout.js';
import {PhaseClock} from './progress.js';
import {readMemory} from './read.js';
import {ensureIdle} from './requests.js';
import {checkCancelled, isBlank, type LoadContext} from './work.js';

export type EraseMode = 'sectors' | 'mass' | 'sectors-fallback';

export interface EraseReport {
	mode: EraseMode;
	/** Sectors erased. */
	sectors: number;
	/** Bytes erased. */
	bytes: number;
	/** Touched sectors that already held their target: neither erased nor written. */
	unchanged: number;
	/** Touched sectors written without an erase (their blocks were right or blank). */
	blank: number;
}

/** Erases of one sector allowed before a sector that will not read back blank is an error. */
const maxErasesPerSector = 3;

/** The first byte of the sector that is not 0xFF, read back block by block; undefined when blank. */
async function firstDirty(ctx: LoadContext, sector: Sector): Promise<{address: number; value: number} | undefined> {
	let dirty: {address: number; value: number} | undefined;
	await readMemory(
		ctx.target,
		sector.start,
		sector.size,
		(at, bytes) => {
			if (isBlank(bytes)) return true;
			const i = bytes.findIndex((b) => b !== 0xff);
			dirty = {address: at + i, value: bytes[i]!};
			return false;
		},
		{what: 'Reading back a recovered erase', beforeBlock: () => checkCancelled(ctx, 'erase')},
	);
	return dirty;
}

/** Erase one sector; a recovered (H7) erase is read back, and erased again until it is blank. */
export async function eraseChecked(ctx: LoadContext, sector: Sector): Promise<void> {
	let dirty: {address: number; value: number} | undefined;
	for (let attempt = 1; attempt <= maxErasesPerSector; attempt++) {
		const outcome = await eraseSector(ctx.target, sector.start);
		ctx.erased.add(sector);
		if (!outcome.recovered) return;
		ctx.recoveries++;
		dirty = await firstDirty(ctx, sector);
		if (!dirty) return;
		// It did not happen (or not all of it): erase again.
	}
	throw new NotErasedError(dirty!.address, dirty!.value, maxErasesPerSector);
}

export async function eraseSectors(ctx: LoadContext, sectors: readonly Sector[]): Promise<void> {
	if (sectors.length === 0) return;
	const clock = new PhaseClock('erase', sectors.reduce((n, s) => n + s.size, 0), ctx.onProgress);
	let done = 0;
	clock.report(0);
	for (const sector of sectors) {
		checkCancelled(ctx, 'erase');
		await eraseChecked(ctx, sector);
		done += sector.size;
		clock.report(done);
	}
}

const massEraseCancelled =
	'Interrupted during the mass erase: the chip goes on erasing itself, so its firmware and settings are gone or going. ' +
	'It stays in its ROM bootloader: flash again to finish.';

/** How often the mass erase, whose progress the device does not report, sends a timed event. */
const massEraseTickMs = 500;

/** The whole chip. Progress: elapsed and expected time at least once a second while it runs. */
export async function eraseAll(ctx: LoadContext): Promise<Omit<EraseReport, 'unchanged' | 'blank'>> {
	const all = ctx.target.flash.sectors.filter((s) => s.erasable);
	const total = all.reduce((n, s) => n + s.size, 0);
	const clock = new PhaseClock('erase', total, ctx.onProgress);
	const expectedMs = ctx.target.quirks.massEraseExpectedMs;
	checkCancelled(ctx, 'erase');
	const started = performance.now();
	const timing = () => ({elapsedMs: Math.round(performance.now() - started), expectedMs});
	clock.report(0, timing());
	const ticker = setInterval(() => clock.report(0, timing()), massEraseTickMs);
	try {
		await massErase(ctx.target, {signal: ctx.signal, cancelledMessage: massEraseCancelled});
		clock.report(total, timing());
		return {mode: 'mass', sectors: all.length, bytes: total};
	} catch (error) {
		if (error instanceof ReadProtectedError || error instanceof DeviceGoneError || error instanceof CancelledError || error instanceof StuckBusyError) throw error;
		if (!(error instanceof DfuStatusError || error instanceof TransferError)) throw error;
	} finally {
		clearInterval(ticker);
	}
	// Some clones refuse the mass erase: erase every sector instead, as dfu-util does.
	await ensureIdle(ctx.target);
	let done = 0;
	for (const sector of all) {
		checkCancelled(ctx, 'erase');
		await eraseChecked(ctx, sector);
		done += sector.size;
		clock.report(done);
	}
	return {mode: 'sectors-fallback', sectors: all.length, bytes: total};
}
