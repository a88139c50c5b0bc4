// What firmware a board in DFU holds: its identification string, read from flash with UPLOAD. A
// board in DFU cannot be asked over MSP, so this is the only way to say "it runs Betaflight 4.5.6"
// before an upgrade that may reset its settings. The read stops at the first whole string.
import {findIdentIn, identWindow} from '../firmware/ident.js';
import type {FirmwareIdent} from '../firmware/image.js';
import {readMemory} from './read.js';
import type {DfuTarget} from './target.js';

export interface RunningFirmware {
	/** null: the range holds no identification string (blank, or firmware that prints none). */
	ident: FirmwareIdent | null;
	/** Bytes read to find it. */
	read: number;
}

/**
 * Look for an identification string in [address, address + length) of the board's flash (clipped
 * to its main flash). Throws what the read throws (read protection, a transfer error).
 */
export async function readRunningFirmware(target: DfuTarget, address: number, length: number, options: {signal?: AbortSignal} = {}): Promise<RunningFirmware> {
	const flash = target.flash.sectors.filter((s) => s.readable);
	if (flash.length === 0) return {ident: null, read: 0};
	const flashStart = Math.min(...flash.map((s) => s.start));
	const flashEnd = Math.max(...flash.map((s) => s.start + s.size));
	const from = Math.max(address, flashStart);
	const to = Math.min(address + length, flashEnd);
	if (!(to > from)) return {ident: null, read: 0};
	const buf = Buffer.alloc(to - from);
	let filled = 0;
	// A string is searched for once it can be whole: identWindow bytes after its first byte.
	let searched = 0;
	let found: FirmwareIdent | null = null;
	await readMemory(
		target,
		from,
		to - from,
		(at, bytes) => {
			buf.set(bytes, at - from);
			filled = at - from + bytes.length;
			const last = filled === buf.length;
			const until = last ? filled : filled - identWindow;
			if (until > searched) {
				const hit = findIdentIn(buf.subarray(0, filled), searched, until);
				searched = until;
				if (hit) {
					found = hit.ident;
					return false;
				}
			}
			return true;
		},
		{
			what: 'Reading what the board runs',
			beforeBlock: () => options.signal?.throwIfAborted(),
		},
	);
	return {ident: found, read: filled};
}
