// DfuSe memory layout strings, as the ST ROM puts them in each alternate setting's iInterface:
//   @Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg
//   @Option Bytes  /0x1FFFC000/01*016 e/0x1FFEC000/01*016 e
// Grammar (dfu-util dfuse_mem.c): '@' name, then one or more groups '/0xADDR/' followed by
// comma-separated 'N*SIZE[unit]type' where unit is ' ', 'K' or 'M' and type 'a'..'g' is a bit mask:
// bit0 readable, bit1 erasable, bit2 writable.

export interface Sector {
	start: number;
	size: number;
	readable: boolean;
	erasable: boolean;
	writable: boolean;
}

export interface MemoryLayout {
	name: string;
	sectors: Sector[];
}

export class LayoutError extends Error {
	override name = 'LayoutError';
}

export function parseLayout(text: string): MemoryLayout {
	const trimmed = text.trim();
	if (!trimmed.startsWith('@')) throw new LayoutError(`Not a DfuSe layout: "${text}"`);
	const parts = trimmed.slice(1).split('/');
	const name = parts[0]!.trim();
	const sectors: Sector[] = [];
	if (parts.length < 3) throw new LayoutError(`Layout "${text}" has no address group`);
	for (let i = 1; i + 1 < parts.length; i += 2) {
		const addrText = parts[i]!.trim();
		if (!/^0x[0-9a-f]+$/i.test(addrText)) throw new LayoutError(`Layout "${text}": bad address "${addrText}"`);
		let address = Number.parseInt(addrText, 16);
		for (const spec of parts[i + 1]!.split(',')) {
			const m = /^\s*(\d+)\s*\*\s*(\d+)\s*([ KMB]?)\s*([a-g])\s*$/.exec(spec);
			if (!m) throw new LayoutError(`Layout "${text}": bad sector group "${spec}"`);
			const count = Number(m[1]);
			const unit = m[3] === 'K' ? 1024 : m[3] === 'M' ? 1024 * 1024 : 1;
			const size = Number(m[2]) * unit;
			const type = m[4]!.charCodeAt(0) - 'a'.charCodeAt(0) + 1;
			for (let n = 0; n < count; n++) {
				sectors.push({start: address, size, readable: (type & 1) !== 0, erasable: (type & 2) !== 0, writable: (type & 4) !== 0});
				address += size;
			}
		}
	}
	if (sectors.length === 0) throw new LayoutError(`Layout "${text}" has no sectors`);
	return {name, sectors};
}

export function findSector(layout: MemoryLayout, address: number): Sector | undefined {
	// Layouts are short (<= a few dozen sectors); a linear scan is clearer than a search.
	return layout.sectors.find((s) => address >= s.start && address < s.start + s.size);
}

export function layoutSize(layout: MemoryLayout): number {
	return layout.sectors.reduce((sum, s) => sum + s.size, 0);
}

/** Contiguous address ranges covered by the layout, merged. */
export function layoutRanges(layout: MemoryLayout): Array<{start: number; end: number}> {
	const ranges: Array<{start: number; end: number}> = [];
	for (const s of [...layout.sectors].sort((a, b) => a.start - b.start)) {
		const last = ranges.at(-1);
		if (last && last.end === s.start) last.end = s.start + s.size;
		else ranges.push({start: s.start, end: s.start + s.size});
	}
	return ranges;
}
