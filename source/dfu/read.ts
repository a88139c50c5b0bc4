// Reading memory back for people rather than for verify: the whole main flash (backup) and the
// vector table (is there firmware to start?).
import {CancelledError, ExitCode, FcflashError, ReadProtectedError} from '../errors.js';
import {layoutRanges} from './layout.js';
import {ensureIdle} from './requests.js';
import type {DfuTarget} from './target.js';
import {readMemory} from './upload.js';

export interface FlashDump {
	address: number;
	data: Uint8Array;
	/** Bytes of sectors the layout marks unreadable, left as 0xFF in data. */
	unreadable: number;
}

export interface ReadProgress {
	phase: 'read';
	done: number;
	total: number;
	rate: number;
}

/** Read every readable sector of alt 0, from its lowest to its highest address (gaps stay 0xFF). */
export async function readMainFlash(target: DfuTarget, options: {signal?: AbortSignal; onProgress?: (p: ReadProgress) => void} = {}): Promise<FlashDump> {
	const sectors = [...target.flash.sectors].sort((a, b) => a.start - b.start);
	const address = sectors[0]!.start;
	const end = sectors.reduce((m, s) => Math.max(m, s.start + s.size), address);
	const data = new Uint8Array(end - address).fill(0xff);
	const ranges = layoutRanges({name: target.flash.name, sectors: sectors.filter((x) => x.readable)});
	const total = ranges.reduce((n, r) => n + r.end - r.start, 0);
	const started = performance.now();
	const report = (done: number) => {
		const seconds = (performance.now() - started) / 1000;
		options.onProgress?.({phase: 'read', done, total, rate: seconds > 0 ? done / seconds : 0});
	};
	let done = 0;
	report(0);
	const stopIfInterrupted = () => {
		if (options.signal?.aborted) throw new CancelledError('Interrupted: no backup was written. The board is still in DFU.');
	};
	try {
		for (const range of ranges) {
			await readMemory(
				target,
				range.start,
				range.end - range.start,
				(at, chunk) => {
					data.set(chunk, at - address);
					done += chunk.length;
					report(done);
				},
				{what: 'Backup incomplete, nothing was written', beforeBlock: stopIfInterrupted},
			);
		}
	} catch (error) {
		if (error instanceof ReadProtectedError) {
			throw new FcflashError(
				'The chip is read-protected (RDP): its flash cannot be read, so there is nothing to back up. Unprotecting wipes it (flash --unprotect).',
				ExitCode.failed,
				'read-protect',
			);
		}
		throw error;
	}
	return {address, data, unreadable: data.length - total};
}

/** The first 8 bytes (initial stack pointer and reset vector); undefined when read protection hides them. */
export async function vectorTable(target: DfuTarget, address: number): Promise<Uint8Array | undefined> {
	try {
		let bytes: Uint8Array = new Uint8Array(0);
		await readMemory(target, address, 8, (_at, chunk) => (bytes = chunk), {what: 'Reading the vector table'});
		return bytes;
	} catch (error) {
		if (error instanceof ReadProtectedError) {
			await ensureIdle(target);
			return undefined;
		}
		throw error;
	}
}
