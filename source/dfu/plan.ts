// The flash plan: check the whole image against the target's memory layout before anything is
// erased, work out which sectors the image touches (a sector no segment touches is never erased:
// Betaflight keeps its settings in such a gap), and cut what is written into blocks.
//
// Blocks are wTransferSize windows counted from each sector's start, so no block spans two sectors
// and every decision (compare, skip, write, read back) is about whole blocks. The target content of a
// touched sector is the image's bytes and 0xFF elsewhere: exactly what erase-then-write leaves.
import {FitError} from '../errors.js';
import {hex32} from '../format.js';
import type {FirmwareImage, Segment} from '../firmware/image.js';
import {isBlank} from './bytes.js';
import {layoutSize, type MemoryLayout, type Sector} from './layout.js';

export interface FlashPlan {
	/** Sectors the image touches, in address order. */
	sectors: Sector[];
	eraseBytes: number;
}

/** The part of one write run that falls inside one window; sent as one DNLOAD. */
export interface Piece {
	address: number;
	data: Uint8Array;
}

/** A window of a touched sector that the image writes to. Windows not listed are 0xFF throughout. */
export interface Window {
	start: number;
	length: number;
	pieces: Piece[];
	/** Every piece is 0xFF: the target is blank, nothing is ever sent for it. */
	blank: boolean;
}

export interface SectorTarget {
	sector: Sector;
	/** Windows holding image bytes, in address order. */
	windows: Window[];
	/** wTransferSize: the window size. */
	size: number;
}

/**
 * The contiguous runs to write, aligned to `align` bytes and padded with 0xFF. H7 programs 32-byte
 * flash words with ECC and refuses to program a word twice, so a block must never start or end
 * inside a word that a neighbouring block also writes. Padding only lands in sectors the image
 * already touches (words never straddle sectors); 0xFF programs nothing.
 */
export function writeRuns(segments: readonly Segment[], align = 32): Segment[] {
	const runs: Array<{start: number; end: number; parts: Segment[]}> = [];
	for (const segment of segments) {
		const start = Math.floor(segment.address / align) * align;
		const end = Math.ceil((segment.address + segment.data.length) / align) * align;
		const last = runs.at(-1);
		if (last && start <= last.end) {
			last.end = Math.max(last.end, end);
			last.parts.push(segment);
		} else {
			runs.push({start, end, parts: [segment]});
		}
	}
	return runs.map((run) => {
		const first = run.parts[0]!;
		if (run.parts.length === 1 && first.address === run.start && first.data.length === run.end - run.start) return first;
		const data = new Uint8Array(run.end - run.start).fill(0xff);
		for (const part of run.parts) data.set(part.data, part.address - run.start);
		return {address: run.start, data};
	});
}

export function planFlash(image: FirmwareImage, layout: MemoryLayout): FlashPlan {
	const sorted = [...layout.sectors].sort((a, b) => a.start - b.start);
	const touched = new Set<Sector>();
	for (const segment of image.segments) {
		const end = segment.address + segment.data.length;
		let at = segment.address;
		// Walk the segment sector by sector; the first address without a writable sector is the error.
		while (at < end) {
			const sector = sorted.find((s) => at >= s.start && at < s.start + s.size);
			if (!sector) {
				const size = layoutSize(layout);
				throw new FitError(
					at,
					`The image does not fit this board: ${hex32(at)} is outside "${layout.name}" ` +
						`(${hex32(sorted[0]!.start)}-${hex32(sorted.at(-1)!.start + sorted.at(-1)!.size - 1)}, ${Math.round(size / 1024)} KiB). Nothing was erased.`,
				);
			}
			if (!sector.writable || !sector.erasable) {
				throw new FitError(at, `The image writes to ${hex32(at)}, in a sector this board does not allow to be ${sector.writable ? 'erased' : 'written'}. Nothing was erased.`);
			}
			touched.add(sector);
			at = Math.min(end, sector.start + sector.size);
		}
	}
	const sectors = sorted.filter((s) => touched.has(s));
	return {sectors, eraseBytes: sectors.reduce((n, s) => n + s.size, 0)};
}


/** Cut the image's write runs into pieces per window of each touched sector. */
export function sectorTargets(image: FirmwareImage, sectors: readonly Sector[], size: number): SectorTarget[] {
	const targets = sectors.map((sector) => ({sector, windows: [] as Window[], size}));
	const runs = writeRuns(image.segments);
	let s = 0;
	for (const run of runs) {
		const end = run.address + run.data.length;
		for (let at = run.address; at < end; ) {
			while (s < targets.length && targets[s]!.sector.start + targets[s]!.sector.size <= at) s++;
			// planFlash checked every byte lies in a touched sector; padding stays inside them too.
			const target = targets[s]!;
			const {sector} = target;
			const windowStart = sector.start + Math.floor((at - sector.start) / size) * size;
			const windowEnd = Math.min(windowStart + size, sector.start + sector.size);
			const pieceEnd = Math.min(end, windowEnd);
			const data = run.data.subarray(at - run.address, pieceEnd - run.address);
			let window = target.windows.at(-1);
			if (!window || window.start !== windowStart) {
				window = {start: windowStart, length: windowEnd - windowStart, pieces: [], blank: true};
				target.windows.push(window);
			}
			window.pieces.push({address: at, data});
			if (window.blank && !isBlank(data)) window.blank = false;
			at = pieceEnd;
		}
	}
	return targets;
}

/** What a window must read after erase-then-write: the image's bytes, 0xFF elsewhere. */
export function windowTarget(window: Window): Uint8Array {
	const out = new Uint8Array(window.length).fill(0xff);
	for (const piece of window.pieces) out.set(piece.data, piece.address - window.start);
	return out;
}

/** Every window of a sector, in address order: listed ones with their pieces, the rest blank. */
export function* sectorWindows(target: SectorTarget): Generator<Window> {
	const {sector, size} = target;
	let next = 0;
	for (let start = sector.start; start < sector.start + sector.size; start += size) {
		const listed = target.windows[next];
		if (listed && listed.start === start) {
			next++;
			yield listed;
		} else {
			yield {start, length: Math.min(size, sector.start + sector.size - start), pieces: [], blank: true};
		}
	}
}
