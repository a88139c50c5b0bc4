// Leaving DFU: set the pointer to the firmware's vector table and send a zero-length DNLOAD; the ROM
// manifests and resets into the application. It succeeded when the final GETSTATUS fails because
// the device reset, or answers dfuMANIFEST / dfuMANIFEST-WAIT-RESET with status OK and the device
// then leaves the bus within 2 s (real ST ROMs answer dfuMANIFEST; dfu-util counts that as success).
// A stall, dfuERROR, or a board still answering in DFU after 2 s is a StillInDfuError.
import {DeviceGoneError, FcflashError, StillInDfuError} from '../errors.js';
import type {FirmwareImage} from '../firmware/image.js';
import {hex32} from '../format.js';
import {sleep} from '../sleep.js';
import {setAddress} from './dfuse.js';
import type {MemoryLayout} from './layout.js';
import {dnload, ensureIdle, getStatus, State, stateName, Status, statusName} from './requests.js';
import type {DfuTarget} from './target.js';

/** How long a board that manifested may take to leave the bus. */
export const leaveResetMs = 2000;
const leavePollMs = 100;

/**
 * Where the firmware starts: the lowest address of the image (its vector table) when there is one,
 * else the start of main flash. One rule for `flash` and `leave`.
 */
export function leaveAddress(layout: MemoryLayout, image?: Pick<FirmwareImage, 'low'>): number {
	return image ? image.low : Math.min(...layout.sectors.map((s) => s.start));
}

function stillInDfu(address: number, why: string): StillInDfuError {
	return new StillInDfuError(
		`The firmware at ${hex32(address)} did not start: ${why}. The board is still in DFU; start it with \`fcflash-tui leave\` (or replug it without BOOT held).`,
	);
}

/** Poll until the device is gone; a board that still answers after `ms` did not reset. */
async function waitGone(target: DfuTarget, address: number, ms: number): Promise<void> {
	const started = performance.now();
	let answered: string | undefined;
	for (let first = true; first || performance.now() - started < ms; first = false) {
		if (!first) await sleep(leavePollMs);
		try {
			const s = await getStatus(target);
			answered = `${stateName(s.state)}, ${statusName(s.status)}`;
		} catch (error) {
			if (error instanceof DeviceGoneError) return;
			// Not answering is not being in DFU: it may be resetting.
			answered = undefined;
		}
	}
	if (answered !== undefined) throw stillInDfu(address, `it still answers in DFU (${answered}) ${ms / 1000} s after manifesting`);
}

export async function startFirmware(target: DfuTarget, address: number): Promise<void> {
	await ensureIdle(target);
	await setAddress(target, address);
	try {
		await dnload(target, 0);
	} catch (error) {
		if (error instanceof DeviceGoneError) return;
		throw stillInDfu(address, `the board refused the leave request (${error instanceof FcflashError ? error.message : String(error)})`);
	}
	let status;
	try {
		status = await getStatus(target);
	} catch (error) {
		// The device resets during (or instead of answering) this GETSTATUS: that is success.
		if (error instanceof DeviceGoneError) return;
		return waitGone(target, address, leaveResetMs);
	}
	const manifesting = status.state === State.dfuMANIFEST || status.state === State.dfuMANIFEST_WAIT_RESET;
	if (!manifesting || status.status !== Status.OK) {
		throw stillInDfu(address, `it answered ${stateName(status.state)} (${statusName(status.status)})`);
	}
	await waitGone(target, address, leaveResetMs);
}
