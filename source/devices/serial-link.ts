// Opening a serial port: a timeout on open, the errors a pilot meets mapped to what to do next, and
// SerialLink, an open port that speaks bytes and closes promptly. Link is what the flight-controller
// code (MSP, the CLI, settings) needs from any byte pipe, so the same code drives a real port, a
// PTY (fc-sitl) and an emulated flight controller in-process.
import {existsSync} from 'node:fs';
import {errorText, ExitCode, FcflashError, PermissionError, type ExitCodeValue} from '../errors.js';
import type {HintId} from '../hints.js';
import type {MspTransport} from './msp.js';
import {CloseSignal} from './close-signal.js';
import {loadSerialport} from './serial-ports.js';

export const DEFAULT_BAUD = 115200;

/** The part of serialport's SerialPortStream this module uses (so tests can stand in for it). */
export interface PortLike {
	readonly isOpen: boolean;
	open(callback: (error: Error | null) => void): void;
	write(data: Buffer, callback?: (error: Error | null | undefined) => void): boolean;
	drain(callback: (error: Error | null) => void): void;
	close(callback?: (error: Error | null) => void): void;
	on(event: 'data', listener: (chunk: Buffer) => void): unknown;
	on(event: 'error', listener: (error: Error) => void): unknown;
	on(event: 'close', listener: () => void): unknown;
	off(event: 'data', listener: (chunk: Buffer) => void): unknown;
}

export type PortFactory = (options: {path: string; baudRate: number}) => PortLike | Promise<PortLike>;

export interface OpenSerialOptions {
	baudRate?: number;
	/** How long opening may take (default 1500 ms). */
	openTimeoutMs?: number;
	/** Stand-in for serialport (tests). */
	createPort?: PortFactory;
}

const defaultFactory: PortFactory = async ({path, baudRate}) => {
	const {SerialPort} = await loadSerialport();
	// lock: an exclusive flock, so a Configurator holding the port gives a clear "busy".
	return new SerialPort({path, baudRate, autoOpen: false, lock: true}) as unknown as PortLike;
};

/** What an error while opening a serial port means for the pilot. */
export function serialProblem(error: unknown, path: string): {message: string; hint: HintId; exitCode: ExitCodeValue} {
	const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
	const text = `${errorText(error)} ${code}`;
	if (/EACCES|EPERM|Permission denied|Access denied/i.test(text)) {
		return {message: `Permission denied opening ${path}: your user is not allowed to use serial ports.`, hint: 'dialout', exitCode: ExitCode.permission};
	}
	if (/EBUSY|Resource busy|Cannot lock port|Resource temporarily unavailable|EAGAIN/i.test(text)) {
		return {message: `${path} is in use by another program (a Configurator, ModemManager, a terminal).`, hint: 'busy', exitCode: ExitCode.failed};
	}
	if (/ENOENT|No such file|ENODEV|ENXIO|File not found/i.test(text)) {
		return {message: `${path} is gone (the board was unplugged or rebooted).`, hint: 'device-gone', exitCode: ExitCode.noDevice};
	}
	return {message: `Cannot open ${path}: ${errorText(error)}`, hint: 'modemmanager', exitCode: ExitCode.failed};
}

export function serialOpenError(error: unknown, path: string): FcflashError {
	const p = serialProblem(error, path);
	if (p.exitCode === ExitCode.permission) return new PermissionError(p.message, p.hint);
	return new FcflashError(p.message, p.exitCode, p.hint);
}

/** An open byte link to a flight controller. */
export interface Link extends MspTransport {
	/** The port path (or an emulated board's name), for messages. */
	readonly path: string;
	/** True once the other end went away (the FC rebooted, the cable was pulled) or close() ran. */
	readonly closed: boolean;
	/** Resolves true when the link closed within `ms`, false otherwise. */
	waitClosed(ms: number): Promise<boolean>;
	/** Idempotent; resolves even when the other end never confirms. */
	close(): Promise<void>;
}

/** How often an open port checks that its device node is still there. */
const NODE_CHECK_MS = 200;

/**
 * An open serial port speaking bytes; closes promptly and idempotently. A port whose device node
 * (/dev/ttyACM0, a PTY's link) disappears is closed too: serialport's read loop retries at once on a
 * 0-byte read, which is what a hung-up tty returns, so a hangup that lands during a read never
 * reaches its poller, no 'close' comes, and the loop would spin until the port is closed.
 */
export class SerialLink implements Link {
	private readonly gone = new CloseSignal();
	private closing?: Promise<void>;
	private readonly nodeCheck?: NodeJS.Timeout;
	lastError?: Error;

	constructor(readonly path: string, private readonly port: PortLike) {
		port.on('error', (error) => (this.lastError = error));
		port.on('close', () => this.markClosed());
		if (path.startsWith('/') && existsSync(path)) {
			this.nodeCheck = setInterval(() => {
				if (existsSync(path)) return;
				this.markClosed();
				void this.close();
			}, NODE_CHECK_MS);
			this.nodeCheck.unref();
		}
	}

	private markClosed() {
		clearInterval(this.nodeCheck);
		this.gone.fire();
	}

	get closed() {
		return this.gone.isSet || !this.port.isOpen;
	}

	write(data: Uint8Array): Promise<void> {
		if (this.closed) return Promise.reject(new Error(`${this.path} is closed`));
		return new Promise((resolve, reject) => {
			this.port.write(Buffer.from(data), (error) => {
				if (error) return reject(error);
				this.port.drain((e) => (e ? reject(e) : resolve()));
			});
		});
	}

	onData(listener: (chunk: Buffer) => void): () => void {
		this.port.on('data', listener);
		return () => this.port.off('data', listener);
	}

	/** Resolves true when the other end went away (the FC rebooted) within `ms`. */
	waitClosed(ms: number): Promise<boolean> {
		return this.gone.wait(ms, () => this.closed);
	}

	close(): Promise<void> {
		if (this.closing) return this.closing;
		clearInterval(this.nodeCheck);
		this.closing = new Promise<void>((resolve) => {
			if (!this.port.isOpen) return resolve();
			const timer = setTimeout(resolve, 1000); // a vanished device may never confirm
			try {
				this.port.close(() => {
					clearTimeout(timer);
					resolve();
				});
			} catch {
				clearTimeout(timer);
				resolve();
			}
		});
		return this.closing;
	}
}

/** Open a port with a timeout; EACCES becomes a PermissionError (exit 4, hint dialout). */
export async function openSerial(path: string, options: OpenSerialOptions = {}): Promise<SerialLink> {
	const baudRate = options.baudRate ?? DEFAULT_BAUD;
	const timeoutMs = options.openTimeoutMs ?? 1500;
	let port: PortLike;
	try {
		port = await (options.createPort ?? defaultFactory)({path, baudRate});
	} catch (error) {
		throw serialOpenError(error, path);
	}
	// An 'error' with no listener would crash the process; the link installs its own after opening.
	const swallow = () => {};
	port.on('error', swallow);
	await new Promise<void>((resolve, reject) => {
		let settled = false;
		const timer = setTimeout(() => {
			settled = true;
			reject(new FcflashError(`Opening ${path} timed out after ${timeoutMs} ms.`, ExitCode.failed, 'modemmanager'));
		}, timeoutMs);
		port.open((error) => {
			if (settled) {
				// Opened after we gave up: let go of it at once.
				if (!error) port.close(() => {});
				return;
			}
			settled = true;
			clearTimeout(timer);
			if (error) reject(serialOpenError(error, path));
			else resolve();
		});
	});
	return new SerialLink(path, port);
}

