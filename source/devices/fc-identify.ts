// Asking a serial port which flight controller it is (MSP), then closing it again.
import {identify as mspIdentify, type MspIdentity} from './msp.js';
import {openSerial, type OpenSerialOptions} from './serial-link.js';

export interface IdentifyOptions extends OpenSerialOptions {
	/** Per MSP request (default 300 ms). */
	timeoutMs?: number;
}

/** Open, ask MSP who it is, close. undefined: the port does not speak MSP. Open errors throw. */
export async function identifyPort(path: string, options: IdentifyOptions = {}): Promise<MspIdentity | undefined> {
	const link = await openSerial(path, options);
	try {
		return await mspIdentify(link, {timeoutMs: options.timeoutMs ?? 300});
	} catch {
		return undefined; // the port vanished mid-way
	} finally {
		await link.close();
	}
}

