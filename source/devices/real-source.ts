// Real hardware: DFU boards through libusb (node-usb 2.x). The device list uses node-usb's legacy
// API so that a board we cannot open is still listed, with the reason; one board is wrapped as a
// WebUSB device for the engine. Serial flight controllers come from SerialBoards
// (serial-boards.ts), and watch() combines libusb hotplug events with a serial-port poll.
// Both native modules (`usb`, `serialport`) are imported on first use, never at load time.
import {dfuId, vidPid} from './ids.js';
import {usbError, usbProblem} from './usb-errors.js';
import {BoardWatcher, type UsbEvents} from './board-watcher.js';
import {SerialBoards, type SerialBoardsOptions} from './serial-boards.js';
import type {Board, BoardSource, DfuBoard, FlightControllerInfo, SerialBoard} from './types.js';
import type {Link} from './serial-link.js';
import type {DfuUsbDevice} from '../dfu/webusb.js';
import {NoDeviceError} from '../errors.js';
import {parseLayout, layoutSize} from '../dfu/layout.js';
import {bootloaderVersion} from '../dfu/target.js';
import {describeChip} from '../dfu/chip.js';

type UsbModule = typeof import('usb');
type UsbDevice = import('usb').usb.Device;

let usbModule: Promise<UsbModule> | undefined;
export const loadUsb = () => (usbModule ??= import('usb'));

export function usbPath(device: UsbDevice): string {
	const ports = device.portNumbers?.length ? device.portNumbers.join('.') : String(device.deviceAddress);
	return `${device.busNumber}-${ports}`;
}

function getString(device: UsbDevice, index: number): Promise<string | undefined> {
	return new Promise((resolve) => {
		if (!index) return resolve(undefined);
		device.getStringDescriptor(index, (error, value) => resolve(error ? undefined : value));
	});
}

/** Read what a DFU board tells about itself without claiming it: strings and the alt-0 layout. */
export async function describeDfuDevice(device: UsbDevice): Promise<DfuBoard> {
	const d = device.deviceDescriptor;
	const path = usbPath(device);
	const board: DfuBoard = {
		kind: 'dfu',
		id: path,
		vendorId: d.idVendor,
		productId: d.idProduct,
		name: dfuId(d.idVendor, d.idProduct)?.name ?? `DFU device ${vidPid(d.idVendor, d.idProduct)}`,
		usbPath: path,
		bootloader: bootloaderVersion(d.bcdDevice),
	};
	try {
		device.open();
	} catch (error) {
		board.problem = usbProblem(error);
		return board;
	}
	try {
		// node-usb's default of 1 s per transfer loses a string on a loaded machine (a Pi flashing a
		// bench of boards), and a board without its serial number is listed under another id.
		device.timeout = 5000;
		board.serialNumber = await getString(device, d.iSerialNumber);
		if (board.serialNumber) board.id = board.serialNumber;
		// Every alternate setting's layout: alt 0 is the main flash, the option bytes' address tells F4 from F7.
		const alts = (device.configDescriptor?.interfaces?.flat() ?? []).filter((i) => i.bInterfaceClass === 0xfe).sort((a, b) => a.bAlternateSetting - b.bAlternateSetting);
		const layouts: string[] = [];
		for (const alt of alts) layouts.push((await getString(device, alt.iInterface)) ?? '');
		const layoutText = alts[0]?.bAlternateSetting === 0 ? layouts[0] : undefined;
		if (layoutText) {
			board.layout = layoutText;
			board.layouts = layouts;
			try {
				board.flashSize = layoutSize(parseLayout(layoutText));
				const chip = describeChip(d.idVendor, layouts);
				board.chip = chip.text;
				if (chip.family) board.chipFamily = chip.family;
				if (chip.parts) board.chipParts = chip.parts;
			} catch {
				// An odd layout string still leaves a listable board.
			}
		}
	} finally {
		// Close at once: under some stacks an open handle keeps libusb's event thread busy.
		device.close();
	}
	return board;
}

/**
 * The same physical board in two listings: one USB port and one USB id, and the same serial number
 * when both listings read one (a listing that lost the string names the board by its port path).
 */
export function sameDfuBoard(a: DfuBoard, b: DfuBoard): boolean {
	if (a.usbPath === undefined || a.usbPath !== b.usbPath || a.vendorId !== b.vendorId || a.productId !== b.productId) return false;
	return !a.serialNumber || !b.serialNumber || a.serialNumber === b.serialNumber;
}

export interface RealSourceOptions {
	/** Serial side: port lister, sysfs root, identify/reboot stand-ins (tests). */
	serial?: SerialBoardsOptions;
	/** Replace the libusb DFU listing (tests). */
	listDfu?: () => Promise<DfuBoard[]>;
	/** Replace node-usb's `usb` emitter for attach/detach (tests); null = no USB hotplug. */
	usbEvents?: UsbEvents | null;
	/** Serial poll interval for watch() (default 1000 ms). */
	pollMs?: number;
	debounceMs?: number;
}

