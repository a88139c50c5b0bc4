// Which board a job acts on: the one the TUI's user chose (looked up again, it may have changed or
// gone), --device (serial number, USB path or serial port), or the only candidate. Several boards of
// the same kind are told apart by USB path and serial number everywhere.
import {existsSync} from 'node:fs';
import type {Board, BoardSource, SerialBoard} from '../devices/types.js';
import {ExitCode, FcflashError, NoDeviceError} from '../errors.js';
import type {BoardChoice} from './types.js';

export function boardLabel(b: Board): string {
	const where = [b.serialNumber ? `serial ${b.serialNumber}` : '', b.usbPath ? `usb ${b.usbPath}` : ''].filter(Boolean).join(', ');
	if (b.kind === 'dfu') return `${b.id}  DFU  ${b.chip ?? b.name}${where ? `  (${where})` : ''}`;
	const fc = b.fc ? `  ${[b.fc.variant, b.fc.version, b.fc.target ?? b.fc.board].filter(Boolean).join(' ')}` : '';
	return `${b.id}  serial ${b.port}  ${b.name}${fc}${where ? `  (${where})` : ''}`;
}

export function matchesDevice(b: Board, id: string): boolean {
	return b.id === id || b.serialNumber === id || b.usbPath === id || (b.kind === 'serial' && b.port === id);
}

/** The same physical board in a newer listing: by id, then USB path, then serial number. */
export function findAgain(boards: readonly Board[], board: Board): Board | undefined {
	return (
		boards.find((b) => b.kind === board.kind && b.id === board.id) ??
		boards.find((b) => b.kind === board.kind && board.usbPath !== undefined && b.usbPath === board.usbPath) ??
		boards.find((b) => b.kind === board.kind && board.serialNumber !== undefined && b.serialNumber === board.serialNumber)
	);
}

const listing = (boards: readonly Board[]) => boards.map(boardLabel).join('\n  ');

export function problemError(board: Board): FcflashError {
	const p = board.problem!;
	const exitCode = p.hint === 'udev' || p.hint === 'zadig' || p.hint === 'dialout' ? ExitCode.permission : ExitCode.failed;
	return new FcflashError(p.message, exitCode, p.hint);
}

/** The only usable board of `boards` (after --device and kind filtering), or a clear error. */
export function chooseBoard(boards: readonly Board[], options: {device?: string; kind?: Board['kind']} = {}): Board {
	const {device, kind} = options;
	let candidates = [...boards];
	if (device) {
		candidates = candidates.filter((b) => matchesDevice(b, device));
		if (candidates.length === 0) {
			throw new NoDeviceError(
				`No board matches --device ${device}.` + (boards.length ? ` Connected:\n  ${listing(boards)}` : ' No board is connected.'),
				boards.length ? 'device-id' : 'no-device',
			);
		}
	}
	if (kind && !device) {
		const wanted = candidates.filter((b) => b.kind === kind);
		if (wanted.length === 0 && candidates.length > 0) {
			throw new NoDeviceError(
				kind === 'dfu'
					? `No board in DFU is connected; these run their firmware:\n  ${listing(candidates)}`
					: `No flight controller running firmware is connected; these are in DFU already:\n  ${listing(candidates)}`,
				kind === 'dfu' ? 'not-in-dfu' : 'already-in-dfu',
			);
		}
		candidates = wanted;
	}
	if (candidates.length === 0) throw new NoDeviceError('No DFU board or flight controller found.');
	if (candidates.length > 1) {
		throw new NoDeviceError(`Several boards are connected; choose one with --device ID:\n  ${listing(candidates)}`, 'several-devices');
	}
	const board = candidates[0]!;
	if (board.problem) throw problemError(board);
	return board;
}

/**
 * The board a job acts on. A --device that names a serial port the lister does not report (a PTY,
 * a port without USB ids) is taken at its word: the user pointed at it.
 */
export async function resolveBoard(source: BoardSource, choice: BoardChoice, options: {kind?: Board['kind']; listed?: Promise<Board[]>} = {}): Promise<Board> {
	const boards = await (options.listed ?? source.list());
	if (choice.board) {
		const now = findAgain(boards, choice.board);
		if (!now) throw new NoDeviceError(`${boardLabel(choice.board)} is no longer connected.`, 'device-gone');
		if (now.problem) throw problemError(now);
		return now;
	}
	const device = choice.device;
	if (device && device.startsWith('/') && !boards.some((b) => matchesDevice(b, device)) && existsSync(device)) {
		const board: SerialBoard = {kind: 'serial', id: device, port: device, vendorId: 0, productId: 0, name: 'serial port'};
		board.fc = await source.identify?.(board);
		return board;
	}
	return chooseBoard(boards, {device, kind: options.kind});
}

/** USB-UART bridges (CP210x, CH340, FTDI) carry the FC's UART, not its USB: there is no DFU there. */
export function isUartBridge(board: Board): boolean {
	return board.kind === 'serial' && /USB-UART$/.test(board.name.replace(/ \(.*\)$/, ''));
}

/** The `device` object of a result (CONTRACT): id, name, serial and USB path. */
export const deviceFacts = (b: Board) => ({
	id: b.id,
	name: b.kind === 'dfu' ? (b.chip ?? b.name) : b.name,
	serial: b.serialNumber ?? null,
	usbPath: b.usbPath ?? null,
	...(b.kind === 'serial' ? {port: b.port} : {}),
});
