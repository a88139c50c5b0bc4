// From a flight controller running firmware to its ROM bootloader: ask it to reboot (the method its
// firmware understands), then wait for the DFU board. The wait names the same board by serial
// number, then by USB port path, then takes the only new DFU board. After 10 s without one, the
// pilot is told to hold BOOT and replug, and the wait goes on (up to --wait, default 60 s).
import type {Board, BoardSource, DfuBoard, SerialBoard} from '../devices/types.js';
import {CancelledError, ExitCode, FcflashError} from '../errors.js';
import {sleep} from '../sleep.js';
import type {JobRun} from './job.js';

export const defaultWaitMs = 60_000;
/** When to tell the pilot to hold BOOT: peers give up after 4-10 s. */
const bootHintAfterMs = 10_000;

export function pickDfuBoard(dfu: readonly DfuBoard[], wanted: {serialNumber?: string; usbPath?: string; before?: ReadonlySet<string>}): DfuBoard | undefined {
	const usable = dfu.filter((b) => !b.problem);
	return (
		usable.find((b) => wanted.serialNumber !== undefined && b.serialNumber === wanted.serialNumber) ??
		usable.find((b) => wanted.usbPath !== undefined && b.usbPath === wanted.usbPath) ??
		(() => {
			const fresh = usable.filter((b) => !wanted.before?.has(b.id));
			return fresh.length === 1 ? fresh[0] : undefined;
		})()
	);
}

const dfuBoards = (boards: Board[]) => boards.filter((b): b is DfuBoard => b.kind === 'dfu');

/** Wait for a DFU board; progress as phase `phase` once a second with the elapsed and allowed time. */
export async function waitForDfu(
	run: JobRun<unknown>,
	source: BoardSource,
	wanted: {serialNumber?: string; usbPath?: string; before?: ReadonlySet<string>},
	options: {waitMs: number; phase?: 'wait' | 'unprotect'; bootHint?: boolean},
): Promise<DfuBoard | undefined> {
	const started = performance.now();
	const phase = options.phase ?? 'wait';
	let hinted = false;
	let reported = -1;
	for (;;) {
		const elapsed = performance.now() - started;
		if (Math.floor(elapsed / 1000) !== reported) {
			reported = Math.floor(elapsed / 1000);
			run.progress(phase, 0, 1, {elapsedMs: Math.round(elapsed), expectedMs: options.waitMs});
		}
		const pick = pickDfuBoard(dfuBoards(await source.list()), wanted);
		if (pick) {
			run.progress(phase, 1, 1, {elapsedMs: Math.round(performance.now() - started), expectedMs: options.waitMs});
			return pick;
		}
		if (run.stopped) return undefined;
		if (options.bootHint !== false && !hinted && elapsed > bootHintAfterMs) {
			hinted = true;
			run.warn({text: 'No DFU board yet: hold the BOOT button and plug the board in again (still waiting).', hint: 'boot-button'});
		}
		if (elapsed > options.waitMs) return undefined;
		await sleep(200);
	}
}

/**
 * Reboot a serial flight controller into DFU and wait for it. Throws when the reboot request cannot
 * be sent, when no DFU board appears in time, and CancelledError when stopped while waiting.
 */
export async function rebootIntoDfu(run: JobRun<unknown>, source: BoardSource, board: SerialBoard, options: {baud?: number; waitMs?: number}): Promise<DfuBoard> {
	if (!source.rebootToDfu) {
		throw new FcflashError('This board source cannot reboot flight controllers: put the board in DFU by holding BOOT while plugging it in.', ExitCode.failed, 'boot-button');
	}
	const before = new Set(dfuBoards(await source.list()).map((b) => b.id));
	run.progress('reboot', 0, 1);
	await source.rebootToDfu(board, {baud: options.baud, onInfo: (line) => run.info(line)});
	run.progress('reboot', 1, 1);
	return awaitDfu(run, source, board, before, options.waitMs);
}

/** The DFU boards present now, so that a rebooted flight controller is the new one. */
export async function dfuBoardIds(source: BoardSource): Promise<Set<string>> {
	return new Set(dfuBoards(await source.list()).map((b) => b.id));
}

/** After the reboot request (MSP, `R`, or the CLI's `bl`): wait for the board in DFU. */
export async function awaitDfu(run: JobRun<unknown>, source: BoardSource, board: SerialBoard, before: ReadonlySet<string>, waitMs = defaultWaitMs): Promise<DfuBoard> {
	const dfu = await waitForDfu(run, source, {serialNumber: board.serialNumber, usbPath: board.usbPath, before}, {waitMs});
	if (run.stopped) throw new CancelledError('Interrupted while waiting for the DFU board: the flight controller may be in its bootloader now (nothing was written). Flash again, or unplug and replug it to start its firmware.', {nothingWritten: true});
	if (!dfu) {
		throw new FcflashError(`${board.port} was asked to reboot into DFU, but no DFU board appeared within ${Math.round(waitMs / 1000)} s.`, ExitCode.failed, 'no-dfu-after-reboot');
	}
	return dfu;
}
