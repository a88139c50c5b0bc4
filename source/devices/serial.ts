// Serial flight controllers: find their ports, identify them over MSP and reboot them into the ROM
// bootloader (DFU).
//
// Listing uses serialport's SerialPort.list(). On Linux that runs `udevadm info -e`, which minimal
// systems, containers and CI runners do not have; then the ports are read from sysfs instead
// (/sys/class/tty/NAME/device, walking up to the USB device that owns the interface). `serialport`
// is a native module, so it is imported only when a port is actually listed or opened.
import {readdir, readFile, realpath} from 'node:fs/promises';
import {basename, dirname, join, sep} from 'node:path';
import {serialId, vidPid} from './ids.js';
import {apiAtLeast, identify as mspIdentify, MspCommand, MspParser, rebootToRomRequest, type MspIdentity, type MspTransport} from './msp.js';
import type {FlightControllerInfo} from './types.js';
import {FcflashError, PermissionError} from '../errors.js';
import type {HintId} from '../hints.js';

export const DEFAULT_BAUD = 115200;

// ---- Listing ---------------------------------------------------------------------------------

/** One serial port as the OS describes it. */
export interface SerialPortEntry {
	/** "/dev/ttyACM0", "COM3" */
	path: string;
	vendorId?: number;
	productId?: number;
	serialNumber?: string;
	manufacturer?: string;
	product?: string;
	/** USB bus path "1-1.2", as the DFU side reports it (Linux sysfs). */
	usbPath?: string;
}

/** A port whose USB id says flight controller (its own VCP) or USB-UART bridge. */
export interface FcPort extends SerialPortEntry {
	vendorId: number;
	productId: number;
	/** From ids.ts: "STM32 virtual COM port", "CP210x USB-UART". */
	name: string;
	bridge: boolean;
}

export interface ListSerialOptions {
	/** Replace the OS listing (tests, other platforms). */
	listPorts?: () => Promise<SerialPortEntry[]>;
	/** Read ports from this sysfs tree instead of asking udevadm (default: FCFLASH_SYSFS_ROOT). */
	sysfsRoot?: string;
	platform?: NodeJS.Platform;
}

export interface SerialListing {
	ports: FcPort[];
	/** Why the listing may be incomplete (missing tool, unreadable sysfs). Never thrown. */
	warnings: string[];
}

/** Names that can be serial ports on Linux (serialport's own filter, plus CH343's driver). */
const TTY_NAME = /^(tty(S|WCH|ACM|USB|AMA|MFD|O|XRUSB|CH34\d*USB)\d|rfcomm\d)/;

export const sysfsRootFromEnv = () => process.env.FCFLASH_SYSFS_ROOT || undefined;

async function readText(path: string): Promise<string | undefined> {
	try {
		const text = (await readFile(path, 'utf8')).trim();
		return text || undefined;
	} catch {
		return undefined;
	}
}

const hexId = (text: string | undefined) => {
	if (!text) return undefined;
	const n = Number.parseInt(text.replace(/^0x/i, ''), 16);
	return Number.isFinite(n) ? n : undefined;
};

export class SysfsUnavailableError extends Error {
	override name = 'SysfsUnavailableError';
}

/**
 * Serial ports from sysfs. /sys/class/tty/ttyACM0/device is the USB interface (cdc_acm); for
 * ttyUSB0 it is the usb-serial port below the interface. Walk up from there to the directory that
 * has idVendor: the USB device, whose name ("1-1.2") is the bus path. Ports not on USB are skipped.
 */
