// libusb errors a pilot actually meets, mapped to what to do about them.
import {DeviceGoneError, FcflashError, PermissionError} from '../errors.js';
import type {HintId} from '../hints.js';

export function usbProblem(error: unknown, platform: NodeJS.Platform = process.platform): {message: string; hint: HintId} {
	const text = error instanceof Error ? `${error.message} ${(error as {code?: string}).code ?? ''}` : String(error);
	if (/LIBUSB_ERROR_ACCESS|EACCES|EPERM/.test(text)) {
		return {message: 'Permission denied opening the USB device (LIBUSB_ERROR_ACCESS).', hint: 'udev'};
	}
	if (/LIBUSB_ERROR_NOT_SUPPORTED/.test(text)) {
		return platform === 'win32'
			? {message: 'Windows has no WinUSB driver bound to this device (LIBUSB_ERROR_NOT_SUPPORTED).', hint: 'zadig'}
			: {message: 'The USB device cannot be opened by libusb (LIBUSB_ERROR_NOT_SUPPORTED).', hint: 'udev'};
	}
	if (/LIBUSB_ERROR_BUSY/.test(text)) return {message: 'Another program holds the device (LIBUSB_ERROR_BUSY).', hint: 'busy'};
	if (/LIBUSB_ERROR_NO_DEVICE|ENODEV/.test(text)) return {message: 'The device was unplugged (LIBUSB_ERROR_NO_DEVICE).', hint: 'device-gone'};
	// Only ACCESS/EACCES/EPERM are permission problems; anything else is a USB failure (exit 1).
	return {message: `The USB device cannot be opened: ${text.trim()}`, hint: 'usb-error'};
}

export function usbError(error: unknown, platform?: NodeJS.Platform): FcflashError {
	const p = usbProblem(error, platform);
	if (p.hint === 'udev' || p.hint === 'zadig') return new PermissionError(p.message, p.hint);
	if (p.hint === 'device-gone') return new DeviceGoneError(p.message);
	return new FcflashError(p.message, 1, p.hint);
}
