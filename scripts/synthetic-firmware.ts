// Deterministic synthetic firmware for tests, the benchmark and the demo. Not real code: pseudo-random
// bytes shaped like a Betaflight F4/F7 image (vector table sector, config-sector gap, code with an
// identification string and a few erased 2 KiB blocks, so erased-block skipping has work to do).
import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {pathToFileURL} from 'node:url';
import type {Segment} from '../source/firmware/image.js';

export const flashBase = 0x0800_0000;
const sector0 = 16 * 1024;
/** Betaflight F4/F7 keep their config in the second 16 KiB sector, which the image leaves out. */
const codeStart = flashBase + 2 * sector0;

/** xorshift32: small, fast and the same on every machine. */
export function prng(seed = 1): () => number {
	let x = seed >>> 0 || 0x9e3779b9;
	return () => {
		x ^= x << 13;
		x >>>= 0;
		x ^= x >>> 17;
		x ^= x << 5;
		x >>>= 0;
		return x;
	};
}

function randomBytes(length: number, next: () => number): Uint8Array {
	const out = new Uint8Array(length);
	const words = new Uint32Array(out.buffer, 0, length >>> 2);
	for (let i = 0; i < words.length; i++) words[i] = next();
	for (let i = words.length * 4; i < length; i++) out[i] = next() & 0xff;
	return out;
}

/** A Cortex-M vector table: initial stack pointer, then Thumb handler addresses in the code. */
function writeVectors(data: Uint8Array, next: () => number): void {
	const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
	view.setUint32(0, 0x2002_0000, true);
	for (let v = 1; v < 98 && v * 4 + 4 <= data.length; v++) view.setUint32(v * 4, (codeStart + 0x200 + (next() % 0x4000)) | 1, true);
}

const boardIds: Record<string, string> = {STM32F405: 'S405', STM32F411: 'S411', STM32F7X2: 'S7X2', STM32F745: 'S745', STM32H743: 'SH74', AT32F435G: 'A435'};

export function identString(target: string, version = '4.5.1', revision = 'c155f5830'): string {
	const board = boardIds[target] ?? 'S' + target.slice(-3);
	return `Betaflight / ${target} (${board}) ${version} Nov 24 2026 / 12:00:00 (${revision}) MSP API: 1.46`;
}

export interface BetaflightLikeOptions {
	target?: string;
	/** Total payload bytes (both segments); default 660 KiB. */
	bytes?: number;
	seed?: number;
	version?: string;
	/** The git revision in the ident (a custom build of the same release has another). */
	revision?: string;
}

/**
 * Two segments: the 16 KiB vector sector at 0x08000000 and the code from 0x08008000, with the
 * config sector 0x08004000-0x08007FFF absent. Every 16th 2 KiB block of code is erased (0xFF).
 */
export function betaflightLikeImage(options: BetaflightLikeOptions = {}): Segment[] {
	const {target = 'STM32F405', bytes = 660 * 1024, seed = 1, version = '4.5.1', revision} = options;
	if (bytes <= sector0 + 4096) throw new Error(`betaflightLikeImage: ${bytes} bytes is too small`);
	const next = prng(seed);
	const first = randomBytes(sector0, next);
	writeVectors(first, next);
	const code = randomBytes(bytes - sector0, next);
	const block = 2048;
	for (let b = 3; (b + 1) * block <= code.length - block; b += 16) code.fill(0xff, b * block, (b + 1) * block);
	// The identification string sits in .rodata, about 40 % into the code, NUL-terminated and outside
	// the erased blocks.
	const ident = Buffer.from(identString(target, version, revision) + '\0', 'latin1');
	let at = (Math.floor((code.length * 0.4) / block) * block) + 64;
	if (Math.floor(at / block) % 16 === 3) at += block;
	code.set(ident, at);
	return [
		{address: flashBase, data: first},
		{address: codeStart, data: code},
	];
}