export async function listSysfsSerialPorts(root = sysfsRootFromEnv() ?? '/sys'): Promise<SerialPortEntry[]> {
	const classDir = join(root, 'class', 'tty');
	let names: string[];
	try {
		names = await readdir(classDir);
	} catch (error) {
		throw new SysfsUnavailableError(`${classDir} is not readable (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
	}
	let rootReal = root;
	try {
		rootReal = await realpath(root);
	} catch {
		// Keep the given root.
	}
	const ports: SerialPortEntry[] = [];
	for (const name of names.filter((n) => TTY_NAME.test(n)).sort()) {
		let dir: string;
		try {
			dir = await realpath(join(classDir, name, 'device'));
		} catch {
			continue; // virtual terminals have no device link
		}
		let usbDir: string | undefined;
		for (let i = 0; i < 4 && (dir === rootReal || dir.startsWith(rootReal + sep)); i++) {
			if ((await readText(join(dir, 'idVendor'))) !== undefined) {
				usbDir = dir;
				break;
			}
			dir = dirname(dir);
		}
		if (!usbDir) continue;
		const vendorId = hexId(await readText(join(usbDir, 'idVendor')));
		const productId = hexId(await readText(join(usbDir, 'idProduct')));
		const bus = basename(usbDir);
		ports.push({
			path: `/dev/${name}`,
			vendorId,
			productId,
			serialNumber: await readText(join(usbDir, 'serial')),
			manufacturer: await readText(join(usbDir, 'manufacturer')),
			product: await readText(join(usbDir, 'product')),
			usbPath: /^\d+-[\d.]+$/.test(bus) ? bus : undefined,
		});
	}
	return ports;
}

type SerialPortModule = typeof import('serialport');
let serialportModule: Promise<SerialPortModule> | undefined;
export const loadSerialport = () => (serialportModule ??= import('serialport'));

/** Remembered once seen: spawning a missing udevadm every second would only repeat the failure. */
let udevadmMissing = false;

async function serialportList(): Promise<SerialPortEntry[]> {
	const {SerialPort} = await loadSerialport();
	const list = await SerialPort.list();
	return list.map((p) => ({
		path: p.path,
		vendorId: hexId(p.vendorId),
		productId: hexId(p.productId),
		serialNumber: p.serialNumber || undefined,
		manufacturer: p.manufacturer || undefined,
	}));
}

/** All serial ports, by whatever means this system offers. Never throws. */
export async function listSerialEntries(options: ListSerialOptions = {}): Promise<{entries: SerialPortEntry[]; warnings: string[]}> {
	const warnings: string[] = [];
	if (options.listPorts) {
		try {
			return {entries: await options.listPorts(), warnings};
		} catch (error) {
			return {entries: [], warnings: [`Listing serial ports failed: ${errorText(error)}`]};
		}
	}
	const platform = options.platform ?? process.platform;
	const sysfsRoot = options.sysfsRoot ?? sysfsRootFromEnv();
	if (platform === 'linux') {
		let udevProblem: string | undefined;
		if (!sysfsRoot && !udevadmMissing) {
			try {
				const entries = await serialportList();
				// udev knows the ids; sysfs adds the USB bus path the DFU side reports.
				const sys = await listSysfsSerialPorts().catch(() => [] as SerialPortEntry[]);
				for (const e of entries) e.usbPath ??= sys.find((s) => s.path === e.path)?.usbPath;
				return {entries, warnings};
			} catch (error) {
				if ((error as NodeJS.ErrnoException).code === 'ENOENT') udevadmMissing = true;
				else udevProblem = errorText(error);
			}
		}
		try {
			return {entries: await listSysfsSerialPorts(sysfsRoot), warnings};
		} catch (error) {
			warnings.push(
				(udevProblem ? `Listing serial ports with udevadm failed (${udevProblem})` : 'Cannot list serial ports: `udevadm` is not installed (package udev)') +
					`, and the sysfs fallback failed too: ${errorText(error)}. Serial flight controllers are not shown; boards in DFU still are.`,
			);
			return {entries: [], warnings};
		}
	}
	try {
		return {entries: await serialportList(), warnings};
	} catch (error) {
		warnings.push(`Listing serial ports failed: ${errorText(error)}. Serial flight controllers are not shown.`);
		return {entries: [], warnings};
	}
}

const isBridgeName = (name: string) => /USB-UART$/.test(name);

/** Keep the ports whose USB id is a flight controller's VCP or a USB-UART bridge. */
export function classifyPorts(entries: SerialPortEntry[]): FcPort[] {
	const ports: FcPort[] = [];
	for (const e of entries) {
		if (e.vendorId === undefined || e.productId === undefined) continue;
		const id = serialId(e.vendorId, e.productId);
		if (!id) continue;
		ports.push({...e, vendorId: e.vendorId, productId: e.productId, name: id.name, bridge: isBridgeName(id.name)});
	}
	return ports.sort((a, b) => a.path.localeCompare(b.path, 'en', {numeric: true}));
}

export async function listSerialPorts(options: ListSerialOptions = {}): Promise<SerialListing> {
	const {entries, warnings} = await listSerialEntries(options);
	return {ports: classifyPorts(entries), warnings};
}

export const describePort = (p: FcPort) => `${p.path} (${p.name}, ${vidPid(p.vendorId, p.productId)})`;

// ---- Opening ---------------------------------------------------------------------------------

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

function errorText(error: unknown): string {
	if (error instanceof Error) return error.message.replace(/^Error:\s*/, '');
	return String(error);
}

/** What an error while opening a serial port means for the pilot. */
export function serialProblem(error: unknown, path: string): {message: string; hint: HintId; exitCode: 1 | 3 | 4} {
	const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
	const text = `${errorText(error)} ${code}`;
	if (/EACCES|EPERM|Permission denied|Access denied/i.test(text)) {
		return {message: `Permission denied opening ${path}: your user is not allowed to use serial ports.`, hint: 'dialout', exitCode: 4};
	}
	if (/EBUSY|Resource busy|Cannot lock port|Resource temporarily unavailable|EAGAIN/i.test(text)) {
		return {message: `${path} is in use by another program (a Configurator, ModemManager, a terminal).`, hint: 'busy', exitCode: 1};
	}
	if (/ENOENT|No such file|ENODEV|ENXIO|File not found/i.test(text)) {
		return {message: `${path} is gone (the board was unplugged or rebooted).`, hint: 'device-gone', exitCode: 3};
	}
	return {message: `Cannot open ${path}: ${errorText(error)}`, hint: 'modemmanager', exitCode: 1};
}

export function serialOpenError(error: unknown, path: string): FcflashError {
	const p = serialProblem(error, path);
	if (p.exitCode === 4) return new PermissionError(p.message, p.hint);
	return new FcflashError(p.message, p.exitCode, p.hint);
}

/** An open serial port speaking bytes; closes promptly and idempotently. */
export class SerialLink implements MspTransport {
	private closedFlag = false;
	private closing?: Promise<void>;
	private readonly closeWaiters = new Set<() => void>();
	lastError?: Error;

	constructor(readonly path: string, private readonly port: PortLike) {
		port.on('error', (error) => (this.lastError = error));
		port.on('close', () => {
			this.closedFlag = true;
			for (const w of this.closeWaiters) w();
			this.closeWaiters.clear();
		});
	}

	get closed() {
		return this.closedFlag || !this.port.isOpen;
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
		if (this.closed) return Promise.resolve(true);
		return new Promise((resolve) => {
			const done = () => {
				clearTimeout(timer);
				resolve(true);
			};
			const timer = setTimeout(() => {
				this.closeWaiters.delete(done);
				resolve(this.closed);
			}, ms);
			this.closeWaiters.add(done);
		});
	}

	close(): Promise<void> {
		if (this.closing) return this.closing;
		this.closing = new Promise<void>((resolve) => {
			if (this.closed) return resolve();
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
			reject(new FcflashError(`Opening ${path} timed out after ${timeoutMs} ms.`, 1, 'modemmanager'));
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

// ---- Identify --------------------------------------------------------------------------------

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

// ---- Reboot into DFU -------------------------------------------------------------------------

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
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Collect received text (CLI output) until `pattern` matches, the port closes, or `ms` pass. */
function waitForText(link: SerialLink, pattern: RegExp, ms: number): Promise<string | undefined> {
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
function waitForRebootAck(link: SerialLink, ms: number): Promise<boolean> {
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
	const send = async (data: Buffer | string) => {
		try {
			await link.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
			return true;
		} catch {
			return false; // the FC is already gone: that is what we wanted
		}
	};
	try {
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
	} finally {
		await link.close();
	}
}
