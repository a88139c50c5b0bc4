// The flash plan: check the whole image against the target's memory layout before anything is
// erased, and work out which sectors the image touches. A sector no segment touches is never erased
// (Betaflight keeps its settings in such a gap).
import {FitError, hex32} from '../errors.js';
import type {FirmwareImage} from '../firmware/image.js';
import {layoutSize, type MemoryLayout, type Sector} from './layout.js';

export interface FlashPlan {
	/** Sectors the image touches, in address order. */
	sectors: Sector[];
	eraseBytes: number;
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
