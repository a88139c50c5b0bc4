// Descriptor parsing. WebUSB (and node-usb's WebUSB layer) do not expose the DFU functional
// descriptor, so we read the configuration descriptor ourselves with GET_DESCRIPTOR and walk it.
import {TransferError} from '../errors.js';
import {controlIn, type ClassTransfer} from './transfer.js';

const GET_DESCRIPTOR = 6;
const DT_CONFIG = 2;
const DT_STRING = 3;
const DT_INTERFACE = 4;
const DT_DFU_FUNCTIONAL = 0x21;

export interface InterfaceDescriptor {
	interfaceNumber: number;
	alternateSetting: number;
	interfaceClass: number;
	interfaceSubclass: number;
	interfaceProtocol: number;
	iInterface: number;
}

export interface DfuFunctional {
	attributes: number;
	detachTimeout: number;
	transferSize: number;
	dfuVersion: number;
}

export interface ParsedConfiguration {
	interfaces: InterfaceDescriptor[];
	functional?: DfuFunctional;
}

export function isDfuModeInterface(i: InterfaceDescriptor): boolean {
	return i.interfaceClass === 0xfe && i.interfaceSubclass === 0x01 && i.interfaceProtocol === 0x02;
}

export function parseConfiguration(bytes: Uint8Array): ParsedConfiguration {
	const interfaces: InterfaceDescriptor[] = [];
	let functional: DfuFunctional | undefined;
	for (let at = 0; at + 2 <= bytes.length; ) {
		const length = bytes[at]!;
		const type = bytes[at + 1]!;
		if (length < 2 || at + length > bytes.length) break;
		if (type === DT_INTERFACE && length >= 9) {
			interfaces.push({
				interfaceNumber: bytes[at + 2]!,
				alternateSetting: bytes[at + 3]!,
				interfaceClass: bytes[at + 5]!,
				interfaceSubclass: bytes[at + 6]!,
				interfaceProtocol: bytes[at + 7]!,
				iInterface: bytes[at + 8]!,
			});
		} else if (type === DT_DFU_FUNCTIONAL && length >= 7) {
			const view = new DataView(bytes.buffer, bytes.byteOffset + at, length);
			functional = {
				attributes: bytes[at + 2]!,
				detachTimeout: view.getUint16(3, true),
				transferSize: view.getUint16(5, true),
				dfuVersion: length >= 9 ? view.getUint16(7, true) : 0x0100,
			};
		}
		at += length;
	}
	return {interfaces, functional};
}

async function getDescriptor(t: ClassTransfer, type: number, index: number, langId: number, length: number): Promise<Uint8Array> {
	const r = await controlIn(t, GET_DESCRIPTOR, (type << 8) | index, length, {requestType: 'standard', recipient: 'device', index: langId});
	if (r.stalled) throw new TransferError(`The device stalled GET_DESCRIPTOR(${type}, ${index}).`);
	return r.data;
}

/** bcdDevice straight from the device descriptor: WebUSB's deviceVersion* fields lose hex digits. */
export async function readBcdDevice(t: ClassTransfer): Promise<number> {
	const d = await getDescriptor(t, 1, 0, 0, 18);
	if (d.length < 14) throw new TransferError(`The device descriptor is ${d.length} bytes long.`);
	return d[12]! | (d[13]! << 8);
}

export async function readConfiguration(t: ClassTransfer): Promise<ParsedConfiguration> {
	const head = await getDescriptor(t, DT_CONFIG, 0, 0, 9);
	const total = head.length >= 4 ? head[2]! | (head[3]! << 8) : 9;
	return parseConfiguration(await getDescriptor(t, DT_CONFIG, 0, 0, total));
}

export async function readString(t: ClassTransfer, index: number): Promise<string> {
	if (index === 0) return '';
	const bytes = await getDescriptor(t, DT_STRING, index, 0x0409, 255);
	const length = Math.min(bytes[0] ?? 0, bytes.length);
	return Buffer.from(bytes.subarray(2, length - (length % 2))).toString('utf16le');
}
