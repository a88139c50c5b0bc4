// Rebooting a flight controller running firmware into its ROM bootloader (DFU), by the method its
// firmware understands.
import {sleep} from '../sleep.js';
import {apiAtLeast, identify as mspIdentify, MspCommand, MspParser, rebootToRomRequest} from './msp.js';
import type {IdentifyOptions} from './fc-identify.js';
import {DEFAULT_BAUD, openSerial, type Link} from './serial-link.js';
import type {FlightControllerInfo} from './types.js';

/**
 * - `msp`: MSP_SET_REBOOT with type 1 (ROM bootloader); Betaflight/Cleanflight/EmuFlight, API >= 1.42.
 * - `reboot-char`: the single character `R` (Betaflight's reboot_character) for older firmware and
 *   anything that did not answer MSP.
 * - `cli`: INAV ignores MSP_SET_REBOOT's type, so enter its CLI (`####`, newline) and send `dfu`.
 */
export type RebootMethod = 'msp' | 'reboot-char' | 'cli';

const MSP_REBOOT_VARIANTS = new Set(['BTFL', 'CLFL', 'EMUF']);

export function chooseRebootMethod(fc: FlightControllerInfo | undefined): RebootMethod {
	const variant = fc?.variant?.trim().toUpperCase();
	if (variant === 'INAV') return 'cli';
	if (variant && MSP_REBOOT_VARIANTS.has(variant) && apiAtLeast(fc?.apiVersion, 1, 42)) return 'msp';
	return 'reboot-char';
}

export interface RebootOptions extends IdentifyOptions {
	/** --baud for USB-UART bridges (default 115200; a VCP ignores it). */
	baud?: number;
	/** What a listing already learnt; the port is asked again anyway, this is the fallback. */
	fc?: FlightControllerInfo;
	/** Force a method instead of choosing by FC_VARIANT. */
	method?: RebootMethod;
	onInfo?: (line: string) => void;
}

export interface RebootResult {
	method: RebootMethod;
	/** Set when the chosen method got no confirmation and `R` was sent as well. */
	fellBackToChar?: boolean;
	fc?: FlightControllerInfo;
}

const REBOOT_CHAR = Buffer.from('R');

/** Collect received text (CLI output) until `pattern` matches, the port closes, or `ms` pass. */
function waitForText(link: Link, pattern: RegExp, ms: number): Promise<string | undefined> {
	return new Promise((resolve) => {
		let text = '';
		let done = false;
		const finish = (value: string | undefined) => {
			if (done) return;
			done = true;
			clearTimeout(timer);
			clearInterval(poll);
			off();
			resolve(value);
		};
		const off = link.onData((chunk) => {
			text += chunk.toString('latin1');
			if (pattern.test(text)) finish(text);
		});
		const timer = setTimeout(() => finish(undefined), ms);
		const poll = setInterval(() => link.closed && finish(undefined), 50);
	});
}

/** Wait for the ack of MSP_SET_REBOOT: true = acked or the port vanished, false = refused/silent. */
function waitForRebootAck(link: Link, ms: number): Promise<boolean> {
	return new Promise((resolve) => {
		const parser = new MspParser();
		let done = false;
		const finish = (ok: boolean) => {
			if (done) return;
			done = true;
			clearTimeout(timer);
			off();
			resolve(ok);
		};
		const off = link.onData((chunk) => {
			for (const f of parser.push(chunk)) if (f.cmd === MspCommand.setReboot && f.direction !== '<') return finish(f.direction === '>');
		});
		const timer = setTimeout(() => finish(link.closed), ms);
		void link.waitClosed(ms).then((closed) => closed && finish(true));
	});
}

/**
 * Ask the flight controller on `path` to reboot into its ROM bootloader. Resolves once the request
 * was sent (the port is closed again); waiting for the DFU device is the caller's job.
 */
export async function rebootToDfu(path: string, options: RebootOptions = {}): Promise<RebootResult> {
	const link = await openSerial(path, {...options, baudRate: options.baud ?? options.baudRate ?? DEFAULT_BAUD});
	try {
		return await rebootLinkToDfu(link, options);
	} finally {
		await link.close();
	}
}

/**
 * The same over a link that is already open (a real port, fc-sitl's PTY, an emulated FC). The link
 * is left for the caller to close; normally the FC has closed it by rebooting.
 */
export async function rebootLinkToDfu(link: Link, options: Omit<RebootOptions, keyof IdentifyOptions> & {timeoutMs?: number} = {}): Promise<RebootResult> {
	const path = link.path;
	const send = async (data: Buffer | string) => {
		try {
			await link.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
			return true;
		} catch {
			return false; // the FC is already gone: that is what we wanted
		}
	};
	let fc: FlightControllerInfo | undefined = options.fc;
	if (!options.method) {
		const fresh = await mspIdentify(link, {timeoutMs: options.timeoutMs ?? 300}).catch(() => undefined);
		if (fresh) fc = fresh;
	}
	const method = options.method ?? chooseRebootMethod(fc);
	const result: RebootResult = {method, fc};
	if (method === 'msp') {
		options.onInfo?.(`${path}: MSP_SET_REBOOT (ROM bootloader)`);
		await send(rebootToRomRequest());
		if (!(await waitForRebootAck(link, 600))) {
			options.onInfo?.(`${path}: no MSP reboot acknowledgement, sending 'R'`);
			result.fellBackToChar = true;
			await send(REBOOT_CHAR);
		}
	} else if (method === 'cli') {
		options.onInfo?.(`${path}: entering the CLI for 'dfu'`);
		await send('####\r\n');
		const prompt = await waitForText(link, /CLI|\r?\n# ?$|^# ?$/m, 1200);
		if (prompt !== undefined) {
			await send('dfu\r\n');
			await waitForText(link, /DFU|Rebooting|bootloader/i, 800);
		} else if (!link.closed) {
			options.onInfo?.(`${path}: no CLI prompt, sending 'R'`);
			result.fellBackToChar = true;
			await send(REBOOT_CHAR);
		}
	} else {
		options.onInfo?.(`${path}: sending the reboot character 'R'`);
		await send(REBOOT_CHAR);
	}
	// Give a UART bridge a moment to shift the last byte out before closing drops DTR.
	if (!link.closed) await Promise.race([link.waitClosed(150), sleep(150)]);
	return result;
}
