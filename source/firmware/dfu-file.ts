// ST DfuSe file (.dfu, UM0391): "DfuSe" prefix, targets with elements (address, size, data), and the
// DFU suffix whose CRC covers everything but itself. Only alternate setting 0 (internal flash) is
// accepted: option bytes or OTP images must never be written by a firmware flash.
import zlib from 'node:zlib';
import {FirmwareError} from '../errors.js';
import {hex32} from '../format.js';
import {makeImage, type FirmwareImage, type Segment} from './image.js';

const prefixSize = 11;
const targetPrefixSize = 274;
const suffixSize = 16;
const elementHeaderSize = 8;
export const bcdDfuSe = 0x011a;

let table: Uint32Array | undefined;
function crcTable(): Uint32Array {
	if (table) return table;
	table = new Uint32Array(256);
	for (let n = 0; n < 256; n++) {
		let c = n;
		for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
		table[n] = c >>> 0;
	}
	return table;
}

/** Standard (zlib) CRC-32 computed with a table; the fallback for Node before 20.15. */
export function crc32Table(data: Uint8Array, crc = 0): number {
	const t = crcTable();
	let c = ~crc >>> 0;
	for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
	return ~c >>> 0;
}

const nativeCrc32 = (zlib as {crc32?: (data: Uint8Array, value?: number) => number}).crc32;

/** Standard CRC-32 (zlib.crc32 when this Node has it). */
export function crc32(data: Uint8Array): number {
	return nativeCrc32 ? nativeCrc32(data) >>> 0 : crc32Table(data);
}

/** The DFU suffix CRC: CRC-32 without the final XOR. */
export function dfuCrc(data: Uint8Array): number {
	return ~crc32(data) >>> 0;
}

export interface DfuContent {
	segments: Segment[];
	vid: number;
	pid: number;
	bcdDevice: number;
}

export function parseDfuSegments(file: string, data: Uint8Array): DfuContent {
	const fail = (offset: number, detail: string): never => {
		throw new FirmwareError(file, detail, {offset});
	};
	if (data.length === 0) fail(0, 'empty file');
	const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
	const ascii = (at: number, len: number) => Buffer.from(data.buffer, data.byteOffset + at, len).toString('latin1');
	if (data.length < 5 || ascii(0, 5) !== 'DfuSe') fail(0, `not a DfuSe file: no "DfuSe" prefix`);
	if (data.length < prefixSize + suffixSize) fail(data.length, `too short for a DfuSe file (${data.length} bytes)`);

	const s = data.length - suffixSize;
	if (ascii(s + 8, 3) !== 'UFD') fail(s + 8, 'no DFU suffix ("UFD" signature missing): the file is truncated or not a .dfu file');
	const suffixLength = data[s + 11]!;
	if (suffixLength !== suffixSize) fail(s + 11, `DFU suffix length is ${suffixLength}, expected ${suffixSize}`);
	const stored = view.getUint32(s + 12, true);
	const computed = dfuCrc(data.subarray(0, data.length - 4));
	if (stored !== computed) fail(s + 12, `CRC mismatch: the file says ${hex32(stored)}, its bytes give ${hex32(computed)} (damaged download?)`);
	const bcdDfu = view.getUint16(s + 6, true);
	if (bcdDfu !== bcdDfuSe) fail(s + 6, `bcdDFU is 0x${bcdDfu.toString(16).toUpperCase().padStart(4, '0')}, a DfuSe file has 0x011A`);

	const version = data[5]!;
	if (version !== 1) fail(5, `DfuSe format version ${version} is not supported (only 1)`);
	// UM0391: the image size counts prefix and targets, not the suffix. Some writers count the
	// suffix too; both are accepted, anything else means a truncated or padded file.
	const imageSize = view.getUint32(6, true);
	if (imageSize !== s && imageSize !== data.length) fail(6, `prefix says ${imageSize} bytes but the file holds ${s} bytes before its suffix`);
	const targets = data[10]!;

	const segments: Segment[] = [];
	let at = prefixSize;
	for (let t = 0; t < targets; t++) {
		if (at + targetPrefixSize > s) fail(at, `target ${t} runs past the end of the file`);
		if (ascii(at, 6) !== 'Target') fail(at, `target ${t}: no "Target" signature`);
		const alt = data[at + 6]!;
		const targetSize = view.getUint32(at + 266, true);
		const elements = view.getUint32(at + 270, true);
		if (alt !== 0) {
			const named = view.getUint32(at + 7, true) !== 0;
			const name = named ? ascii(at + 11, 255).replace(/\0.*$/s, '') : '';
			fail(at + 6, `target ${t} is for alternate setting ${alt}${name ? ` ("${name}")` : ''}: only alt 0 (internal flash) is supported`);
		}
		const body = at + targetPrefixSize;
		if (body + targetSize > s) fail(at + 266, `target ${t} says ${targetSize} bytes, past the end of the file`);
		let e = body;
		const elementsAt: Array<{address: number; size: number; offset: number}> = [];
		for (let k = 0; k < elements; k++) {
			if (e + elementHeaderSize > body + targetSize) fail(e, `target ${t} element ${k} starts past the end of its target`);
			const address = view.getUint32(e, true);
			const size = view.getUint32(e + 4, true);
			if (e + elementHeaderSize + size > body + targetSize) {
				fail(e, `target ${t} element ${k} (${size} bytes at ${hex32(address)}) runs past the end of its target`);
			}
			if (address + size > 0x1_0000_0000) fail(e, `element ${k} at ${hex32(address)} runs past the 32-bit address space`);
			segments.push({address, data: data.slice(e + elementHeaderSize, e + elementHeaderSize + size)});
			elementsAt.push({address, size, offset: e});
			e += elementHeaderSize + size;
		}
		if (e !== body + targetSize) fail(e, `target ${t} says ${targetSize} bytes but its elements hold ${e - body}`);
		// makeImage would refuse an overlap too, but only this loop knows where the element is.
		for (const [k, el] of elementsAt.entries()) {
			const clash = elementsAt.find((o, j) => j < k && el.address < o.address + o.size && o.address < el.address + el.size);
			if (clash) fail(el.offset, `target ${t} element ${k} (${el.size} bytes at ${hex32(el.address)}) overlaps element ${elementsAt.indexOf(clash)} (${clash.size} bytes at ${hex32(clash.address)})`);
		}
		at = e;
	}
	if (at !== s) fail(at, `${s - at} unexpected bytes between the last target and the suffix`);
	return {segments, vid: view.getUint16(s + 4, true), pid: view.getUint16(s + 2, true), bcdDevice: view.getUint16(s, true)};
}

