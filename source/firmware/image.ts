import {createHash} from 'node:crypto';
import {FirmwareError} from '../errors.js';
import {hex32} from '../format.js';
import {findIdent} from './ident.js';

// One image model for every file format: ordered, non-overlapping segments. A gap between segments
// (Betaflight F4 leaves its config sector out) is never filled, so it is never written or erased.
export interface Segment {
	address: number;
	data: Uint8Array;
}

export interface FirmwareIdent {
	flavour: string;
	target: string;
	version: string;
	date: string;
	/** The git revision it was built from (short hash), when the string carries one. */
	revision?: string;
	/** The whole identification string as found in the image. */
	raw: string;
}

export type FirmwareFormat = 'hex' | 'bin' | 'dfu';

export interface FirmwareImage {
	file: string;
	format: FirmwareFormat;
	segments: Segment[];
	/** Start address record of a HEX file (types 03/05); informational only. */
	start: number | null;
	ident: FirmwareIdent | null;
	/** Total payload bytes. */
	bytes: number;
	/** Lowest address (the vector table: the leave address). */
	low: number;
	/** One past the highest address. */
	high: number;
	/** The USB id a DFU suffix names (.dfu, or a .bin with one); absent when it says any (0xFFFF). */
	usbId?: {vendorId: number; productId: number};
}

/** Lower-case hex SHA-256 of a segment's bytes (inspect JSON). */
export function sha256(data: Uint8Array | Segment): string {
	const bytes = data instanceof Uint8Array ? data : data.data;
	return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Normalise parsed segments into an image: sort by address, join segments that touch exactly (a
 * gap stays a gap), drop empty ones, refuse overlaps and an image with no data at all.
 */
export function makeImage(file: string, format: FirmwareFormat, segments: readonly Segment[], start: number | null, usbId?: {vendorId: number; productId: number}): FirmwareImage {
	const sorted = segments.filter(s => s.data.length > 0).sort((a, b) => a.address - b.address);
	if (sorted.length === 0) throw new FirmwareError(file, 'contains no data');
	const merged: Segment[] = [];
	// Runs of touching segments are collected first so each merged segment is copied once.
	let run: Segment[] = [];
	let runEnd = -1;
	const flush = () => {
		if (run.length === 1) merged.push(run[0]!);
		else if (run.length > 1) merged.push({address: run[0]!.address, data: concat(run.map(s => s.data))});
		run = [];
	};
	for (const seg of sorted) {
		const end = seg.address + seg.data.length;
		if (seg.address < 0 || end > 0x1_0000_0000 || !Number.isInteger(seg.address)) {
			throw new FirmwareError(file, `segment at ${hex32(seg.address)} (${seg.data.length} bytes) lies outside the 32-bit address space`);
		}
		if (run.length > 0 && seg.address < runEnd) {
			throw new FirmwareError(file, `data overlaps at ${hex32(seg.address)} (a block ending at ${hex32(runEnd)} already covers it)`);
		}
		if (run.length > 0 && seg.address !== runEnd) flush();
		run.push(seg);
		runEnd = end;
	}
	flush();
	const bytes = merged.reduce((n, s) => n + s.data.length, 0);
	const last = merged[merged.length - 1]!;
	return {
		file,
		format,
		segments: merged,
		start,
		ident: findIdent(merged),
		bytes,
		low: merged[0]!.address,
		high: last.address + last.data.length,
		...(usbId ? {usbId} : {}),
	};
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
	const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
	let at = 0;
	for (const p of parts) {
		out.set(p, at);
		at += p.length;
	}
	return out;
}
