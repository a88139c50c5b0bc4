// Intel HEX reader.
//
// Why our own single pass and not nrf-intel-hex's MemoryMap.fromHex (CONTRACT names it): both reasons
// are measured. (1) Speed: fromHex took 615 ms for a 1 MiB image on the dev box (a regex and a
// String.match per record); this pass takes ~20 ms, and the budget is well under 300 ms. (2) Errors:
// fromHex counts "records", not lines, and reports a partial overlap by address only, so every
// message would need a second pass anyway to name the line. nrf-intel-hex stays the peer the tests
// check this reader against (same segments for the same text), and intel-hex stays out: it pads gaps
// with 0xFF and lets a later record overwrite an earlier one.
//
// Decisions:
// - Gaps survive: only records that touch exactly are joined into one segment.
// - Overlapping records with different data are an error naming both lines. Identical duplicate
//   data is accepted (like srec_cat, which only warns about a "redundant" byte): the image is still
//   unambiguous, and some build tools emit the vector table twice.
// - Blank lines, trailing spaces, CRLF or LF and a UTF-8 BOM are accepted; anything but blank lines
//   after the EOF record is an error (a concatenated or damaged file).
// - Type 02 addresses are base + offset without 64 KiB wrap-around (no STM32 image relies on it).
import {FirmwareError} from '../errors.js';
import {hex32} from '../format.js';
import {makeImage, type FirmwareImage, type Segment} from './image.js';

const hexValue = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) hexValue[0x30 + c] = c;
for (let c = 0; c < 6; c++) {
	hexValue[0x41 + c] = 10 + c;
	hexValue[0x61 + c] = 10 + c;
}

