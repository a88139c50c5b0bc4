// Memory behind one alternate setting. Main flash behaves like NOR flash: erased bytes read 0xFF and
// programming can only clear bits (old AND new), so an image written over an un-erased sector reads
// back wrong, exactly the bug a host that skips an erase would cause on silicon. H7-style flash
// programs whole ECC-protected words instead and refuses to re-program a word that is not erased.
import {findSector, layoutRanges, parseLayout, type MemoryLayout, type Sector} from '../dfu/layout.js';
import {DfuStatus, type DfuStatusCode} from './protocol.js';

/** How programming combines with existing contents: NOR AND, ECC flash word, or plain memory. */
export type ProgramMode = 'and' | 'word' | 'replace';

export interface MemoryRange {
	start: number;
	bytes: Uint8Array;
}

export class AltMemory {
	readonly layout: MemoryLayout;
	/** One buffer per contiguous address range of the layout (option bytes may have two). */
	readonly ranges: MemoryRange[];
	/**
	 * Bytes programmed where the flash was not erased (0xFF): silicon-legal on F4 (bits AND) but what
	 * a host that never programs a word twice must never do. H7 words refuse it (errPROG).
	 */
	reprogrammedBytes = 0;

	constructor(
		layoutText: string,
		readonly mode: ProgramMode,
		/** Flash word size in bytes for mode 'word'. */
		readonly flashWord = 32,
	) {
		this.layout = parseLayout(layoutText);
		this.ranges = layoutRanges(this.layout).map(({start, end}) => ({start, bytes: new Uint8Array(end - start).fill(0xff)}));
	}

	get start(): number {
		return this.ranges[0]!.start;
	}

	get size(): number {
		return this.ranges.reduce((sum, r) => sum + r.bytes.length, 0);
	}

	sectorAt(address: number): Sector | undefined {
		return findSector(this.layout, address);
	}

	private locate(address: number): {range: MemoryRange; offset: number} | undefined {
		for (const range of this.ranges) {
			const offset = address - range.start;
			if (offset >= 0 && offset < range.bytes.length) return {range, offset};
		}
		return undefined;
	}

	/** True when every byte of [address, address + length) lies in sectors with this property. */
	covers(address: number, length: number, property: 'readable' | 'erasable' | 'writable'): boolean {
		let at = address;
		const end = address + length;
		while (at < end) {
			const sector = this.sectorAt(at);
			if (!sector || !sector[property]) return false;
			at = sector.start + sector.size;
		}
		return true;
	}

	byteAt(address: number): number | undefined {
		const hit = this.locate(address);
		return hit ? hit.range.bytes[hit.offset] : undefined;
	}

	setByte(address: number, value: number): void {
		const hit = this.locate(address);
		if (hit) hit.range.bytes[hit.offset] = value;
	}

	/** Load initial contents at the start of the first range. */
	load(data: ArrayLike<number>): void {
		const bytes = this.ranges[0]!.bytes;
		bytes.set(data instanceof Uint8Array ? data.subarray(0, bytes.length) : Array.from(data).slice(0, bytes.length));
	}

	/**
	 * Up to `length` bytes from `address`, stopping early at the end of readable memory (a short
	 * read, which ends a DFU upload). Undefined when `address` itself is not readable.
	 */
	read(address: number, length: number): Uint8Array | undefined {
		const hit = this.locate(address);
		if (!hit || !this.sectorAt(address)?.readable) return undefined;
		let end = address;
		const limit = Math.min(address + length, hit.range.start + hit.range.bytes.length);
		while (end < limit) {
			const sector = this.sectorAt(end);
			if (!sector?.readable) break;
			end = Math.min(sector.start + sector.size, limit);
		}
		return hit.range.bytes.slice(hit.offset, hit.offset + (end - address));
	}

	/**
	 * Program `data` at `address`. The caller has checked the range is writable. `failAt` (an
	 * address) makes the write stop there with errWRITE, like a worn-out flash cell.
	 */
	program(address: number, data: Uint8Array, failAt?: number): DfuStatusCode {
		const hit = this.locate(address);
		if (!hit || hit.offset + data.length > hit.range.bytes.length) return DfuStatus.errADDRESS;
		const bytes = hit.range.bytes;
		const failOffset = failAt !== undefined && failAt >= address && failAt < address + data.length ? failAt - address : -1;
		const count = failOffset >= 0 ? failOffset : data.length;
		if (this.mode === 'word') {
			const status = this.programWords(bytes, hit.offset, data.subarray(0, count));
			if (status !== DfuStatus.OK) return status;
		} else if (this.mode === 'and') {
			for (let i = 0; i < count; i++) {
				if (bytes[hit.offset + i] !== 0xff) this.reprogrammedBytes++;
				bytes[hit.offset + i]! &= data[i]!;
			}
		} else {
			bytes.set(data.subarray(0, count), hit.offset);
		}
		return failOffset >= 0 ? DfuStatus.errWRITE : DfuStatus.OK;
	}

	/**
	 * ECC flash: each word touched must still be erased; the bytes of the word the data does not
	 * cover stay 0xFF (padding), and the word can then never be programmed again until erased.
	 */
	private programWords(bytes: Uint8Array, offset: number, data: Uint8Array): DfuStatusCode {
		const word = this.flashWord;
		const end = offset + data.length;
		for (let wordStart = offset - (offset % word); wordStart < end; wordStart += word) {
			for (let i = wordStart; i < wordStart + word; i++) {
				if (bytes[i] !== 0xff) return DfuStatus.errPROG;
			}
			for (let i = Math.max(wordStart, offset); i < Math.min(wordStart + word, end); i++) bytes[i] = data[i - offset]!;
		}
		return DfuStatus.OK;
	}

	erase(sector: Sector): void {
		const hit = this.locate(sector.start);
		if (hit) hit.range.bytes.fill(0xff, hit.offset, hit.offset + sector.size);
	}

	eraseAll(): void {
		for (const range of this.ranges) range.bytes.fill(0xff);
	}
}
