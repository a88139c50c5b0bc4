// Reading memory back with DfuSe UPLOAD: set the pointer, ABORT to dfuIDLE, then consecutive blocks
// from 2 (block N reads pointer + (N - 2) * wTransferSize). Used by verify and by backup.
import {TransferError} from '../errors.js';
import {hex32} from '../format.js';
import {setAddress} from './dfuse.js';
import {abort, ensureIdle, upload} from './requests.js';
import type {DfuTarget} from './target.js';

/** wValue is 16 bits and data blocks start at 2: re-set the pointer at least this often. */
const maxBlocksPerAddress = 0x8000;

export interface ReadOptions {
	/** Names the operation in the short-read error, e.g. "Verify". */
	what: string;
	/** Called before every block; throw to stop (cancellation). */
	beforeBlock?: () => void;
}

export async function readMemory(
	target: DfuTarget,
	address: number,
	length: number,
	onChunk: (at: number, bytes: Uint8Array) => void,
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
			onChunk(at, bytes.subarray(0, want));
		}
		await abort(target);
	}
}
