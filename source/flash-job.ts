// One flash, start to finish, shared by the CLI and the TUI: reboot a serial FC into DFU, wait for
// the ROM bootloader, open it, check the image against its layout, ask, then erase/write/verify/leave.
// No React and no terminal here: callers get progress events and a result.
import {planFlash, type FlashPlan} from './dfu/plan.js';
import {flashImage, type FlashResult} from './dfu/flash.js';
import {closeDfuTarget, openDfuTarget, type DfuTarget} from './dfu/target.js';
import {readUnprotect} from './dfu/dfuse.js';
import type {Tracer} from './dfu/transfer.js';
import {rebootAndWait, waitForDfuBoard, type Progress} from './devices/select.js';
import type {Board, BoardSource, DfuBoard} from './devices/types.js';
import {CancelledError, DeclinedError, FcflashError, ReadProtectedError} from './errors.js';
import type {FirmwareImage} from './firmware/image.js';

export interface FlashJobOptions {
	fullErase?: boolean;
	/** Erase and write every touched sector without comparing first (--rewrite). */
	rewrite?: boolean;
	verify?: boolean;
	/** Send the reboot-into-DFU sequence to a serial FC (default true). */
	reboot?: boolean;
	baud?: number;
	/** The user confirmed that a read-protected chip may be wiped. */
	unprotect?: boolean;
	signal?: AbortSignal;
	onProgress?: (p: Progress) => void;
	onInfo?: (line: string) => void;
	/** Called once the board is open and the image is known to fit; return false to stop (nothing written). */
	confirm?: (facts: {board: DfuBoard; target: DfuTarget; plan: FlashPlan}) => Promise<boolean>;
	trace?: Tracer;
	/** How long to wait for the ROM bootloader after a reboot request. */
	waitMs?: number;
}

export interface FlashJobResult extends FlashResult {
	board: DfuBoard;
	target: DfuTarget;
}

export async function runFlashJob(source: BoardSource, board: Board, image: FirmwareImage, options: FlashJobOptions = {}): Promise<FlashJobResult> {
	const started = performance.now();
	const dfuBoard = board.kind === 'dfu' ? board : await rebootIntoDfu(source, board, options);
	let target = await openTarget(source, dfuBoard, options);
	try {
		const plan = planFlash(image, target.flash);
		if (options.confirm && !(await options.confirm({board: dfuBoard, target, plan}))) throw new DeclinedError();
		if (options.signal?.aborted) throw new CancelledError('Interrupted before anything was erased.');
		let result: FlashResult;
		try {
			result = await flashImage(target, image, options);
		} catch (error) {
			if (!(error instanceof ReadProtectedError) || !options.unprotect) throw error;
			options.onInfo?.('Read protection is on: unprotecting (this wipes the whole chip)...');
			await readUnprotect(target);
			await closeDfuTarget(target);
			const back = await waitForDfuBoard(source, {serialNumber: dfuBoard.serialNumber, timeoutMs: options.waitMs ?? 10_000, signal: options.signal});
			if (!back) throw new FcflashError('The chip was unprotected and wiped but did not come back in DFU. Replug it (hold BOOT) and flash again.', 1, 'boot-button');
			target = await openTarget(source, back, options);
			result = await flashImage(target, image, options);
		}
		return {...result, durationMs: Math.round(performance.now() - started), board: dfuBoard, target};
	} finally {
		await closeDfuTarget(target);
	}
}

async function openTarget(source: BoardSource, board: DfuBoard, options: FlashJobOptions) {
	const device = await source.openDfu(board);
	return openDfuTarget(device, {trace: options.trace});
}

function rebootIntoDfu(source: BoardSource, board: Extract<Board, {kind: 'serial'}>, options: FlashJobOptions): Promise<DfuBoard> {
	if (options.reboot === false) {
		throw new FcflashError(`${board.port} is a flight controller running firmware, and --no-reboot was given: put it in DFU first (hold BOOT while plugging in).`, 3, 'boot-button');
	}
	return rebootAndWait(source, board, options);
}
