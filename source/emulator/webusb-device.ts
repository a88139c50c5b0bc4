// WebUSB-shaped wrapper around the emulated bootloader, interchangeable with node-usb's
// WebUSBDevice for the engine: same version decoding, same 'stall' results, the same
// LIBUSB_ERROR_NO_DEVICE failure once the board has gone, LIBUSB_ERROR_BUSY when another program
// holds the interface (claimBusy), and the full-speed bus time of every data stage (bus.ts).
import {setImmediate as immediate, setTimeout as sleep} from 'node:timers/promises';
import type {DfuUsbDevice} from '../dfu/webusb.js';
import {EmulatedBootloader} from './bootloader.js';
import {BusClock} from './bus.js';
import {profiles} from './profiles.js';
import {RequestType} from './protocol.js';
import type {ControlResult, EmulatorOptions, ProfileName} from './types.js';

export interface EmulatedUsbDeviceOptions {
	/** Added to every transfer to model USB round trips (benchmark). Default 0. */
	latencyMs?: number;
}

// BufferSource comes from the DOM lib, which this Node project does not load.
type OutData = ArrayBuffer | ArrayBufferView;

export type NoDeviceError = Error & {errno: -4; code: 'LIBUSB_ERROR_NO_DEVICE'};

/** What node-usb throws for a device that has left the bus. */
export function noDeviceError(): NoDeviceError {
	return Object.assign(new Error('LIBUSB_ERROR_NO_DEVICE'), {errno: -4 as const, code: 'LIBUSB_ERROR_NO_DEVICE' as const});
}

/** What node-usb's WebUSB layer throws when libusb cannot claim an interface another program holds. */
export function busyError(): Error & {code: 'LIBUSB_ERROR_BUSY'} {
	return Object.assign(new Error('claimInterface error: LIBUSB_ERROR_BUSY'), {code: 'LIBUSB_ERROR_BUSY' as const});
}

/** node-usb's decodeVersion: the BCD digits read as decimal, so 0x2200 is 22.0.0. */
function decodeVersion(bcd: number): {major: number; minor: number; sub: number} {
	const hex = bcd.toString(16).padStart(4, '0').slice(-4);
	return {major: Number.parseInt(hex.slice(0, 2), 10), minor: Number.parseInt(hex[2]!, 10), sub: Number.parseInt(hex[3]!, 10)};
}

function bmRequestType(setup: USBControlTransferParameters, direction: number): number {
	const type = setup.requestType === 'standard' ? RequestType.STANDARD : setup.requestType === 'class' ? RequestType.CLASS : RequestType.VENDOR;
	const recipient =
		setup.recipient === 'device'
			? RequestType.DEVICE
			: setup.recipient === 'interface'
				? RequestType.INTERFACE
				: setup.recipient === 'endpoint'
					? RequestType.ENDPOINT
					: RequestType.OTHER;
	return direction | type | recipient;
}

export class EmulatedUsbDevice implements DfuUsbDevice {
	readonly bootloader: EmulatedBootloader;
	readonly vendorId: number;
	readonly productId: number;
	readonly deviceVersionMajor: number;
	readonly deviceVersionMinor: number;
	readonly deviceVersionSubminor: number;
	readonly serialNumber: string;
	readonly productName: string;
	readonly manufacturerName: string;
	readonly latencyMs: number;

	private isOpen = false;
	private claimed = false;
	private readonly bus: BusClock;

	constructor(bootloader: EmulatedBootloader, options: EmulatedUsbDeviceOptions = {}) {
		this.bootloader = bootloader;
		const {profile} = bootloader;
		this.vendorId = profile.vendorId;
		this.productId = profile.productId;
		const version = decodeVersion(profile.bcdDevice);
		this.deviceVersionMajor = version.major;
		this.deviceVersionMinor = version.minor;
		this.deviceVersionSubminor = version.sub;
		this.serialNumber = bootloader.serialNumber;
		this.productName = profile.product;
		this.manufacturerName = profile.manufacturer;
		this.latencyMs = options.latencyMs ?? 0;
		this.bus = new BusClock(bootloader.timeScale);
		// A board that resets comes back closed, like a fresh device object after replug.
		bootloader.on('disconnect', () => {
			this.isOpen = false;
			this.claimed = false;
		});
	}

	get opened(): boolean {
		return this.isOpen;
	}

	/** The one configuration, with one DFU interface whose alternates carry the layout strings. */
	get configuration(): USBConfiguration {
		const {profile} = this.bootloader;
		const alternates: USBAlternateInterface[] = profile.layouts.map((layout, alternateSetting) => ({
			alternateSetting,
			interfaceClass: 0xfe,
			interfaceSubclass: 0x01,
			interfaceProtocol: 0x02,
			interfaceName: layout,
			endpoints: [],
		}));
		const iface: USBInterface = {
			interfaceNumber: 0,
			alternate: alternates[this.bootloader.alternate] ?? alternates[0]!,
			alternates,
			claimed: this.claimed,
		};
		return {configurationValue: 1, configurationName: null, interfaces: [iface]};
	}

