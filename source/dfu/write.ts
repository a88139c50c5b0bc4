// Writing: DNLOAD each block, consecutive block numbers after one set-address (block N lands at
// pointer + (N - 2) * wTransferSize), a new set-address whenever the arithmetic breaks (a block that
// starts off the window grid, another sector) or the number would pass 0xFFFF.
//
// A block whose write was recovered from a stuck dfuDNBUSY (H7) has an unknown outcome. It is read
// back, never simply written again (an H7 flash word programmed twice fails errPROG):
//   right                     -> go on
//   blank (all 0xFF)          -> write it (again a bounded number of times)
//   anything else (garbled)   -> erase its sector and write that sector again
import {FcflashError} from '../errors.js';
import {hex32} from '../format.js';
import {setAddress} from './dfuse.js';
import {eraseChecked} from './erase.js';
import {pollUntilIdle, type PollOutcome} from './poll.js';
import {PhaseClock} from './progress.js';
import type {Piece} from './plan.js';
import {abort, dnload, upload} from './requests.js';
import type {DfuTarget} from './target.js';
import {checkCancelled, dataWindows, isBlank, sameBytes, sendBytes, type LoadContext, type SectorWork} from './work.js';

/** Highest DNLOAD block number: wValue is 16 bits. */
const maxBlockNumber = 0xffff;
/** Writes of a block read back blank after a recovery before that is an error. */
const maxWritesPerBlock = 3;
/** Times a sector is erased and written again because a recovered block came back garbled. */
const maxSectorRewrites = 1;

/** Tracks the address pointer so that consecutive blocks need no set-address. */
export class BlockSender {
	private pointer: number | undefined;
	/** Set-address commands sent (one per run, and one more each time a run must restart). */
	setAddresses = 0;

	constructor(private readonly target: DfuTarget) {}

	/** After an erase (ST's library moves the pointer to the erased sector) or a read elsewhere. */
	forget(): void {
		this.pointer = undefined;
	}

	private blockFor(address: number): number | undefined {
		if (this.pointer === undefined) return undefined;
		const offset = address - this.pointer;
		const size = this.target.transferSize;
		if (offset < 0 || offset % size !== 0) return undefined;
		const block = 2 + offset / size;
		return block <= maxBlockNumber ? block : undefined;
	}

	async write(piece: Piece): Promise<PollOutcome> {
		let block = this.blockFor(piece.address);
		if (block === undefined) {
			await setAddress(this.target, piece.address);
			this.setAddresses++;
			this.pointer = piece.address;
			block = 2;
		}
		await dnload(this.target, block, piece.data);
		return pollUntilIdle(this.target, `Write at ${hex32(piece.address)}`, {kind: 'write'});
	}

	/** Read a block just written back with its own block number (the pointer survives CLRSTATUS). */
	async readBack(piece: Piece): Promise<Uint8Array> {
		const block = this.blockFor(piece.address)!;
		const bytes = await upload(this.target, block, piece.data.length);
		await abort(this.target);
		return bytes;
	}
}

export interface WriteTally {
	/** Bytes sent. */
	written: number;
	/** Bytes of blocks that are 0xFF throughout: never sent. */
	skipped: number;
	/** Bytes of blocks not sent because the flash already held them (smart flash). */
	kept: number;
}

class GarbledBlock extends Error {
	constructor(readonly address: number) {
		super(`garbled block at ${hex32(address)}`);
	}
}

/** Send one piece; a recovered write is read back and settled, or the sector must be redone. */
async function sendPiece(ctx: LoadContext, sender: BlockSender, piece: Piece): Promise<void> {
	for (let writes = 1; ; writes++) {
		const outcome = await sender.write(piece);
		if (!outcome.recovered) return;
		ctx.recoveries++;
		const back = await sender.readBack(piece);
		if (sameBytes(back, piece.data)) return;
		if (!isBlank(back)) throw new GarbledBlock(piece.address);
		if (writes >= maxWritesPerBlock) {
			throw new FcflashError(`The block at ${hex32(piece.address)} was still blank after ${writes} writes that each stayed busy: the chip does not program it.`, 1, 'stuck-busy');
		}
	}
}

export async function writeSectors(ctx: LoadContext, works: readonly SectorWork[], total: number): Promise<number> {
	const sender = new BlockSender(ctx.target);
	const clock = new PhaseClock('write', total, ctx.onProgress);
	let done = 0;
	if (works.every((w) => w.sends.length === 0)) return 0;
	clock.report(0);
	for (const work of works) {
		for (let rewrites = 0; ; rewrites++) {
			try {
				for (const window of work.sends) {
					for (const piece of window.pieces) {
						if (isBlank(piece.data)) continue;
						checkCancelled(ctx, 'write');
						await sendPiece(ctx, sender, piece);
						done += piece.data.length;
						clock.report(done);
					}
				}
				break;
			} catch (error) {
				if (!(error instanceof GarbledBlock)) throw error;
				if (rewrites >= maxSectorRewrites) {
					throw new FcflashError(`The block at ${hex32(error.address)} read back garbled after its sector was erased and written again.`, 1, 'verify-failed');
				}
				// Partly programmed words cannot be programmed again: erase the sector, write all of it.
				await eraseChecked(ctx, work.target.sector);
				sender.forget();
				work.mode = 'erase';
				work.sends = dataWindows(work.target);
				clock.total += sendBytes(work.sends);
			}
		}
	}
	return done;
}

/** written / skipped / kept, from what each sector's work sends. */
export function tally(works: readonly SectorWork[], written: number): WriteTally {
	let skipped = 0;
	let kept = 0;
	for (const work of works) {
		const sent = new Set(work.sends);
		for (const window of work.target.windows) {
			for (const piece of window.pieces) {
				if (isBlank(piece.data)) skipped += piece.data.length;
				else if (!sent.has(window)) kept += piece.data.length;
			}
		}
	}
	return {written, skipped, kept};
}
