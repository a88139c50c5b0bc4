// ST's DfuSe extensions (UM0391, AN3156): commands sent as DNLOAD block 0 and executed by the
// device on the following GETSTATUS, which reports dfuDNBUSY and how long to wait (poll.ts).
import {DeviceGoneError} from '../errors.js';
import {hex32} from '../format.js';
import {pollUntilIdle, type PollOptions, type PollOutcome} from './poll.js';
import {dnload, ensureIdle} from './requests.js';
import type {DfuTarget} from './target.js';

export {massEraseMaxMs, pollUntilIdle, type PollOutcome} from './poll.js';

export const Command = {SET_ADDRESS: 0x21, ERASE: 0x41, READ_UNPROTECT: 0x92} as const;

function command(code: number, address?: number): Uint8Array {
	if (address === undefined) return Uint8Array.of(code);
	const bytes = new Uint8Array(5);
	bytes[0] = code;
	new DataView(bytes.buffer).setUint32(1, address >>> 0, true);
	return bytes;
}

export async function setAddress(t: DfuTarget, address: number): Promise<PollOutcome> {
	await dnload(t, 0, command(Command.SET_ADDRESS, address));
	return pollUntilIdle(t, `Set address ${hex32(address)}`, {kind: 'command'});
}

/**
 * On an H7 the outcome may come back `recovered`: the caller reads the sector back before trusting
 * it (erase.ts). Note that ST's DFU library also moves the address pointer to the erased sector.
 */
export async function eraseSector(t: DfuTarget, address: number): Promise<PollOutcome> {
	await dnload(t, 0, command(Command.ERASE, address));
	return pollUntilIdle(t, `Erase of the sector at ${hex32(address)}`, {kind: 'erase'});
}

/** The ROM reports ~100 ms for a mass erase that takes seconds: keep polling for up to 35 s. */
export async function massErase(t: DfuTarget, options: Pick<PollOptions, 'signal' | 'cancelledMessage'> = {}): Promise<PollOutcome> {
	await dnload(t, 0, command(Command.ERASE));
	return pollUntilIdle(t, 'Mass erase', {...options, kind: 'mass-erase'});
}

/**
 * Read unprotect: the ROM mass-erases the whole chip, clears RDP and resets, so the device goes
 * away. Only call this after the user confirmed that the chip will be wiped.
 */
export async function readUnprotect(t: DfuTarget, options: Pick<PollOptions, 'signal' | 'cancelledMessage'> = {}): Promise<void> {
	// A refused read (the protection probe) leaves the ROM in dfuERROR, where DNLOAD stalls.
	await ensureIdle(t);
	await dnload(t, 0, command(Command.READ_UNPROTECT));
	try {
		await pollUntilIdle(t, 'Read unprotect', {...options, kind: 'mass-erase'});
	} catch (error) {
		if (error instanceof DeviceGoneError) return;
		throw error;
	}
}
