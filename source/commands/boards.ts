// Board choice and reboot-into-DFU shared by backup, leave and dfu.
import type {Reporter} from '../cli/reporter.js';
import {boardLabel, chooseBoard, waitForDfuBoard} from '../devices/select.js';
import type {Board, BoardSource, DfuBoard, SerialBoard} from '../devices/types.js';
import {ExitCode, FcflashError, NoDeviceError} from '../errors.js';

/** The board a command acts on: --device (any kind), else the only board of the wanted kind. */
export function pickBoard(boards: Board[], device: string | undefined, kind?: Board['kind']): Board {
	if (device || !kind) return chooseBoard(boards, device);
	const wanted = boards.filter((b) => b.kind === kind);
	if (wanted.length === 0 && boards.length > 0) {
		const others = boards.map(boardLabel).join('\n  ');
		throw new NoDeviceError(
			kind === 'dfu'
				? `No board in DFU is connected; these run their firmware already:\n  ${others}`
				: `No flight controller running firmware is connected; these are in DFU already:\n  ${others}`,
		);
	}
	return chooseBoard(wanted, undefined);
}

export const deviceFacts = (b: Board) => ({
	id: b.id,
	name: b.kind === 'dfu' ? (b.chip ?? b.name) : b.name,
	serial: b.serialNumber ?? null,
	...(b.kind === 'serial' ? {port: b.port} : {}),
});

/**
 * Reboot a serial flight controller into its ROM bootloader and wait for the DFU board
 * (progress phases reboot and wait, as flash reports them).
 */
export async function rebootAndWait(
	source: BoardSource,
	board: SerialBoard,
	options: {baud?: number; reporter: Reporter; signal?: AbortSignal; waitMs?: number},
): Promise<DfuBoard> {
	if (!source.rebootToDfu) throw new FcflashError('This board source cannot reboot flight controllers: put the board in DFU by holding BOOT while plugging it in.', ExitCode.failed, 'boot-button');
	const waitMs = options.waitMs ?? 10_000;
	const before = new Set((await source.list()).filter((b) => b.kind === 'dfu').map((b) => b.id));
	options.reporter.progress({phase: 'reboot', done: 0, total: 1, rate: 0});
	await source.rebootToDfu(board, {baud: options.baud});
	options.reporter.progress({phase: 'reboot', done: 1, total: 1, rate: 0});
	options.reporter.progress({phase: 'wait', done: 0, total: 1, rate: 0});
	const dfu = await waitForDfuBoard(source, {serialNumber: board.serialNumber, before, timeoutMs: waitMs, signal: options.signal});
	if (options.signal?.aborted) throw new FcflashError('Interrupted while waiting for the DFU board.', ExitCode.interrupted);
	if (!dfu) {
		throw new FcflashError(`${board.port} was asked to reboot into DFU, but no DFU board appeared within ${Math.round(waitMs / 1000)} s.`, ExitCode.failed, 'no-dfu-after-reboot');
	}
	options.reporter.progress({phase: 'wait', done: 1, total: 1, rate: 0});
	return dfu;
}

/** The DFU board for a command that needs one: a serial FC is rebooted first unless --no-reboot. */
export async function dfuBoardFor(
	source: BoardSource,
	board: Board,
	options: {reboot: boolean; baud?: number; reporter: Reporter; signal?: AbortSignal},
): Promise<DfuBoard> {
	if (board.kind === 'dfu') return board;
	if (!options.reboot) {
		throw new NoDeviceError(`${board.port} is a flight controller running firmware, and --no-reboot was given: put it in DFU first (hold BOOT while plugging in).`, 'boot-button');
	}
	return rebootAndWait(source, board, options);
}

/** SIGINT/SIGTERM abort the signal; returns the signal and a function that removes the handlers. */
export function interruptible(): {signal: AbortSignal; done: () => void} {
	const controller = new AbortController();
	const stop = () => controller.abort();
	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);
	return {
		signal: controller.signal,
		done: () => {
			process.off('SIGINT', stop);
			process.off('SIGTERM', stop);
		},
	};
}