export class RealSource implements BoardSource {
	/** The last listing's DFU boards with their devices, for openDfu. */
	private devices: Array<{board: DfuBoard; device: UsbDevice}> = [];
	readonly serial: SerialBoards;
	private readonly watcher: BoardWatcher;
	private usbWarning?: string;

	constructor(private readonly options: RealSourceOptions = {}) {
		this.serial = new SerialBoards(options.serial);
		this.watcher = new BoardWatcher({
			list: () => this.list(),
			serialPorts: async () => (await this.serial.ports()).map((p) => p.path),
			usbEvents: async () => {
				if (options.usbEvents !== undefined) return options.usbEvents ?? undefined;
				try {
					return (await loadUsb()).usb;
				} catch {
					return undefined;
				}
			},
			pollMs: options.pollMs,
			debounceMs: options.debounceMs,
		});
	}

	/** Why the list may be incomplete: libusb or the serial listing unavailable. */
	get warnings(): string[] {
		return [...(this.usbWarning ? [this.usbWarning] : []), ...this.serial.warnings];
	}

	async list(): Promise<Board[]> {
		const [dfu, serial] = await Promise.all([this.listDfu(), this.serial.list()]);
		return [...dfu, ...serial];
	}

	private dfuListing?: Promise<DfuBoard[]>;
	/** The last description of each device, for devices that are open right now. */
	private described = new WeakMap<UsbDevice, DfuBoard>();

	/** Concurrent callers (watch, waitForDfuBoard, the TUI) share one pass over the bus. */
	private listDfu(): Promise<DfuBoard[]> {
		this.dfuListing ??= this.listDfuNow().finally(() => (this.dfuListing = undefined));
		return this.dfuListing;
	}

	private async listDfuNow(): Promise<DfuBoard[]> {
		if (this.options.listDfu) return this.options.listDfu();
		let usb: UsbModule['usb'];
		let deviceList: UsbDevice[];
		try {
			usb = (await loadUsb()).usb;
			deviceList = usb.getDeviceList();
			this.usbWarning = undefined;
		} catch (error) {
			// No libusb (or no USB at all in a container): serial boards can still be listed.
			this.usbWarning = `USB devices cannot be listed: ${error instanceof Error ? error.message : String(error)}`;
			return [];
		}
		const devices: Array<{board: DfuBoard; device: UsbDevice}> = [];
		for (const device of deviceList) {
			const d = device.deviceDescriptor;
			if (!dfuId(d.idVendor, d.idProduct)) continue;
			// A board being flashed is open: opening and closing it here would pull the handle from
			// under the engine, so it keeps the description it had.
			const open = device.interfaces !== undefined;
			const board = (open && this.described.get(device)) || (open ? undefined : await describeDfuDevice(device));
			if (!board) continue;
			this.described.set(device, board);
			devices.push({board, device});
		}
		this.devices = devices;
		return devices.map((l) => l.board);
	}

	async openDfu(board: DfuBoard): Promise<DfuUsbDevice> {
		const {WebUSBDevice} = await loadUsb();
		// By its port first (its id may differ between two listings), then by id (replugged elsewhere).
		const find = () => (this.devices.find((l) => sameDfuBoard(l.board, board)) ?? this.devices.find((l) => l.board.id === board.id))?.device;
		let device = find();
		if (!device) {
			await this.listDfu();
			device = find();
		}
		if (!device) throw new NoDeviceError(`The DFU board ${board.id} is gone.`);
		// node-usb's timeout is per device and defaults to 1 s; the peers use 5 s per transfer.
		device.timeout = 5000;
		try {
			return (await WebUSBDevice.createInstance(device)) as unknown as DfuUsbDevice;
		} catch (error) {
			throw usbError(error);
		}
	}

	/** MSP_SET_REBOOT(1), `R`, or INAV's CLI `dfu`, chosen by FC_VARIANT (see serial.ts). */
	async rebootToDfu(board: SerialBoard, options: {baud?: number; onInfo?: (line: string) => void} = {}): Promise<void> {
		await this.serial.rebootToDfu(board, options);
	}

	identify(board: SerialBoard): Promise<FlightControllerInfo | undefined> {
		return this.serial.identify(board);
	}

	openLink(board: SerialBoard, options: {baud?: number} = {}): Promise<Link> {
		return this.serial.openLink(board, options);
	}

	watch(onChange: (boards: Board[]) => void): () => void {
		return this.watcher.subscribe(onChange);
	}

	async close(): Promise<void> {
		this.watcher.close();
		await this.serial.settle();
	}
}
