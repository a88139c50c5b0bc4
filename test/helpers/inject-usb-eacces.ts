// Loaded with `node --import` in front of the CLI: every libusb open fails with LIBUSB_ERROR_ACCESS,
// as it does for a user without the udev rule. We run as root, so file modes cannot cause it.
import {usb} from 'usb';

usb.Device.prototype.open = function () {
	throw Object.assign(new Error('LIBUSB_ERROR_ACCESS'), {errno: -3});
};
