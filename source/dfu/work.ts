// What one flash does to each touched sector, decided by the compare (or by rewrite / full erase),
// and the state every phase of the load loop shares: the target, the options, the signal, and the
// recoveries that were checked.
import {CancelledError} from '../errors.js';
import type {Sector} from './layout.js';
import type {Phase, ProgressSink} from './progress.js';
import type {SectorTarget, Window} from './plan.js';
import type {DfuTarget} from './target.js';

/**
 * unchanged: every block already holds its target bytes (neither erased nor written);
 * blank: every block holds its target or is blank (written without an erase);
 * erase: erased, then every block with data written.
 */
export type SectorMode = 'unchanged' | 'blank' | 'erase';

export interface SectorWork {
	target: SectorTarget;
	mode: SectorMode;
	/** Windows to send, in address order. Every one of them is blank on the flash beforehand. */
	sends: Window[];
}

export interface LoadContext {
	target: DfuTarget;
	signal?: AbortSignal;
	onProgress?: ProgressSink;
	/** Stuck-busy recoveries whose outcome was read back and dealt with. */
	recoveries: number;
	/** Sectors erased in this run (sector erases; a mass erase counts apart). */
	erased: Set<Sector>;
}

/** Every window of the sector that holds image data: what erase-then-write sends. */
export function dataWindows(target: SectorTarget): Window[] {
	return target.windows.filter((w) => !w.blank);
}

export function sendBytes(windows: readonly Window[]): number {
	let n = 0;
	for (const w of windows) for (const p of w.pieces) n += p.data.length;
	return n;
}

const interrupted: Record<Phase, string> = {
	compare: 'Interrupted while comparing the flash: nothing was erased or written. The board is still in its ROM bootloader.',
	erase: 'Interrupted at a sector boundary: some sectors are erased, nothing is written yet. The board is still in its ROM bootloader: flash again to finish.',
	write: 'Interrupted at a block boundary: the image is partly written. The board is still in its ROM bootloader: flash again to finish.',
	verify: 'Interrupted during verify: the image is written but not all of it was read back. The board is still in its ROM bootloader: flash again to finish.',
	leave: 'Interrupted before the firmware was started. The board is still in its ROM bootloader: flash again, or run fcflash-tui leave.',
};

export function checkCancelled(ctx: LoadContext, phase: Phase): void {
	if (ctx.signal?.aborted) throw new CancelledError(interrupted[phase], {nothingWritten: phase === 'compare'});
}

export {isBlank, sameBytes} from './bytes.js';
