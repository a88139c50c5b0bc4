// Which serial port is the flight controller that just rebooted (after a flash, a save, `exit`)?
// A USB FC's port vanishes and comes back, not always under the same name (ttyACM0 can return as
// ttyACM1), so it is recognised by what stays: the USB port path, then the USB serial number, then
// being the only new flight-controller port. A port the user named (--device /dev/ttyACM0, a PTY)
// is taken at its word: the same path, nothing else. The waiting loop belongs to the caller.
import type {Board, SerialBoard} from '../devices/types.js';

export interface PortBefore {
	/** The port path it had. */
	port: string;
	usbPath?: string;
	serialNumber?: string;
	/** The user named this path: only the same path counts. */
	namedPath?: boolean;
	/**
	 * Only its USB path or serial number count, never "the only new port": a board flashed from
	 * DFU had no port before, and with other boards rebooting (flash on connect) a new port may be
	 * another board's.
	 */
	knownOnly?: boolean;
}

export type ReturnMatch = {board: SerialBoard; by: 'path' | 'usb-path' | 'serial-number' | 'only-new-port'};

/**
 * `portsBefore`: the serial ports present while the board was away (in DFU, rebooting), so that its
 * return is the new one. Undefined when nothing matches yet (or the match would be a guess).
 */
export function matchReturnedPort(before: PortBefore, boards: readonly Board[], portsBefore: ReadonlySet<string>): ReturnMatch | undefined {
	const serial = boards.filter((b): b is SerialBoard => b.kind === 'serial');
	if (before.namedPath) {
		const same = serial.find((b) => b.port === before.port);
		return same ? {board: same, by: 'path'} : undefined;
	}
	if (before.usbPath) {
		const same = serial.find((b) => b.usbPath === before.usbPath);
		if (same) return {board: same, by: 'usb-path'};
	}
	if (before.serialNumber) {
		// Some clones share one serial number: two ports with it prove nothing.
		const same = serial.filter((b) => b.serialNumber === before.serialNumber);
		if (same.length === 1) return {board: same[0]!, by: 'serial-number'};
	}
	if (before.knownOnly) return undefined;
	const fresh = serial.filter((b) => !portsBefore.has(b.port));
	return fresh.length === 1 ? {board: fresh[0]!, by: 'only-new-port'} : undefined;
}
