// Asking a flight controller which firmware it runs (MSP): over a link that is already open, or
// by opening a serial port for the question and closing it again.
import {identify as mspIdentify, type MspIdentity} from './msp.js';
import {openSerial, type Link, type OpenSerialOptions} from './serial-link.js';

export interface IdentifyOptions extends OpenSerialOptions {
	/** Per MSP request (default 300 ms). */
	timeoutMs?: number;
}

/** Ask MSP who it is over an open link. undefined: it does not speak MSP, or it vanished mid-way. */
export async function identifyLink(link: Link, options: {timeoutMs?: number} = {}): Promise<MspIdentity | undefined> {
	try {
		return await mspIdentify(link, {timeoutMs: options.timeoutMs ?? 300});
	} catch {
		return undefined; // the port vanished mid-way
	}
}

/** Open, ask MSP who it is, close. undefined: the port does not speak MSP. Open errors throw. */
export async function identifyPort(path: string, options: IdentifyOptions = {}): Promise<MspIdentity | undefined> {
	const link = await openSerial(path, options);
	try {
		return await identifyLink(link, options);
	} finally {
		await link.close();
	}
}
