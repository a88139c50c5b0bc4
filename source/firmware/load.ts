// Reads a firmware file and picks the parser: by extension, else by sniffing the first bytes.
import {readFile} from 'node:fs/promises';
import {extname} from 'node:path';
import {FirmwareError, UsageError} from '../errors.js';
import {parseBin} from './bin.js';
import {parseDfu} from './dfu-file.js';
import {parseHex} from './hex.js';
import {sha256, type FirmwareFormat, type FirmwareImage} from './image.js';

export interface LoadOptions {
	/** Load address of a .bin file (default 0x08000000). Refused for .hex and .dfu. */
	address?: number;
}

const byExtension: Record<string, FirmwareFormat> = {
	'.hex': 'hex',
	'.ihex': 'hex',
	'.ihx': 'hex',
	'.bin': 'bin',
	'.dfu': 'dfu',
};

/** The format of a file: its extension, else what its first bytes look like; null when unknown. */
export function detectFormat(file: string, data: Uint8Array): FirmwareFormat | null {
	const known = byExtension[extname(file).toLowerCase()];
	if (known) return known;
	let i = data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf ? 3 : 0;
	while (i < data.length && (data[i] === 0x20 || data[i] === 0x09 || data[i] === 0x0d || data[i] === 0x0a)) i++;
	if (data[i] === 0x3a) return 'hex';
	if (Buffer.from(data.buffer, data.byteOffset, Math.min(5, data.byteLength)).toString('latin1') === 'DfuSe') return 'dfu';
	return null;
}

/** Parse bytes already read; `file` only names the source in errors. */
export function parseFirmware(file: string, data: Uint8Array, options: LoadOptions = {}): FirmwareImage {
	const format = detectFormat(file, data);
	if (format === null) {
		throw new FirmwareError(file, 'unknown file type: expected Intel HEX (.hex), DfuSe (.dfu) or raw binary (.bin)');
	}
	if (options.address !== undefined && format !== 'bin') {
		throw new UsageError(`--address only applies to .bin files: ${file} is a .${format} file, which carries its own addresses`, 'address-option');
	}
	switch (format) {
		case 'hex':
			return parseHex(file, data);
		case 'dfu':
			return parseDfu(file, data);
		case 'bin':
			return parseBin(file, data, options.address);
	}
}

export async function loadFirmware(path: string, options: LoadOptions = {}): Promise<FirmwareImage> {
	let data: Uint8Array;
	try {
		data = await readFile(path);
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		const detail =
			code === 'ENOENT'
				? 'no such file'
				: code === 'EACCES' || code === 'EPERM'
					? 'permission denied reading the file'
					: code === 'EISDIR'
						? 'is a directory, not a firmware file'
						: `cannot read the file (${code ?? (error as Error).message})`;
		throw new FirmwareError(path, detail, undefined, code === 'ENOENT' || code === 'EISDIR' ? 'no-file' : 'bad-file');
	}
	return parseFirmware(path, data, options);
}

export interface SegmentFacts {
	address: number;
	length: number;
	sha256: string;
}

export interface ImageFacts {
	file: string;
	format: FirmwareFormat;
	bytes: number;
	segments: SegmentFacts[];
	start: number | null;
	ident: {flavour: string; target: string; version: string; date: string} | null;
}

/** Plain facts for the `inspect` JSON (CONTRACT shape). */
export function describeImage(image: FirmwareImage): ImageFacts {
	return {
		file: image.file,
		format: image.format,
		bytes: image.bytes,
		segments: image.segments.map(s => ({address: s.address, length: s.data.length, sha256: sha256(s.data)})),
		start: image.start,
		ident: image.ident ? {flavour: image.ident.flavour, target: image.ident.target, version: image.ident.version, date: image.ident.date} : null,
	};
}
