// Choosing the board a command acts on: --device, or the only candidate.
import {CancelledError, ExitCode, NoDeviceError} from '../errors.js';
import type {Progress as EngineProgress} from '../dfu/progress.js';

/** Engine progress plus the reboot and wait steps reported here (the job layer owns both). */
export type Progress = Omit<EngineProgress, 'phase'> & {phase: EngineProgress['phase'] | 'reboot' | 'wait'};
import {existsSync} from 'node:fs';
import {sleep} from '../sleep.js';
import type {Board, BoardSource, DfuBoard, SerialBoard} from './types.js';
import {FcflashError} from '../errors.js';

export function boardLabel(b: Board): string {
	if (b.kind === 'dfu') return `${b.id}  DFU  ${b.chip ?? b.name}${b.usbPath ? `  usb ${b.usbPath}` : ''}`;
	const fc = b.fc ? `  ${[b.fc.variant, b.fc.version, b.fc.board ?? b.fc.target].filter(Boolean).join(' ')}` : '';
	return `${b.id}  serial  ${b.name}${fc}`;
}

export function matchesDevice(b: Board, id: string): boolean {
	return b.id === id || b.serialNumber === id || b.usbPath === id || (b.kind === 'serial' && b.port === id);
}

export function chooseBoard(boards: Board[], deviceId?: string): Board {
	if (deviceId) {
		const hit = boards.filter((b) => matchesDevice(b, deviceId));
		if (hit.length === 1) return hit[0]!;
		if (hit.length === 0) {
			throw new NoDeviceError(
				`No board matches --device ${deviceId}.` + (boards.length ? ` Connected:\n  ${boards.map(boardLabel).join('\n  ')}` : ' No board is connected.'),
			);
		}
		boards = hit;
	}
	if (boards.length === 0) throw new NoDeviceError('No DFU board or flight controller found.');
	const usable = boards.filter((b) => !b.problem);
	if (boards.length > 1) {
		throw new NoDeviceError(`Several boards are connected; choose one with --device ID:\n  ${boards.map(boardLabel).join('\n  ')}`, 'several-devices');
	}
	if (usable.length === 0) {
		const p = boards[0]!.problem!;
		throw new FcflashError(p.message, p.hint === 'udev' || p.hint === 'zadig' || p.hint === 'dialout' ? 4 : 1, p.hint);
	}
	return usable[0]!;
}

/**
 * The board a command acts on. A --device that names a serial port the lister does not report (a
 * PTY, a port without USB ids) is taken at its word: the user pointed at it.
 */
export async function resolveBoard(source: BoardSource, deviceId?: string, listed?: Promise<Board[]>): Promise<Board> {
	const boards = await (listed ?? source.list());
	if (deviceId && deviceId.startsWith('/') && !boards.some((b) => matchesDevice(b, deviceId)) && existsSync(deviceId)) {
		const board: SerialBoard = {kind: 'serial', id: deviceId, port: deviceId, vendorId: 0, productId: 0, name: 'serial port'};
		board.fc = await source.identify?.(board);
		return board;
	}
	return chooseBoard(boards, deviceId);
}


/**
 * After a reboot request, wait for the ROM bootloader to enumerate (peers poll 4-10 s).
 * Prefer the DFU board with the same serial number as the FC; otherwise take a new one.
 */
export async function waitForDfuBoard(
	source: BoardSource,
	options: {serialNumber?: string; before?: Set<string>; timeoutMs?: number; signal?: AbortSignal} = {},
): Promise<DfuBoard | undefined> {
	const deadline = performance.now() + (options.timeoutMs ?? 10_000);
	while (performance.now() < deadline) {
		if (options.signal?.aborted) return undefined;
		const dfu = (await source.list()).filter((b): b is DfuBoard => b.kind === 'dfu' && !b.problem);
		const same = dfu.find((b) => options.serialNumber && b.serialNumber === options.serialNumber);
		const fresh = dfu.filter((b) => !options.before?.has(b.id));
		const pick = same ?? (fresh.length === 1 ? fresh[0] : undefined);
		if (pick) return pick;
		await sleep(200);
	}
	return undefined;
}

/**
 * Reboot a serial flight controller into its ROM bootloader and wait for the DFU board, reporting
 * the reboot and wait phases. Shared by flash, backup, leave and dfu.
 */
export async function rebootAndWait(
	source: BoardSource,
	board: SerialBoard,
	options: {baud?: number; onInfo?: (line: string) => void; onProgress?: (p: Progress) => void; signal?: AbortSignal; waitMs?: number} = {},
): Promise<DfuBoard> {
	if (!source.rebootToDfu) {
		throw new FcflashError('This board source cannot reboot flight controllers: put the board in DFU by holding BOOT while plugging it in.', ExitCode.failed, 'boot-button');
	}
	const waitMs = options.waitMs ?? 10_000;
	const before = new Set((await source.list()).filter((b) => b.kind === 'dfu').map((b) => b.id));
	options.onProgress?.({phase: 'reboot', done: 0, total: 1, rate: 0});
	await source.rebootToDfu(board, {baud: options.baud, onInfo: options.onInfo});
	options.onProgress?.({phase: 'reboot', done: 1, total: 1, rate: 0});
	options.onProgress?.({phase: 'wait', done: 0, total: 1, rate: 0});
	const dfu = await waitForDfuBoard(source, {serialNumber: board.serialNumber, before, timeoutMs: waitMs, signal: options.signal});
	if (options.signal?.aborted) throw new CancelledError('Interrupted while waiting for the DFU board.');
	if (!dfu) {
		throw new FcflashError(`${board.port} was asked to reboot into DFU, but no DFU board appeared within ${Math.round(waitMs / 1000)} s.`, ExitCode.failed, 'no-dfu-after-reboot');
	}
	options.onProgress?.({phase: 'wait', done: 1, total: 1, rate: 0});
	return dfu;
}
