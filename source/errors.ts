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

export class CancelledError extends FcflashError {
	override name = 'CancelledError';
	constructor(message = 'Interrupted.') {
		super(message, ExitCode.interrupted, 'interrupted');
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