const isBinaryByte = (b: number) => (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b >= 0x7f;
/** A byte as a message can show it: 'G', or a control character by name (never a raw CR or tab). */
const controlNames: Record<number, string> = {0x09: 'a tab', 0x0d: 'a carriage return (CR, old Mac line ends?)', 0x20: 'a space'};
const charName = (b: number) => controlNames[b] ?? (b > 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}'` : `byte 0x${b.toString(16).toUpperCase().padStart(2, '0')}`);
const hex2 = (n: number) => '0x' + n.toString(16).toUpperCase().padStart(2, '0');

export interface HexContent {
	segments: Segment[];
	/** Start address from a type 03 (CS*16+IP) or 05 record, else null. */
	start: number | null;
}

/** Parse Intel HEX text into segments; every error is a FirmwareError naming file:line. */
export function parseHexSegments(file: string, input: Uint8Array): HexContent {
	const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
	const n = buf.length;
	const fail = (line: number, detail: string): never => {
		throw new FirmwareError(file, detail, {line});
	};
	// Names the first byte on a line that is not a hex digit (binary data or a typo), if any.
	const checkDigits = (line: number, from: number, to: number, digits = true): void => {
		for (let p = from; p < to; p++) {
			const b = buf[p]!;
			if (isBinaryByte(b)) {
				fail(line, `binary data (byte ${hex2(b)}) in an Intel HEX file: this is not a text .hex file (a .bin renamed?)`);
			}
		}
		for (let p = from; p < to && digits; p++) {
			if (hexValue[buf[p]!]! < 0) fail(line, `${charName(buf[p]!)} at column ${p - lineStart + 1} is not a hex digit`);
		}
	};

	// Decoded data of all type 00 records, back to back, plus one entry per record.
	const out = new Uint8Array(n >> 1);
	let outLen = 0;
	const recAddr: number[] = [];
	const recOff: number[] = [];
	const recLen: number[] = [];
	const recLine: number[] = [];
	let ordered = true;
	let lastEnd = 0;

	const rec = new Uint8Array(261);
	let base = 0;
	let start: number | null = null;
	let eofLine = 0;
	let lastLine = 0;
	let line = 0;
	let lineStart = 0;
	let i = n >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;

	while (i < n) {
		line++;
		let eol = buf.indexOf(0x0a, i);
		if (eol === -1) eol = n;
		const next = eol + 1;
		let end = eol;
		while (end > i && (buf[end - 1] === 0x0d || buf[end - 1] === 0x20 || buf[end - 1] === 0x09)) end--;
		let from = i;
		lineStart = i;
		i = next;
		while (from < end && (buf[from] === 0x20 || buf[from] === 0x09)) from++;
		if (from === end) continue;
		lastLine = line;
		if (buf[from] !== 0x3a) {
			checkDigits(line, from, end, false);
			fail(line, `a record must start with ':'`);
		}
		if (eofLine) fail(line, `data after the EOF record on line ${eofLine}`);
		const digits = end - from - 1;
		if (digits > 2 * rec.length) {
			checkDigits(line, from + 1, end);
			fail(line, `record too long (${digits} hex digits)`);
		}
		let k = 0;
		let sum = 0;
		for (let p = from + 1; p + 1 < end; p += 2) {
			const hi = hexValue[buf[p]!]!;
			const lo = hexValue[buf[p + 1]!]!;
			if ((hi | lo) < 0) checkDigits(line, from + 1, end);
			const b = (hi << 4) | lo;
			rec[k++] = b;
			sum += b;
		}
		if (digits & 1) {
			checkDigits(line, from + 1, end);
			fail(line, `odd number of hex digits (${digits}): the record is cut short`);
		}
		if (k < 5) fail(line, `record too short (${k} bytes; at least 5)`);
		const length = rec[0]!;
		if (length + 5 !== k) fail(line, `record length says ${length} data bytes but the line holds ${k - 5}`);
		if ((sum & 0xff) !== 0) {
			const expected = (0x100 - ((sum - rec[k - 1]!) & 0xff)) & 0xff;
			fail(line, `bad checksum: the record says ${hex2(rec[k - 1]!)}, its bytes give ${hex2(expected)}`);
		}
		const type = rec[3]!;
		const offset = (rec[1]! << 8) | rec[2]!;
		const need = (size: number, what: string) => {
			if (length !== size) fail(line, `${what} record (type ${hex2(type)}) must hold ${size} data bytes, not ${length}`);
		};
		switch (type) {
			case 0x00: {
				if (length === 0) break;
				const address = base + offset;
				if (address + length > 0x1_0000_0000) fail(line, `data at ${hex32(address)} runs past the 32-bit address space`);
				if (address < lastEnd) ordered = false;
				lastEnd = address + length;
				recAddr.push(address);
				recOff.push(outLen);
				recLen.push(length);
				recLine.push(line);
				for (let j = 4; j < 4 + length; j++) out[outLen++] = rec[j]!;
				break;
			}
			case 0x01:
				need(0, 'EOF');
				eofLine = line;
				break;
			case 0x02:
				need(2, 'extended segment address');
				base = ((rec[4]! << 8) | rec[5]!) * 16;
				break;
			case 0x03:
				need(4, 'start segment address');
				start = ((rec[4]! << 8) | rec[5]!) * 16 + ((rec[6]! << 8) | rec[7]!);
				break;
			case 0x04:
				need(2, 'extended linear address');
				base = ((rec[4]! << 8) | rec[5]!) * 0x10000;
				break;
			case 0x05:
				need(4, 'start linear address');
				start = ((rec[4]! << 24) | (rec[5]! << 16) | (rec[6]! << 8) | rec[7]!) >>> 0;
				break;
			default:
				fail(line, `unknown record type ${hex2(type)} (Intel HEX has types 0x00-0x05)`);
		}
	}

	if (lastLine === 0) fail(1, 'empty file: no Intel HEX records');
	if (!eofLine) fail(lastLine, 'no EOF record (:00000001FF) after the last line: the file is truncated');

	const count = recAddr.length;
	const segments: Segment[] = [];
	if (ordered) {
		// The usual file: records ascending, so a run of touching records is one slice of `out`.
		let s = 0;
		for (let r = 1; r <= count; r++) {
			if (r === count || recAddr[r] !== recAddr[r - 1]! + recLen[r - 1]!) {
				segments.push({address: recAddr[s]!, data: out.slice(recOff[s]!, recOff[r - 1]! + recLen[r - 1]!)});
				s = r;
			}
		}
		return {segments, start};
	}

	// Records out of order or overlapping: sort by address (then line), find the extents of each
	// run, then copy record by record, comparing any byte that an earlier record already set.
	const order = Array.from({length: count}, (_, r) => r).sort((a, b) => recAddr[a]! - recAddr[b]! || recLine[a]! - recLine[b]!);
	let r = 0;
	while (r < count) {
		const first = r;
		const segStart = recAddr[order[r]!]!;
		let segEnd = segStart + recLen[order[r]!]!;
		r++;
		while (r < count && recAddr[order[r]!]! <= segEnd) {
			segEnd = Math.max(segEnd, recAddr[order[r]!]! + recLen[order[r]!]!);
			r++;
		}
		const data = new Uint8Array(segEnd - segStart);
		let written = segStart;
		for (let q = first; q < r; q++) {
			const x = order[q]!;
			const address = recAddr[x]!;
			const len = recLen[x]!;
			const overlap = Math.min(address + len, written) - address;
			for (let j = 0; j < overlap; j++) {
				if (out[recOff[x]! + j] !== data[address - segStart + j]) {
					const at = address + j;
					let other = x;
					for (let o = first; o < q; o++) {
						const y = order[o]!;
						if (recAddr[y]! <= at && at < recAddr[y]! + recLen[y]! && (other === x || recLine[y]! < recLine[other]!)) other = y;
					}
					const [lx, lo] = [recLine[x]!, recLine[other]!];
					fail(Math.max(lx, lo), `overlapping records with different data at ${hex32(at)}: line ${lo} has ${hex2(data[at - segStart]!)}, line ${lx} has ${hex2(out[recOff[x]! + j]!)}`);
				}
			}
			if (overlap < len) data.set(out.subarray(recOff[x]! + Math.max(0, overlap), recOff[x]! + len), address + Math.max(0, overlap) - segStart);
			written = Math.max(written, address + len);
		}
		segments.push({address: segStart, data});
	}
	return {segments, start};
}

export function parseHex(file: string, input: Uint8Array): FirmwareImage {
	const {segments, start} = parseHexSegments(file, input);
	return makeImage(file, 'hex', segments, start);
}
