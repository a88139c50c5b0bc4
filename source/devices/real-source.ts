// Real hardware: DFU boards through libusb (node-usb 2.x). The device list uses node-usb's legacy
// API so that a board we cannot open is still listed, with the reason; one board is wrapped as a
// WebUSB device for the engine. Serial flight controllers come from the serial service.
import {dfuId, vidPid} from './ids.js';
import {usbError, usbProblem} from './usb-errors.js';
import type {Board, BoardSource, DfuBoard} from './types.js';
import type {DfuUsbDevice} from '../dfu/usb-device.js';
import {NoDeviceError} from '../errors.js';
import {parseLayout, layoutSize} from '../dfu/layout.js';
import {bootloaderVersion, describeChip} from '../dfu/target.js';

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
		board.serialNumber = await getString(device, d.iSerialNumber);
		if (board.serialNumber) board.id = board.serialNumber;
		const alt0 = device.configDescriptor?.interfaces?.flat().find((i) => i.bInterfaceClass === 0xfe && i.bAlternateSetting === 0);
		const layoutText = alt0 ? await getString(device, alt0.iInterface) : undefined;
		if (layoutText) {
			board.layout = layoutText;
			try {
				const layout = parseLayout(layoutText);
				board.flashSize = layoutSize(layout);
				board.chip = describeChip(d.idVendor, layout);
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

export class RealSource implements BoardSource {
	private devices = new Map<string, UsbDevice>();

	async list(): Promise<Board[]> {
		const {usb} = await loadUsb();
		const boards: Board[] = [];
		this.devices.clear();
		for (const device of usb.getDeviceList()) {
			const d = device.deviceDescriptor;
			if (!dfuId(d.idVendor, d.idProduct)) continue;
			const board = await describeDfuDevice(device);
			this.devices.set(board.id, device);
			boards.push(board);
		}
		return boards;
	}

	async openDfu(board: DfuBoard): Promise<DfuUsbDevice> {
		const {WebUSBDevice} = await loadUsb();
		let device = this.devices.get(board.id);
		if (!device) {
			await this.list();
			device = this.devices.get(board.id);
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
}
