// The load loop. Nothing is erased before the whole image has been checked against the layout
// (planFlash) and read protection has been probed. Then, per touched sector:
//   smart (default): compare first (compare.ts), erase only the sectors that need it, write only
//     the blocks that are blank and should hold data;
//   rewrite: erase every touched sector and write it, skipping 0xFF blocks (the plain path);
//   fullErase: mass erase, then write skipping 0xFF blocks.
// Verify reads back every sector that was erased or written; leave starts the firmware.
import type {FirmwareImage} from '../firmware/image.js';
import {compareSectors} from './compare.js';
import {eraseAll, eraseSectors, type EraseMode, type EraseReport} from './erase.js';
import {leaveAddress, startFirmware} from './leave.js';
import {planFlash, sectorTargets} from './plan.js';
import {PhaseClock, type Progress} from './progress.js';
import {abort, ensureIdle, upload} from './requests.js';
import {setAddress} from './dfuse.js';
import type {DfuTarget} from './target.js';
import {verifySectors} from './verify.js';
import {checkCancelled, dataWindows, sendBytes, type LoadContext, type SectorWork} from './work.js';
import {tally, writeSectors} from './write.js';

export type {Phase, Progress} from './progress.js';
export type {EraseMode, EraseReport} from './erase.js';
export {leaveAddress, startFirmware} from './leave.js';

export interface FlashOptions {
	/** Mass erase the whole chip first (settings are lost). */
	fullErase?: boolean;
	/** Erase and write every touched sector without comparing first (the plain path, --rewrite). */
	rewrite?: boolean;
	/** Read back and compare (default true). */
	verify?: boolean;
	/** Start the firmware at the end (default true). */
	leave?: boolean;
	signal?: AbortSignal;
	onProgress?: (progress: Progress) => void;
}

export interface FlashResult {
	erase: EraseReport;
	/** Bytes actually sent. */
	written: number;
	/** Bytes of blocks that are 0xFF throughout: never sent. */
	skipped: number;
	/** Bytes of blocks not sent because the flash already held them (smart flash). */
	kept: number;
	verified: boolean;
	left: boolean;
	/** Stuck-busy recoveries (H7 CLRSTATUS) whose outcome was read back and dealt with. */
	recoveries: number;
	durationMs: number;
}

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
	const targets = sectorTargets(image, plan.sectors, target.transferSize);
	const ctx: LoadContext = {target, signal: options.signal, onProgress: options.onProgress, recoveries: 0, erased: new Set()};

	checkCancelled(ctx, 'compare');
	await ensureIdle(target);
	checkCancelled(ctx, 'compare');
	await checkReadProtection(target, image.low);

	let works: SectorWork[];
	let mode: EraseMode = 'sectors';
	let mass: {sectors: number; bytes: number} | undefined;
	if (options.fullErase) {
		const erased = await eraseAll(ctx);
		mode = erased.mode;
		mass = erased;
		works = targets.map((t) => ({target: t, mode: 'erase', sends: dataWindows(t)}));
	} else if (options.rewrite) {
		works = targets.map((t) => ({target: t, mode: 'erase', sends: dataWindows(t)}));
	} else {
		works = await compareSectors(ctx, targets);
	}
	if (!options.fullErase) await eraseSectors(ctx, works.filter((w) => w.mode === 'erase').map((w) => w.target.sector));

	const written = await writeSectors(ctx, works, works.reduce((n, w) => n + sendBytes(w.sends), 0));

	let verified = false;
	if (options.verify !== false) {
		await verifySectors(ctx, works.filter((w) => w.mode !== 'unchanged'));
		verified = true;
	}
	let left = false;
	if (options.leave !== false) {
		checkCancelled(ctx, 'leave');
		const clock = new PhaseClock('leave', 1, options.onProgress);
		clock.report(0);
		await startFirmware(target, leaveAddress(target.flash, image));
		clock.report(1);
		left = true;
	}
	const erasedBytes = [...ctx.erased].reduce((n, s) => n + s.size, 0);
	const erase: EraseReport = {
		mode,
		sectors: mass ? mass.sectors : ctx.erased.size,
		bytes: mass ? mass.bytes : erasedBytes,
		unchanged: works.filter((w) => w.mode === 'unchanged').length,
		blank: works.filter((w) => w.mode === 'blank').length,
	};
	return {erase, ...tally(works, written), verified, left, recoveries: ctx.recoveries, durationMs: Math.round(performance.now() - started)};
}