/** The USB id a DFU suffix names; 0xFFFF in either field means "any device". */
export function suffixUsbId(vid: number, pid: number): {vendorId: number; productId: number} | undefined {
	return vid === 0xffff ? undefined : {vendorId: vid, productId: pid};
}

export function parseDfu(file: string, data: Uint8Array): FirmwareImage {
	const content = parseDfuSegments(file, data);
	return makeImage(file, 'dfu', content.segments, null, suffixUsbId(content.vid, content.pid));
}

/**
 * A DFU suffix at the end of a raw binary (dfu-suffix -a): "UFD", length 16 and a CRC over the rest.
 * Returns the binary without it, or the data unchanged when there is none; a suffix with a wrong
 * CRC is an error (a damaged file, or a binary that happens to end in "UFD").
 */
export function stripDfuSuffix(file: string, data: Uint8Array): {data: Uint8Array; vid?: number; pid?: number} {
	if (data.length < suffixSize + 1) return {data};
	const s = data.length - suffixSize;
	const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
	if (Buffer.from(data.buffer, data.byteOffset + s + 8, 3).toString('latin1') !== 'UFD' || data[s + 11] !== suffixSize) return {data};
	const stored = view.getUint32(s + 12, true);
	const computed = dfuCrc(data.subarray(0, data.length - 4));
	if (stored !== computed) {
		throw new FirmwareError(file, `ends in a DFU suffix whose CRC is ${hex32(stored)}, but its bytes give ${hex32(computed)}: the file is damaged (or rebuild it without the suffix)`, {offset: s + 12});
	}
	return {data: data.subarray(0, s), vid: view.getUint16(s + 4, true), pid: view.getUint16(s + 2, true)};
}

export interface DfuFileOptions {
	vid?: number;
	pid?: number;
	bcdDevice?: number;
	/** Target name stored in the file. */
	name?: string;
	alt?: number;
}

/** Writes a DfuSe file with one target holding one element per segment. */
export function buildDfuFile(segments: readonly Segment[], options: DfuFileOptions = {}): Uint8Array {
	const {vid = 0x0483, pid = 0xdf11, bcdDevice = 0xffff, name = 'ST...', alt = 0} = options;
	const targetSize = segments.reduce((n, seg) => n + elementHeaderSize + seg.data.length, 0);
	const total = prefixSize + targetPrefixSize + targetSize + suffixSize;
	const out = new Uint8Array(total);
	const view = new DataView(out.buffer);
	out.set(Buffer.from('DfuSe', 'latin1'), 0);
	out[5] = 1;
	view.setUint32(6, total - suffixSize, true);
	out[10] = 1;
	let at = prefixSize;
	out.set(Buffer.from('Target', 'latin1'), at);
	out[at + 6] = alt;
	view.setUint32(at + 7, name ? 1 : 0, true);
	out.set(Buffer.from(name.slice(0, 254), 'latin1'), at + 11);
	view.setUint32(at + 266, targetSize, true);
	view.setUint32(at + 270, segments.length, true);
	at += targetPrefixSize;
	for (const seg of segments) {
		view.setUint32(at, seg.address, true);
		view.setUint32(at + 4, seg.data.length, true);
		out.set(seg.data, at + elementHeaderSize);
		at += elementHeaderSize + seg.data.length;
	}
	view.setUint16(at, bcdDevice, true);
	view.setUint16(at + 2, pid, true);
	view.setUint16(at + 4, vid, true);
	view.setUint16(at + 6, bcdDfuSe, true);
	out.set(Buffer.from('UFD', 'latin1'), at + 8);
	out[at + 11] = suffixSize;
	view.setUint32(at + 12, dfuCrc(out.subarray(0, total - 4)), true);
	return out;
}
