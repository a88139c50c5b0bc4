// Typed errors: every failure a user can see carries a one-line message, an exit code
// (see CONTRACT: 1 failed, 2 bad input, 3 no device, 4 permission, 5 declined, 130 interrupted)
// and the id of the hint that tells them what to do next (source/hints.ts).
import {hex32} from './format.js';
import type {HintId} from './hints.js';

export const ExitCode = {
	ok: 0,
	failed: 1,
	usage: 2,
	noDevice: 3,
	permission: 4,
	declined: 5,
	interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class FcflashError extends Error {
	override name = 'FcflashError';
	constructor(
		message: string,
		readonly exitCode: ExitCodeValue = ExitCode.failed,
		readonly hint?: HintId,
	) {
		super(message);
	}
}

/** Unreadable or malformed firmware file; names the file and the line (hex) or byte offset (dfu). */
export class FirmwareError extends FcflashError {
	override name = 'FirmwareError';
	constructor(
		readonly file: string,
		readonly detail: string,
		readonly where?: {line?: number; offset?: number},
		hint: HintId = 'bad-file',
	) {
		const at = where?.line !== undefined ? `:${where.line}` : where?.offset !== undefined ? ` at offset ${where.offset}` : '';
		super(`${file}${at}: ${detail}`, ExitCode.usage, hint);
	}
}

/** The image does not fit the target's writable memory. Nothing has been erased. */
export class FitError extends FcflashError {
	override name = 'FitError';
	constructor(readonly address: number, detail: string) {
		super(detail, ExitCode.usage, 'image-fit');
	}
}

export class UsageError extends FcflashError {
	override name = 'UsageError';
	constructor(message: string, hint?: HintId) {
		super(message, ExitCode.usage, hint);
	}
}

/** The device answered with a DFU error status. */
export class DfuStatusError extends FcflashError {
	override name = 'DfuStatusError';
	constructor(message: string, readonly status: number, readonly state: number, hint?: HintId) {
		super(message, ExitCode.failed, hint);
	}
}

/** USB transfer failed (stall, timeout, pipe error). */
export class TransferError extends FcflashError {
	override name = 'TransferError';
	constructor(message: string, hint?: HintId) {
		super(message, ExitCode.failed, hint);
	}
}

/** The device vanished mid-operation. The ROM bootloader is still there after a replug. */
export class DeviceGoneError extends FcflashError {
	override name = 'DeviceGoneError';
	constructor(message = 'The board disconnected during the operation.') {
		super(message, ExitCode.failed, 'device-gone');
	}
}

export class ReadProtectedError extends FcflashError {
	override name = 'ReadProtectedError';
	constructor(message = 'The chip is read-protected (RDP): its flash cannot be erased or written until it is unprotected.') {
		super(message, ExitCode.failed, 'read-protect');
	}
}

export class VerifyError extends FcflashError {
	override name = 'VerifyError';
	constructor(readonly address: number, readonly expected: number, readonly actual: number) {
		super(
			`Verify failed at ${hex32(address)}: expected 0x${expected.toString(16).padStart(2, '0')}, read 0x${actual.toString(16).padStart(2, '0')}.`,
			ExitCode.failed,
			'verify-failed',
		);
	}
}

export class NoDeviceError extends FcflashError {
	override name = 'NoDeviceError';
	constructor(message: string, hint: HintId = 'no-device') {
		super(message, ExitCode.noDevice, hint);
	}
}

export class PermissionError extends FcflashError {
	override name = 'PermissionError';
	constructor(message: string, hint: HintId = 'udev') {
		super(message, ExitCode.permission, hint);
	}
}

/**
 * Stopped by the user (Ctrl-C, SIGTERM, q). The message says what the board holds; the hint must
 * agree with it: a stop before anything was written (at the confirmation, while waiting, during the
 * settings backup) gets the hint that says nothing was written, a stop once the flash had begun the
 * one about stopping at a block boundary. The thrower knows which and says so with `nothingWritten`.
 */
export class CancelledError extends FcflashError {
	override name = 'CancelledError';
	constructor(message = 'Interrupted.', options: {nothingWritten?: boolean} = {}) {
		super(message, ExitCode.interrupted, options.nothingWritten ? 'interrupted-nothing-written' : 'interrupted');
	}
}

export class DeclinedError extends FcflashError {
	override name = 'DeclinedError';
	constructor(message = 'Not confirmed: nothing was written.') {
		super(message, ExitCode.declined);
	}
}

/** The one-line text of any thrown value, without a leading "Error: ". */
export function errorText(error: unknown): string {
	if (error instanceof Error) return error.message.replace(/^Error:\s*/, '');
	return String(error);
}

// ---- Flight-controller CLI and settings (backup, restore, diff) ---------------------------------

/** The CLI did not show its `# ` prompt after `#`: no CLI, another program on the port, a hung FC. */
export class CliPromptError extends FcflashError {
	override name = 'CliPromptError';
	constructor(readonly port: string, readonly waitedMs: number) {
		super(`${port}: the CLI never showed its prompt (sent '#', waited ${(waitedMs / 1000).toFixed(1)} s).`, ExitCode.failed, 'cli-no-prompt');
	}
}

/** A CLI command did not come back to the prompt in time. */
export class CliTimeoutError extends FcflashError {
	override name = 'CliTimeoutError';
	constructor(readonly port: string, readonly command: string, readonly waitedMs: number) {
		super(`${port}: \`${command}\` did not finish within ${(waitedMs / 1000).toFixed(1)} s.`, ExitCode.failed, 'cli-no-prompt');
	}
}

/** The serial port went away in the middle of a CLI exchange (unplugged, rebooted, cable). */
export class CliPortGoneError extends FcflashError {
	override name = 'CliPortGoneError';
	constructor(readonly port: string, readonly during: string) {
		super(`${port} vanished during ${during}.`, ExitCode.failed, 'fc-port-gone');
	}
}

/** The CLI sent bytes that are not text (MSP frames, another baud rate): not a CLI answer. */
export class CliGarbageError extends FcflashError {
	override name = 'CliGarbageError';
	constructor(readonly port: string, readonly command: string, readonly offset: number) {
		super(`${port}: \`${command}\` returned a non-printable byte at offset ${offset}: the port is not answering as a CLI.`, ExitCode.failed, 'cli-garbage');
	}
}

/** The settings backup could not be written. `text` still holds the whole backup, so nothing is lost. */
export class BackupWriteError extends FcflashError {
	override name = 'BackupWriteError';
	constructor(
		readonly folder: string,
		readonly reason: string,
		readonly text: string,
		permission: boolean,
	) {
		super(
			permission
				? `Cannot write the settings backup into ${folder}: permission denied. Give your user write access to that folder, or choose another place with --out FILE (or XDG_DATA_HOME).`
				: `Cannot write the settings backup into ${folder}: ${reason}. Free some space or choose another place with --out FILE (or XDG_DATA_HOME).`,
			permission ? ExitCode.permission : ExitCode.failed,
			'backup-folder',
		);
	}
}

/** A settings file that is not a CLI `diff all` (binary, empty, no settings); names file and line. */
export class SettingsFileError extends FcflashError {
	override name = 'SettingsFileError';
	constructor(readonly file: string, readonly detail: string, readonly line?: number) {
		super(`${file}${line !== undefined ? `:${line}` : ''}: ${detail}`, ExitCode.usage, 'settings-file');
	}
}

/** A backup of one firmware (BTFL) offered to a board running another (INAV): never replayed. */
export class SettingsVariantError extends FcflashError {
	override name = 'SettingsVariantError';
	constructor(readonly file: string, readonly fileVariant: string, readonly boardVariant: string) {
		super(`${file} is a ${fileVariant} backup, but the flight controller runs ${boardVariant}: its settings do not apply, nothing was changed.`, ExitCode.usage, 'settings-variant');
	}
}

/** The backup was taken from another MCU (another board): refused unless forced. */
export class OtherBoardError extends FcflashError {
	override name = 'OtherBoardError';
	constructor(readonly file: string, readonly backupMcuId: string, readonly boardMcuId: string) {
		super(`${file} was backed up from the MCU ${backupMcuId}, but this flight controller is ${boardMcuId}: nothing was changed.`, ExitCode.usage, 'restore-other-board');
	}
}

/**
 * A restore that stopped before its `save`. Nothing after `defaults nosave` is kept until `save`, so
 * the board has the settings it had before (the new firmware's defaults after an upgrade).
 */
export class RestoreInterruptedError extends FcflashError {
	override name = 'RestoreInterruptedError';
	constructor(
		readonly file: string,
		readonly reason: string,
		readonly done: number,
		readonly total: number,
		cancelled = false,
	) {
		super(
			`The restore of ${file} stopped at line ${done} of ${total}: ${reason}. Nothing was saved: the flight controller is on the settings it had before (its defaults after a firmware upgrade). ` +
				`To finish, run \`fcflash-tui settings restore ${file}\`: it replays the whole file.`,
			cancelled ? ExitCode.interrupted : ExitCode.failed,
			'restore-interrupted',
		);
	}
}

// --- engine faults (issue #8) ---------------------------------------------------------------

/** Another program (a Configurator, dfu-util, another fcflash-tui) holds the board's interface. */
export class BoardBusyError extends FcflashError {
	override name = 'BoardBusyError';
	constructor(message = 'Another program holds the board (claiming its interface failed with LIBUSB_ERROR_BUSY).') {
		super(message, ExitCode.failed, 'busy');
	}
}

/** The board answers, but not as a DFU bootloader (appIDLE: it runs its application). */
export class NotInDfuError extends FcflashError {
	override name = 'NotInDfuError';
	constructor(message: string, readonly state: number) {
		super(message, ExitCode.failed, 'boot-button');
	}
}

/** The board stayed in dfuDNBUSY past every bound: an operation that never ends. */
export class StuckBusyError extends FcflashError {
	override name = 'StuckBusyError';
	constructor(message: string, readonly status: number, readonly state: number) {
		super(message, ExitCode.failed, 'stuck-busy');
	}
}

/** The board's descriptors are not something the engine can flash safely (bad transfer size, no layout...). */
export class DescriptorError extends FcflashError {
	override name = 'DescriptorError';
	constructor(message: string) {
		super(message, ExitCode.failed, 'bad-descriptor');
	}
}

/** Leave did not start the firmware: the board is still in its ROM bootloader. */
export class StillInDfuError extends FcflashError {
	override name = 'StillInDfuError';
	constructor(message: string) {
		super(message, ExitCode.failed, 'still-in-dfu');
	}
}

/** Reading the same block again gave other bytes every time: the read path cannot be trusted. */
export class UnstableReadError extends FcflashError {
	override name = 'UnstableReadError';
	constructor(readonly address: number, reads: number) {
		super(`Reading ${hex32(address)} gave different bytes on each of ${reads} reads: the USB link or the chip is not reliable, so nothing read from it was kept.`, ExitCode.failed, 'unstable-read');
	}
}

/** A sector still held data after its erase, and erasing it again did not help. */
export class NotErasedError extends FcflashError {
	override name = 'NotErasedError';
	constructor(readonly address: number, readonly actual: number, attempts: number) {
		super(
			`The sector at ${hex32(address)} is not blank after ${attempts} erase(s): read 0x${actual.toString(16).padStart(2, '0')} where 0xFF was expected.`,
			ExitCode.failed,
			'verify-failed',
		);
	}
}
