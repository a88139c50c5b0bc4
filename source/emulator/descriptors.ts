// USB descriptors of the ST ROM DFU bootloader, as bytes. The same bytes answer GET_DESCRIPTOR in the
// emulator and fill the fake sysfs `descriptors` file the umockdev harness gives libusb, so dfu-util
// and node-usb parse exactly what the in-process engine sees.
import type {EmulatorProfile} from './types.js';

export const DESCRIPTOR_DEVICE = 1;
export const DESCRIPTOR_CONFIGURATION = 2;
export const DESCRIPTOR_STRING = 3;
export const DESCRIPTOR_INTERFACE = 4;
export const DESCRIPTOR_DFU_FUNCTIONAL = 0x21;

/** String indexes: 1-3 as in the device descriptor, alternate setting n uses 4 + n. */
export const STRING_MANUFACTURER = 1;
export const STRING_PRODUCT = 2;
export const STRING_SERIAL = 3;
export const STRING_FIRST_INTERFACE = 4;

export const DFU_DETACH_TIMEOUT = 255;
export const DFU_VERSION_DFUSE = 0x011a;

function le16(value: number): [number, number] {
	return [value & 0xff, (value >> 8) & 0xff];
}

export function deviceDescriptor(profile: EmulatorProfile): Uint8Array {
	return Uint8Array.from([
		18, DESCRIPTOR_DEVICE,
		...le16(0x0200), // bcdUSB 2.0 (full speed)
		0, 0, 0, // class per interface
		64, // bMaxPacketSize0
		...le16(profile.vendorId),
		...le16(profile.productId),
		...le16(profile.bcdDevice),
		STRING_MANUFACTURER, STRING_PRODUCT, STRING_SERIAL,
		1, // bNumConfigurations
	]);
}

/** `functional: false` leaves the DFU functional descriptor out (a broken clone, fault injection). */
export function configurationDescriptor(profile: EmulatorProfile, options: {functional?: boolean} = {}): Uint8Array {
	const body: number[] = [];
	profile.layouts.forEach((_layout, alt) => {
		body.push(
			9, DESCRIPTOR_INTERFACE,
			0, alt, // bInterfaceNumber, bAlternateSetting
			0, // no endpoints: DFU runs on EP0 only
			0xfe, 0x01, 0x02, // application specific, DFU, DFU mode protocol
			STRING_FIRST_INTERFACE + alt,
		);
	});
	// One DFU functional descriptor after the last alternate setting, where the ST ROM puts it.
	if (options.functional !== false) {
		body.push(
			9, DESCRIPTOR_DFU_FUNCTIONAL,
			profile.dfuAttributes,
			...le16(DFU_DETACH_TIMEOUT),
			...le16(profile.wTransferSize),
			...le16(DFU_VERSION_DFUSE),
		);
	}
	const total = 9 + body.length;
	return Uint8Array.from([
		9, DESCRIPTOR_CONFIGURATION,
		...le16(total),
		1, // bNumInterfaces
		1, // bConfigurationValue
		0, // iConfiguration
		0xc0, // self powered (bus-powered boards still report what the ROM reports)
		0x32, // 100 mA
		...body,
	]);
}

/** String descriptor 0: the supported language IDs (US English only). */
export function languageDescriptor(): Uint8Array {
	return Uint8Array.from([4, DESCRIPTOR_STRING, ...le16(0x0409)]);
}

export function stringDescriptor(text: string): Uint8Array {
	// bLength is one byte: 126 UTF-16 units at most; layouts are far shorter.
	const units = Array.from({length: Math.min(text.length, 126)}, (_, i) => text.charCodeAt(i));
	const bytes = new Uint8Array(2 + units.length * 2);
	bytes[0] = bytes.length;
	bytes[1] = DESCRIPTOR_STRING;
	units.forEach((unit, i) => {
		bytes[2 + i * 2] = unit & 0xff;
		bytes[3 + i * 2] = unit >> 8;
	});
	return bytes;
}

/** The text of string descriptor `index`, or undefined when the device has no such string. */
export function stringText(profile: EmulatorProfile, index: number, serialNumber = profile.serialNumber): string | undefined {
	if (index === STRING_MANUFACTURER) return profile.manufacturer;
	if (index === STRING_PRODUCT) return profile.product;
	if (index === STRING_SERIAL) return serialNumber;
	return profile.layouts[index - STRING_FIRST_INTERFACE];
}

/**
 * Linux sysfs `descriptors` file: the device descriptor followed by every configuration descriptor
 * in full (what libusb's linux_usbfs backend reads instead of asking the device).
 */
export function descriptorBlob(profile: EmulatorProfile, options: {functional?: boolean} = {}): Uint8Array {
	const device = deviceDescriptor(profile);
	const config = configurationDescriptor(profile, options);
	const blob = new Uint8Array(device.length + config.length);
	blob.set(device, 0);
	blob.set(config, device.length);
	return blob;
}
