// Board choice and reboot-into-DFU shared by backup, leave and dfu.
import type {Reporter} from '../cli/reporter.js';
import {boardLabel, chooseBoard, rebootAndWait as rebootIntoDfuAndWait} from '../devices/select.js';
import type {Board, BoardSource, DfuBoard, SerialBoard} from '../devices/types.js';
import {NoDeviceError} from '../errors.js';

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

/** Reboot a serial FC into DFU with the reboot and wait phases on the reporter. */
export function rebootAndWait(
	source: BoardSource,
	board: SerialBoard,
	options: {baud?: number; reporter: Reporter; signal?: AbortSignal; waitMs?: number},
): Promise<DfuBoard> {
	return rebootIntoDfuAndWait(source, board, {...options, onProgress: (p) => options.reporter.progress(p)});
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
