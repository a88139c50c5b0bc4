// DFU 1.1 class requests and the status/state vocabulary (USB DFU 1.1 spec, section 6).
import {DfuStatusError, NotInDfuError, ReadProtectedError, StuckBusyError, TransferError} from '../errors.js';
import {sleep} from '../sleep.js';
import {controlIn, controlOut, type ClassTransfer} from './transfer.js';

export const Request = {DETACH: 0, DNLOAD: 1, UPLOAD: 2, GETSTATUS: 3, CLRSTATUS: 4, GETSTATE: 5, ABORT: 6} as const;

export const State = {
	appIDLE: 0,
	appDETACH: 1,
	dfuIDLE: 2,
	dfuDNLOAD_SYNC: 3,
	dfuDNBUSY: 4,
	dfuDNLOAD_IDLE: 5,
	dfuMANIFEST_SYNC: 6,
	dfuMANIFEST: 7,
	dfuMANIFEST_WAIT_RESET: 8,
	dfuUPLOAD_IDLE: 9,
	dfuERROR: 10,
} as const;

export const Status = {
	OK: 0,
	errTARGET: 1,
	errFILE: 2,
	errWRITE: 3,
	errERASE: 4,
	errCHECK_ERASED: 5,
	errPROG: 6,
	errVERIFY: 7,
	errADDRESS: 8,
	errNOTDONE: 9,
	errFIRMWARE: 10,
	errVENDOR: 11,
	errUSBR: 12,
	errPOR: 13,
	errUNKNOWN: 14,
	errSTALLEDPKT: 15,
} as const;

// The spec's names: the identifiers with every '_' as '-' (dfuMANIFEST_WAIT_RESET is dfuMANIFEST-WAIT-RESET).
const stateNames = Object.fromEntries(Object.entries(State).map(([k, v]) => [v, k.replaceAll('_', '-')]));
const statusNames = Object.fromEntries(Object.entries(Status).map(([k, v]) => [v, k]));
export const stateName = (s: number) => stateNames[s] ?? `state ${s}`;
export const statusName = (s: number) => statusNames[s] ?? `status ${s}`;

export interface DfuStatus {
	status: number;
	pollTimeout: number;
	state: number;
}

export async function getStatus(t: ClassTransfer): Promise<DfuStatus> {
	const r = await controlIn(t, Request.GETSTATUS, 0, 6);
	if (r.stalled) throw new TransferError('The device stalled GETSTATUS.');
	const d = r.data;
	if (d.length < 6) throw new TransferError(`GETSTATUS returned ${d.length} bytes instead of 6.`);
	return {status: d[0]!, pollTimeout: d[1]! | (d[2]! << 8) | (d[3]! << 16), state: d[4]!};
}

export async function getState(t: ClassTransfer): Promise<number> {
	const r = await controlIn(t, Request.GETSTATE, 0, 1);
	if (r.stalled || r.data.length < 1) throw new TransferError('The device stalled GETSTATE.');
	return r.data[0]!;
}

export async function clearStatus(t: ClassTransfer): Promise<void> {
	await controlOut(t, Request.CLRSTATUS, 0);
}

export async function abort(t: ClassTransfer): Promise<void> {
	await controlOut(t, Request.ABORT, 0);
}

export async function dnload(t: ClassTransfer, block: number, data?: Uint8Array): Promise<void> {
	if (!(await controlOut(t, Request.DNLOAD, block, data))) {
		throw await errorFromDevice(t, `The device refused DNLOAD block ${block}`);
	}
}

export async function upload(t: ClassTransfer, block: number, length: number): Promise<Uint8Array> {
	const r = await controlIn(t, Request.UPLOAD, block, length);
	if (r.stalled) throw await errorFromDevice(t, `The device refused UPLOAD block ${block}`);
	return r.data;
}

/** After a stall, ask the device why (GETSTATUS) so the error names the DFU status. */
export async function errorFromDevice(t: ClassTransfer, what: string): Promise<Error> {
	try {
		const s = await getStatus(t);
		return statusError(what, s);
	} catch {
		return new TransferError(`${what} (stalled).`);
	}
}

export function statusError(what: string, s: DfuStatus): Error {
	if (s.status === Status.errVENDOR) return new ReadProtectedError();
	// The chip refusing to erase or program: the ROM is still there, so the hint is "flash again".
	const flashFailure = [Status.errWRITE, Status.errERASE, Status.errCHECK_ERASED, Status.errPROG, Status.errVERIFY].includes(s.status as 3);
	return new DfuStatusError(`${what}: ${statusName(s.status)} (${stateName(s.state)}).`, s.status, s.state, flashFailure ? 'flash-failed' : undefined);
}

export interface IdleOptions {
	/** How long a board found busy (dfuDNBUSY, dfuMANIFEST) may stay so before it counts as stuck. */
	busyWaitMs?: number;
}

/** A board found busy is polled at its own interval, but never faster than this. */
const MIN_IDLE_POLL_MS = 10;
const DEFAULT_BUSY_WAIT_MS = 5000;

/**
 * Bring the device to dfuIDLE from whatever state it is in: CLRSTATUS leaves dfuERROR, ABORT leaves
 * the download/upload idle states, a busy board gets a bounded wait. A board not in DFU at all
 * (appIDLE) and one that stays busy are typed errors. Bounded in steps and in time.
 */
export async function ensureIdle(t: ClassTransfer, options: IdleOptions = {}): Promise<void> {
	const busyWaitMs = options.busyWaitMs ?? DEFAULT_BUSY_WAIT_MS;
	const started = performance.now();
	for (let steps = 0; steps < 8; ) {
		const s = await getStatus(t);
		switch (s.state) {
			case State.dfuIDLE:
				return;
			case State.dfuERROR:
				steps++;
				await clearStatus(t);
				break;
			case State.dfuDNLOAD_IDLE:
			case State.dfuUPLOAD_IDLE:
			case State.dfuDNLOAD_SYNC:
			case State.dfuMANIFEST_SYNC:
				steps++;
				await abort(t);
				break;
			case State.dfuDNBUSY:
			case State.dfuMANIFEST: {
				const waited = performance.now() - started;
				if (waited >= busyWaitMs) {
					throw new StuckBusyError(
						`The board has been busy (${stateName(s.state)}, ${statusName(s.status)}) for ${(waited / 1000).toFixed(1)} s without finishing: it is stuck. ` +
							'Unplug it, hold BOOT while plugging it in, and flash again.',
						s.status,
						s.state,
					);
				}
				await sleep(Math.min(Math.max(s.pollTimeout, MIN_IDLE_POLL_MS), busyWaitMs - waited));
				break;
			}
			case State.appIDLE:
			case State.appDETACH:
				throw new NotInDfuError(`The board answers ${stateName(s.state)}: it runs its application, not its DFU bootloader.`, s.state);
			default:
				throw new DfuStatusError(`The device is in ${stateName(s.state)}, not ready for DFU: replug it.`, s.status, s.state, 'boot-button');
		}
	}
	const s = await getStatus(t);
	if (s.state !== State.dfuIDLE) throw new DfuStatusError(`The device did not return to dfuIDLE (it is in ${stateName(s.state)}, ${statusName(s.status)}).`, s.status, s.state);
}