	private async transfer(): Promise<void> {
		// Let timers and I/O run between transfers, as a real USB round trip would.
		if (this.latencyMs > 0) await sleep(this.latencyMs);
		else await immediate();
	}

	private checkUsable(what: string): void {
		if (!this.bootloader.connected) throw noDeviceError();
		if (!this.isOpen) throw new Error(`${what} error: invalid state`);
	}

	async open(): Promise<void> {
		await this.transfer();
		if (!this.bootloader.connected) throw noDeviceError();
		if (this.isOpen) return;
		this.isOpen = true;
		this.bootloader.beginSession();
	}

	async close(): Promise<void> {
		// Closing a vanished device is harmless (libusb_close), so cleanup paths never throw.
		this.isOpen = false;
		this.claimed = false;
	}

	async selectConfiguration(configurationValue: number): Promise<void> {
		await this.transfer();
		this.checkUsable('selectConfiguration');
		const result = this.bootloader.control({requestType: 0x00, request: 9, value: configurationValue, index: 0, length: 0});
		this.failUnlessOk(result, 'selectConfiguration');
	}

	async claimInterface(interfaceNumber: number): Promise<void> {
		await this.transfer();
		this.checkUsable('claimInterface');
		if (interfaceNumber !== 0) throw new Error('claimInterface error: interface not found');
		if (this.bootloader.claimBusy) throw busyError();
		this.claimed = true;
	}

	async releaseInterface(interfaceNumber: number): Promise<void> {
		await this.transfer();
		this.checkUsable('releaseInterface');
		if (interfaceNumber !== 0) throw new Error('releaseInterface error: interface not found');
		this.claimed = false;
	}

	async selectAlternateInterface(interfaceNumber: number, alternateSetting: number): Promise<void> {
		await this.transfer();
		this.checkUsable('selectAlternateInterface');
		if (interfaceNumber !== 0) throw new Error('selectAlternateInterface error: interface not found');
		if (!this.claimed) throw new Error('selectAlternateInterface error: invalid state');
		const result = this.bootloader.control({requestType: 0x01, request: 11, value: alternateSetting, index: interfaceNumber, length: 0});
		this.failUnlessOk(result, 'selectAlternateInterface');
	}

	private failUnlessOk(result: ControlResult, what: string): void {
		if (result.status === 'disconnected') throw noDeviceError();
		if (result.status === 'stall') throw new Error(`${what} error: LIBUSB_ERROR_PIPE`);
	}

	// wValue is 16 bits in the setup packet: a host that passes a larger block number gets it cut,
	// as libusb_fill_control_setup does.
	async controlTransferIn(setup: USBControlTransferParameters, length: number): Promise<USBInTransferResult> {
		await this.transfer();
		this.checkUsable('controlTransferIn');
		const result = this.bootloader.control(
			{requestType: bmRequestType(setup, RequestType.IN), request: setup.request, value: setup.value & 0xffff, index: setup.index, length},
		);
		if (result.status === 'disconnected') throw noDeviceError();
		if (result.status === 'stall') return {status: 'stall'};
		// A fresh buffer per transfer, as node-usb hands out.
		const bytes = new Uint8Array(result.data ?? new Uint8Array(0));
		await this.bus.charge(bytes.length);
		return {status: 'ok', data: new DataView(bytes.buffer)};
	}

	async controlTransferOut(setup: USBControlTransferParameters, data?: OutData): Promise<USBOutTransferResult> {
		await this.transfer();
		this.checkUsable('controlTransferOut');
		const bytes = data === undefined
			? new Uint8Array(0)
			: ArrayBuffer.isView(data)
				? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
				: new Uint8Array(data as ArrayBuffer);
		const result = this.bootloader.control(
			{requestType: bmRequestType(setup, 0), request: setup.request, value: setup.value & 0xffff, index: setup.index, length: bytes.length},
			bytes,
		);
		await this.bus.charge(bytes.length);
		if (result.status === 'disconnected') throw noDeviceError();
		if (result.status === 'stall') return {status: 'stall', bytesWritten: 0};
		return {status: 'ok', bytesWritten: bytes.length};
	}
}

/** A board from the built-in profiles, ready to hand to the engine. */
export function createEmulatedDevice(name: ProfileName, options: EmulatorOptions & EmulatedUsbDeviceOptions = {}): EmulatedUsbDevice {
	const profile = profiles[name];
	if (!profile) throw new RangeError(`Unknown emulator profile "${name}"`);
	return new EmulatedUsbDevice(new EmulatedBootloader(profile, options), {latencyMs: options.latencyMs});
}
