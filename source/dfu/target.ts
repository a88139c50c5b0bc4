// Opening a board in its ROM bootloader: find the DFU-mode interface, read every alternate
// setting's memory layout, the functional descriptor's transfer size, and bcdDevice; check that
// the engine can work with what it found; bring the board to dfuIDLE. If anything after open()
// fails, the device is closed before the error is thrown: an open libusb handle would keep the
// process alive after the caller has printed the error.
import {usbError} from '../devices/usb-errors.js';
import {BoardBusyError, DescriptorError, FcflashError} from '../errors.js';
import {chipQuirks, describeChip, type ChipQuirks} from './chip.js';
import {isDfuModeInterface, readBcdDevice, readConfiguration, readString, type DfuFunctional} from './descriptors.js';
import {findSector, parseLayout, type MemoryLayout} from './layout.js';
import {ensureIdle} from './requests.js';
import type {ClassTransfer, Tracer} from './transfer.js';
import type {DfuUsbDevice} from './webusb.js';

export {bootloaderVersion, describeChip, flashSizeText} from './chip.js';

export interface AltSetting {
	alt: number;
	name: string;
	layout?: MemoryLayout;
}

export interface DfuTarget extends ClassTransfer {
	/** wTransferSize: 5..4096, checked at open. */
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
	/** Behaviours that differ by chip family (stuck-busy recovery, flash word). */
	quirks: ChipQuirks;
}

export interface OpenOptions {
	trace?: Tracer;
	/** How long a board found in dfuDNBUSY may stay busy before it counts as stuck (default 5 s). */
	busyWaitMs?: number;
}

/** The largest wTransferSize a DFU bootloader uses (and a control transfer's buffer here). */
export const maxTransferSize = 4096;
/**
 * DFU allows 1, but a DfuSe command (set address, erase) is a 5-byte DNLOAD and no DNLOAD may be
 * longer than wTransferSize: below 5 the board could not even be told where to write.
 */
export const minTransferSize = 5;

/** Refuse a functional descriptor the load loop could not work with. */
function checkFunctional(functional: DfuFunctional | undefined): DfuFunctional {
	if (!functional) {
		throw new DescriptorError('The board has no DFU functional descriptor, so it does not say how large a transfer may be: this is not a DfuSe bootloader the engine can flash.');
	}
	const size = functional.transferSize;
	if (!(size >= minTransferSize && size <= maxTransferSize)) {
		throw new DescriptorError(
			`The board reports a transfer size of ${size} bytes (wTransferSize); a DfuSe bootloader uses ${minTransferSize} (its commands are 5 bytes) to ${maxTransferSize}.`,
		);
	}
	return functional;
}

function checkLayout(main: MemoryLayout, transferSize: number, quirks: ChipQuirks): void {
	if (!main.sectors.some((s) => s.writable)) {
		throw new DescriptorError(`Alternate setting 0 ("${main.name}") has no writable region: there is nothing to flash.`);
	}
	if (quirks.flashWord > 0 && transferSize % quirks.flashWord !== 0) {
		throw new DescriptorError(
			`The board reports a transfer size of ${transferSize} bytes, not a multiple of the ${quirks.flashWord}-byte flash word of an ${quirks.family}: ` +
				'blocks would share flash words, which can be programmed only once.',
		);
	}
}

/** A libusb failure while claiming or setting up, as a typed error (busy: another program holds it). */
function setupError(error: unknown): FcflashError {
	if (error instanceof FcflashError) return error;
	const text = error instanceof Error ? `${error.message} ${(error as {code?: string}).code ?? ''}` : String(error);
	if (/LIBUSB_ERROR_BUSY|EBUSY/.test(text)) return new BoardBusyError();
	return usbError(error);
}

async function closeDevice(device: DfuUsbDevice, interfaceNumber: number | undefined): Promise<void> {
	if (interfaceNumber !== undefined) {
		try {
			await device.releaseInterface(interfaceNumber);
		} catch {
			// Gone, or never claimed: nothing to release.
		}
	}
	try {
		await device.close();
	} catch {
		// Same as above.
	}
}

export async function openDfuTarget(device: DfuUsbDevice, options: OpenOptions = {}): Promise<DfuTarget> {
	try {
		if (!device.opened) await device.open();
	} catch (error) {
		throw setupError(error);
	}
	let claimed: number | undefined;
	try {
		if (!device.configuration) await device.selectConfiguration(1);
		const probe: ClassTransfer = {device, interfaceNumber: 0, trace: options.trace};
		const config = await readConfiguration(probe);
		const dfuAlts = config.interfaces.filter(isDfuModeInterface);
		if (dfuAlts.length === 0) {
			throw new FcflashError('This USB device has no DFU interface in DFU mode.', 1, 'boot-button');
		}
		const functional = checkFunctional(config.functional);
		const interfaceNumber = dfuAlts[0]!.interfaceNumber;
		try {
			await device.claimInterface(interfaceNumber);
		} catch (error) {
			throw setupError(error);
		}
		claimed = interfaceNumber;
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
		if (!main) throw new DescriptorError(`Alternate setting 0 has no DfuSe memory layout (got "${alts[0]?.name ?? ''}").`);
		const quirks = chipQuirks(device.vendorId, main);
		checkLayout(main, functional.transferSize, quirks);
		await device.selectAlternateInterface(interfaceNumber, 0);
		const bcdDevice = await readBcdDevice(t);
		const target: DfuTarget = {
			...t,
			transferSize: functional.transferSize,
			attributes: functional.attributes,
			dfuVersion: functional.dfuVersion,
			bcdDevice,
			alts,
			flash: main,
			description: describeChip(device.vendorId, alts.map((a) => a.name)).text,
			quirks,
		};
		await ensureIdle(target, {busyWaitMs: options.busyWaitMs});
		return target;
	} catch (error) {
		await closeDevice(device, claimed);
		throw setupError(error);
	}
}

export {findSector};

export async function closeDfuTarget(target: DfuTarget): Promise<void> {
	await closeDevice(target.device, target.interfaceNumber);
}
