// Opening a board in its ROM bootloader: find the DFU-mode interface, read every alternate
// setting's memory layout, the functional descriptor's transfer size, and bcdDevice.
import {FcflashError, TransferError} from '../errors.js';
import {findSector, layoutSize, parseLayout, type MemoryLayout} from './layout.js';
import {isDfuModeInterface, readBcdDevice, readConfiguration, readString} from './descriptors.js';
import {ensureIdle} from './requests.js';
import type {ClassTransfer, Tracer} from './transfer.js';
import type {DfuUsbDevice} from './webusb.js';

export interface AltSetting {
	alt: number;
	name: string;
	layout?: MemoryLayout;
}

export interface DfuTarget extends ClassTransfer {
	transferSize: number;
	attributes: number;
	dfuVersion: number;
	/** bcdDevice; the ST ROM's bootloader version is the high byte (0x2200 = v2.2). */
	bcdDevice: number;
	alts: AltSetting[];
	/** The main flash: alt 0's layout. */
	flash: MemoryLayout;
	/** Chip family guessed from the flash layout and VID, e.g. "STM32F405/F407 (1 MiB)". */
	description: string;
}

export function bootloaderVersion(bcdDevice: number): string {
	const high = (bcdDevice >> 8) & 0xff;
	return `${high >> 4}.${high & 0xf}`;
}

export async function openDfuTarget(device: DfuUsbDevice, options: {trace?: Tracer} = {}): Promise<DfuTarget> {
	if (!device.opened) await device.open();
	if (!device.configuration) await device.selectConfiguration(1);
	const probe: ClassTransfer = {device, interfaceNumber: 0, trace: options.trace};
	const config = await readConfiguration(probe);
	const dfuAlts = config.interfaces.filter(isDfuModeInterface);
	if (dfuAlts.length === 0) {
		throw new FcflashError('This USB device has no DFU interface in DFU mode.', 1, 'boot-button');
	}
	const interfaceNumber = dfuAlts[0]!.interfaceNumber;
	await device.claimInterface(interfaceNumber);
	const t: ClassTransfer = {device, interfaceNumber, trace: options.trace};
	const alts: AltSetting[] = [];
	for (const d of dfuAlts.filter((a) => a.interfaceNumber === interfaceNumber)) {
		const name = await readString(t, d.iInterface);
		let layout: MemoryLayout | undefined;
		try {
			layout = parseLayout(name);
		} catch {
			// Not a DfuSe layout string: keep the name, there is just nothing to flash there.
		}
		alts.push({alt: d.alternateSetting, name, layout});
	}
	const main = alts.find((a) => a.alt === 0)?.layout;
	if (!main) throw new TransferError(`Alternate setting 0 has no DfuSe memory layout (got "${alts[0]?.name ?? ''}").`);
	await device.selectAlternateInterface(interfaceNumber, 0);
	const bcdDevice = await readBcdDevice(t);
	const target: DfuTarget = {
		...t,
		transferSize: config.functional?.transferSize ?? 2048,
		attributes: config.functional?.attributes ?? 0,
		dfuVersion: config.functional?.dfuVersion ?? 0,
		bcdDevice,
		alts,
		flash: main,
		description: describeChip(device.vendorId, main),
	};
	await ensureIdle(target);
	return target;
}

export function flashSizeText(bytes: number): string {
	return bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0 ? `${bytes / 1024 / 1024} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

/** A human guess at the chip from the layout, as the Configurator does; the layout is the fact. */
export function describeChip(vendorId: number, flash: MemoryLayout): string {
	const size = layoutSize(flash);
	const sizes = flash.sectors.map((s) => s.size / 1024);
	let family = 'STM32';
	if (vendorId === 0x2e3c) family = 'AT32F43x';
	else if (vendorId === 0x314b) family = 'APM32';
	else if (vendorId === 0x28e9) family = 'GD32';
	else if (vendorId === 0x3997) family = 'X32';
	else if (sizes.every((s) => s === 128) && flash.sectors.length >= 8) family = 'STM32H7';
	else if (sizes[0] === 16 && sizes[4] === 64) family = size === 1024 * 1024 ? 'STM32F405/F407' : size === 2048 * 1024 ? 'STM32F42x/F43x' : 'STM32F4/F7';
	else if (sizes[0] === 32 && sizes[4] === 128) family = 'STM32F745/F765';
	else if (sizes[0] === 2 || sizes[0] === 4) family = 'STM32G4/F3 or clone';
	return `${family} (${flashSizeText(size)})`;
}

export {findSector};

export async function closeDfuTarget(target: DfuTarget): Promise<void> {
	try {
		await target.device.releaseInterface(target.interfaceNumber);
	} catch {
		// The device may already have reset (after leave): nothing to release.
	}
	try {
		await target.device.close();
	} catch {
		// Same as above.
	}
}
