// Reading memory back with DfuSe UPLOAD: set the pointer, ABORT to dfuIDLE, then consecutive blocks
// from 2 (block N reads pointer + (N - 2) * wTransferSize). Used by compare, verify, the backup
// (readMainFlash) and leave's vector-table check.
import {CancelledError, FcflashError, ReadProtectedError, TransferError, UnstableReadError} from '../errors.js';
import {hex32} from '../format.js';
import {sameBytes} from './bytes.js';
import {setAddress} from './dfuse.js';
import {layoutRanges} from './layout.js';
import type {Progress} from './progress.js';
import {abort, ensureIdle, upload} from './requests.js';
import type {DfuTarget} from './target.js';

/** wValue is 16 bits and data blocks start at 2: re-set the pointer at least this often. */
const maxBlocksPerAddress = 0x8000;

export interface ReadOptions {
	/** Names the operation in the short-read error, e.g. "Verify". */
	what: string;
	/** Called before every block; throw to stop (cancellation). */
	beforeBlock?: () => void;
	/** Called with the size of every block read (both passes and retries of readStable). */
	onRead?: (bytes: number) => void;
}

/**
 * Read [address, address + length) in wTransferSize blocks counted from `address`. `onChunk` may
 * return false to stop early (the compare stops a sector at its first block that cannot stay).
 */
export async function readMemory(
	target: DfuTarget,
	address: number,
	length: number,
	onChunk: (at: number, bytes: Uint8Array) => boolean | void,
	options: ReadOptions,
): Promise<void> {
	const size = target.transferSize;
	const end = address + length;
	for (let window = address; window < end; window += maxBlocksPerAddress * size) {
		const windowEnd = Math.min(end, window + maxBlocksPerAddress * size);
		await ensureIdle(target);
		await setAddress(target, window);
		await abort(target);
		for (let at = window, block = 2; at < windowEnd; at += size, block++) {
			options.beforeBlock?.();
			const want = Math.min(size, windowEnd - at);
			const bytes = await upload(target, block, want);
			if (bytes.length < want) {
				throw new TransferError(`${options.what}: the board returned ${bytes.length} bytes instead of ${want} at ${hex32(at)}.`);
			}
			options.onRead?.(want);
			if (onChunk(at, bytes.subarray(0, want)) === false) {
				await abort(target);
				return;
			}
		}
		await abort(target);
	}
}

/** One block, read on its own (a retry). */
export async function readBlock(target: DfuTarget, address: number, length: number, options: ReadOptions): Promise<Uint8Array> {
	let out: Uint8Array = new Uint8Array(0);
	await readMemory(target, address, length, (_at, bytes) => void (out = bytes.slice()), options);
	return out;
}


/** Reads of one block allowed before a read path that never gives the same bytes twice is refused. */
const maxReadsPerBlock = 4;

/**
 * The chip cannot checksum its flash for us, so a corrupted UPLOAD would go unnoticed: read the range
 * a second time and compare block by block. A block that differs is read again until two
 * consecutive reads agree (an intermittent glitch heals); one that never does is an
 * UnstableReadError.
 */
export async function readStable(
	target: DfuTarget,
	address: number,
	length: number,
	onChunk: (at: number, bytes: Uint8Array) => void,
	options: ReadOptions,
): Promise<void> {
	const first = new Uint8Array(length);
	await readMemory(target, address, length, (at, bytes) => first.set(bytes, at - address), options);
	const size = target.transferSize;
	const unsure: Array<{at: number; bytes: Uint8Array}> = [];
	await readMemory(
		target,
		address,
		length,
		(at, bytes) => {
			if (sameBytes(bytes, first.subarray(at - address, at - address + bytes.length))) onChunk(at, bytes);
			else unsure.push({at, bytes: bytes.slice()});
		},
		options,
	);
	for (const {at, bytes} of unsure) {
		const want = Math.min(size, address + length - at);
		let previous: Uint8Array = bytes;
		let agreed: Uint8Array | undefined;
		for (let reads = 2; reads < maxReadsPerBlock && !agreed; reads++) {
			const again = await readBlock(target, at, want, options);
			if (sameBytes(again, previous)) agreed = again;
			previous = again;
		}
		if (!agreed) throw new UnstableReadError(at, maxReadsPerBlock);
		onChunk(at, agreed);
	}
}

export interface FlashDump {
	address: number;
	data: Uint8Array;
	/** Bytes of sectors the layout marks unreadable, left as 0xFF in data. */
	unreadable: number;
}

/** The backup command's progress: its own phase, 'read'. */
export interface ReadProgress extends Omit<Progress, 'phase'> {
	phase: 'read';
}

/**
 * Read every readable sector of alt 0, from its lowest to its highest address (gaps stay 0xFF), each
 * block twice (readStable).
 */
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
	let read = 0;
	report(0);
	const stopIfInterrupted = () => {
		if (options.signal?.aborted) throw new CancelledError('Interrupted: no backup was written. The board is still in DFU.', {nothingWritten: true});
	};
	try {
		for (const range of ranges) {
			await readStable(
				target,
				range.start,
				range.end - range.start,
				(at, chunk) => data.set(chunk, at - address),
				{
					what: 'Backup incomplete, nothing was written',
					beforeBlock: stopIfInterrupted,
					// Every byte is read twice: progress moves at half the read rate.
					onRead: (n) => {
						read += n;
						done = Math.min(total, Math.floor(read / 2));
						report(done);
					},
				},
			);
		}
	} catch (error) {
		if (error instanceof ReadProtectedError) {
			await ensureIdle(target).catch(() => {});
			throw new FcflashError(
				'The chip is read-protected (RDP): its flash cannot be read, so there is nothing to back up. Unprotecting wipes it (flash --unprotect).',
				1,
				'read-protect',
			);
		}
		throw error;
	}
	if (done < total) report(total);
	return {address, data, unreadable: data.length - total};
}

/** The first 8 bytes (initial stack pointer and reset vector); undefined when read protection hides them. */
export async function vectorTable(target: DfuTarget, address: number): Promise<Uint8Array | undefined> {
	try {
		return await readBlock(target, address, 8, {what: 'Reading the vector table'});
	} catch (error) {
		if (error instanceof ReadProtectedError) {
			await ensureIdle(target);
			return undefined;
		}
		throw error;
	}
}
