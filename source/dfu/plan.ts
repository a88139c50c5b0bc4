// The flash plan: check the whole image against the target's memory layout before anything is
// erased, and work out which sectors the image touches. A sector no segment touches is never erased
// (Betaflight keeps its settings in such a gap).
import {FitError} from '../errors.js';
import {hex32} from '../format.js';
import type {FirmwareImage, Segment} from '../firmware/image.js';
import {layoutSize, type MemoryLayout, type Sector} from './layout.js';

export interface FlashPlan {
	/** Sectors the image touches, in address order. */
	sectors: Sector[];
	eraseBytes: number;
}

/**
 * The contiguous runs to write, aligned to `align` bytes and padded with 0xFF. H7 programs 32-byte
 * flash words with ECC and refuses to program a word twice, so a block must never start or end
 * inside a word that a neighbouring block also writes. Padding only lands in sectors the image
 * already touches (words never straddle sectors), which are erased first; 0xFF programs nothing.
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
