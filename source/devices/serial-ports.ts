// Serial ports that may be flight controllers: listed with serialport's SerialPort.list(). On Linux
// that runs `udevadm info -e`, which minimal systems, containers and CI runners do not have; then the
// ports are read from sysfs instead (/sys/class/tty/NAME/device, walking up to the USB device that
// owns the interface). `serialport` is a native module, imported only when a port is listed or opened.
import {readdir, readFile, realpath} from 'node:fs/promises';
import {basename, dirname, join, sep} from 'node:path';
import {errorText} from '../errors.js';
import {serialId, vidPid} from './ids.js';

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