/** One contiguous image from 0x08000000 (default 1 MiB, a whole F405). */
export function fullImage(bytes = 1024 * 1024, seed = 7): Segment[] {
	const next = prng(seed);
	const data = randomBytes(bytes, next);
	writeVectors(data, next);
	return [{address: flashBase, data}];
}

export interface IntelHexOptions {
	/** Line ending; default CRLF as most firmware builds write. */
	eol?: string;
	lowercase?: boolean;
	/** Adds a type 05 start linear address record. */
	start?: number | null;
	/** Data bytes per record (default 16). */
	recordSize?: number;
}

/** Intel HEX text: type 04 records whenever the upper 16 bits change, records never cross 64 KiB. */
export function toIntelHex(segments: readonly Segment[], options: IntelHexOptions = {}): string {
	const {eol = '\r\n', lowercase = false, start = null, recordSize = 16} = options;
	const digits = Buffer.from(lowercase ? '0123456789abcdef' : '0123456789ABCDEF', 'latin1');
	const newline = Buffer.from(eol, 'latin1');
	const total = segments.reduce((n, s) => n + s.data.length, 0);
	// Worst case per record: ':' + 8 + 2*size + 2 + eol, plus a type 04 record per record.
	const out = Buffer.alloc(Math.ceil(total / recordSize + segments.length + 4) * (2 * (11 + newline.length) + 2 * recordSize + 4));
	let at = 0;
	const byte = (b: number) => {
		out[at++] = digits[b >> 4]!;
		out[at++] = digits[b & 15]!;
	};
	const record = (type: number, offset: number, data: Uint8Array, from = 0, to = data.length) => {
		const length = to - from;
		let sum = length + (offset >> 8) + (offset & 0xff) + type;
		out[at++] = 0x3a;
		byte(length);
		byte(offset >> 8);
		byte(offset & 0xff);
		byte(type);
		for (let i = from; i < to; i++) {
			byte(data[i]!);
			sum += data[i]!;
		}
		byte((0x100 - (sum & 0xff)) & 0xff);
		for (let i = 0; i < newline.length; i++) out[at++] = newline[i]!;
	};
	let upper = -1;
	for (const seg of segments) {
		let i = 0;
		while (i < seg.data.length) {
			const address = seg.address + i;
			const hi = Math.floor(address / 0x10000);
			if (hi !== upper) {
				record(0x04, 0, Uint8Array.of(hi >> 8, hi & 0xff));
				upper = hi;
			}
			const offset = address & 0xffff;
			const n = Math.min(recordSize, seg.data.length - i, 0x10000 - offset);
			record(0x00, offset, seg.data, i, i + n);
			i += n;
		}
	}
	if (start !== null) record(0x05, 0, Uint8Array.of(start >>> 24, (start >>> 16) & 0xff, (start >>> 8) & 0xff, start & 0xff));
	record(0x01, 0, new Uint8Array(0));
	return out.toString('latin1', 0, at);
}

/** Writes the demo files into a folder. */
export function writeDemoFiles(dir: string): string[] {
	mkdirSync(dir, {recursive: true});
	const files: Array<[string, string | Uint8Array]> = [
		['betaflight-4.5.1-STM32F405.hex', toIntelHex(betaflightLikeImage({target: 'STM32F405'}), {start: flashBase + 0x1c1})],
		// F722 has 512 KiB of flash: the image must fit below 0x08080000.
		['betaflight-4.5.1-STM32F722.hex', toIntelHex(betaflightLikeImage({target: 'STM32F7X2', bytes: 440 * 1024, seed: 2}), {start: flashBase + 0x1c1})],
		['full-1MiB.bin', fullImage()[0]!.data],
	];
	return files.map(([name, content]) => {
		const path = join(dir, name);
		writeFileSync(path, content);
		return path;
	});
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
	const dir = process.argv[2];
	if (!dir) {
		console.error('usage: node build/scripts/synthetic-firmware.js OUTDIR');
		process.exit(2);
	}
	for (const path of writeDemoFiles(dir)) console.log(path);
}
