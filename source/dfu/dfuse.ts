// ST's DfuSe extensions (UM0391, AN3156): commands sent as DNLOAD block 0 and executed by the
// device on the following GETSTATUS, which reports dfuDNBUSY and how long to wait.
import {DeviceGoneError, TransferError} from '../errors.js';
import {hex32} from '../format.js';
import {sleep} from '../sleep.js';
import {clearStatus, dnload, ensureIdle, getStatus, State, statusError, Status, type DfuStatus} from './requests.js';
import type {ClassTransfer} from './transfer.js';

export const Command = {SET_ADDRESS: 0x21, ERASE: 0x41, READ_UNPROTECT: 0x92} as const;

/** dfu-util's and the ROM's own bound for a mass erase, whatever bwPollTimeout says. */
export const massEraseMaxMs = 35_000;

export interface PollOptions {
	/** Give up after this long; also the window in which a failing GETSTATUS counts as still busy. */
	maxWaitMs?: number;
	/** A GETSTATUS that times out or stalls inside the window means "busy" (mass erase). */
	tolerateFailures?: boolean;
}

export interface PollOutcome {
	status: DfuStatus;
	/** The device sat in dfuDNBUSY past its poll timeout and was recovered with CLRSTATUS (H7). */
	recovered: boolean;
	busyMs: number;
}

/**
 * Poll GETSTATUS at exactly the interval the device asks for until it leaves dfuDNBUSY.
 * Some H7 parts stay in dfuDNBUSY well past their poll timeout (bank 2); Betaflight and
 * STM32CubeProgrammer clear that with CLRSTATUS and carry on, and so do we, leaving the
 * result to verification.
 */
export async function pollUntilIdle(t: ClassTransfer, what: string, options: PollOptions = {}): Promise<PollOutcome> {
	const started = performance.now();
	// bwPollTimeout runs on the device's clock from the moment it handled our GETSTATUS, which is
	// when we sent it plus the one-way USB latency; the next GETSTATUS also takes that latency to
	// arrive. So the wait is counted from our request, not from our receipt of the answer: the device
	// still sees exactly bwPollTimeout between the two, and we save a round trip per block.
	let askedAt = started;
	let status = await getStatus(t);
	// A normal operation finishes within its first reported poll timeout (plus USB latency).
	const stuckAfter = options.maxWaitMs ?? Math.max(3 * status.pollTimeout, 250);
	while (status.state === State.dfuDNBUSY || status.state === State.dfuDNLOAD_SYNC) {
		const elapsed = performance.now() - started;
		if (elapsed > stuckAfter) {
			if (options.maxWaitMs !== undefined) {
				throw new TransferError(`${what} did not finish within ${Math.round(options.maxWaitMs / 1000)} s.`);
			}
			await clearStatus(t);
			const after = await getStatus(t);
			if (after.state === State.dfuERROR) await clearStatus(t);
			return {status: after, recovered: true, busyMs: performance.now() - started};
		}
		await sleep(askedAt + status.pollTimeout - performance.now());
		try {
			askedAt = performance.now();
			status = await getStatus(t);
		} catch (error) {
			if (!options.tolerateFailures || error instanceof DeviceGoneError) throw error;
			status = {status: Status.OK, pollTimeout: 100, state: State.dfuDNBUSY};
		}
	}
	if (status.state === State.dfuERROR || status.status !== Status.OK) throw statusError(what, status);
	return {status, recovered: false, busyMs: performance.now() - started};
}

function command(code: number, address?: number): Uint8Array {
	if (address === undefined) return Uint8Array.of(code);
	const bytes = new Uint8Array(5);
	bytes[0] = code;
	new DataView(bytes.buffer).setUint32(1, address >>> 0, true);
	return bytes;
}

export async function setAddress(t: ClassTransfer, address: number): Promise<PollOutcome> {
	await dnload(t, 0, command(Command.SET_ADDRESS, address));
	return pollUntilIdle(t, `Set address ${hex32(address)}`);
}

export async function eraseSector(t: ClassTransfer, address: number): Promise<PollOutcome> {
	await dnload(t, 0, command(Command.ERASE, address));
	return pollUntilIdle(t, `Erase of the sector at ${hex32(address)}`);
}

/** The ROM reports ~100 ms for a mass erase that takes seconds: keep polling for up to 35 s. */
export async function massErase(t: ClassTransfer): Promise<PollOutcome> {
	await dnload(t, 0, command(Command.ERASE));
	return pollUntilIdle(t, 'Mass erase', {maxWaitMs: massEraseMaxMs, tolerateFailures: true});
}

/**
 * Read unprotect: the ROM mass-erases the whole chip, clears RDP and resets, so the device goes
 * away. Only call this after the user confirmed that the chip will be wiped.
 */
export async function readUnprotect(t: ClassTransfer): Promise<void> {
	// A refused read (the protection probe) leaves the ROM in dfuERROR, where DNLOAD stalls.
	await ensureIdle(t);
	await dnload(t, 0, command(Command.READ_UNPROTECT));
	try {
		await pollUntilIdle(t, 'Read unprotect', {maxWaitMs: massEraseMaxMs, tolerateFailures: true});
	} catch (error) {
		if (error instanceof DeviceGoneError) return;
		throw error;
	}
}
