// Finds the flight-controller identification string in an image, so the CLI can show what a file
// is and refuse a file built for another target. Only the bytes are searched (no symbol table):
// indexOf on each flavour name is cheap even for a 2 MiB image, and only the few hits are parsed.
import type {FirmwareIdent, Segment} from './image.js';

// `Betaflight / STM32F405 (S405) 4.5.1 Nov 24 2026 / 12:00:00 (c155f5830) MSP API: 1.46`
// (Cleanflight and Emuflight print the same shape).
const betaflightLike =
	/^(Betaflight|Cleanflight|EmuFlight|Emuflight) \/ ([A-Za-z0-9_]+) \(([A-Za-z0-9_]+)\) (\d+\.\d+\.\d+[A-Za-z0-9.+-]*) ([A-Z][a-z]{2} {1,2}\d{1,2} \d{4}) \/ (\d\d:\d\d:\d\d) \(([0-9a-fA-F]+)\)(?: MSP API: (\d+\.\d+))?/;
// INAV's CLI `version` shape: `INAV/MATEKF405 7.1.2 Nov 24 2026 / 12:00:00 (abcdef12)`.
const inavCli = /^INAV\/([A-Za-z0-9_]+) (\d+\.\d+\.\d+[A-Za-z0-9.+-]*) ([A-Z][a-z]{2} {1,2}\d{1,2} \d{4}) \/ (\d\d:\d\d:\d\d) \(([0-9a-fA-F]+)\)/;
// The short form: `INAV 7.1.2 (abcdef12) MATEKF405`.
const inavShort = /^INAV (\d+\.\d+\.\d+[A-Za-z0-9.+-]*) \(([0-9a-fA-F]+)\) ([A-Za-z0-9_]+)/;

const needles = ['Betaflight', 'Cleanflight', 'EmuFlight', 'Emuflight', 'INAV'].map(n => Buffer.from(n, 'latin1'));
/** Longest identification string looked at after a hit. */
const window = 200;

/** The text after a hit, up to the first byte that is not printable ASCII (C strings end in NUL). */
function textAt(buf: Buffer, at: number): string {
	const end = Math.min(buf.length, at + window);
	let i = at;
	while (i < end && buf[i]! >= 0x20 && buf[i]! < 0x7f) i++;
	return buf.toString('latin1', at, i);
}

export function parseIdent(text: string): FirmwareIdent | null {
	let m = betaflightLike.exec(text);
	if (m) return {flavour: m[1]!, target: m[2]!, version: m[4]!, date: m[5]!.replace(/ {2}/, ' '), revision: m[7]!, raw: m[0]};
	m = inavCli.exec(text);
	if (m) return {flavour: 'INAV', target: m[1]!, version: m[2]!, date: m[3]!.replace(/ {2}/, ' '), revision: m[5]!, raw: m[0]};
	m = inavShort.exec(text);
	if (m) return {flavour: 'INAV', target: m[3]!, version: m[1]!, date: '', revision: m[2]!, raw: m[0]};
	return null;
}

/** The first identification string starting in buf[from, to), with where it starts. */
export function findIdentIn(buf: Buffer, from = 0, to = buf.length): {at: number; ident: FirmwareIdent} | null {
	let best: {at: number; ident: FirmwareIdent} | null = null;
	for (const needle of needles) {
		for (let at = buf.indexOf(needle, from); at !== -1 && at < to; at = buf.indexOf(needle, at + 1)) {
			if (best && at > best.at) break;
			const ident = parseIdent(textAt(buf, at));
			if (ident) {
				best = {at, ident};
				break;
			}
		}
	}
	return best;
}

/** Bytes after a hit that must be present before its string counts as whole. */
export const identWindow = window;

/** The identification string at the lowest address, or null. A string split across a gap is not found. */
export function findIdent(segments: readonly Segment[]): FirmwareIdent | null {
	for (const seg of segments) {
		const found = findIdentIn(Buffer.from(seg.data.buffer, seg.data.byteOffset, seg.data.byteLength));
		if (found) return found.ident;
	}
	return null;
}
