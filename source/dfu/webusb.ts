// The part of the WebUSB USBDevice interface the engine uses. node-usb's WebUSBDevice and the
// emulated bootloader both provide it, so the engine never knows which one it drives.
export type DfuUsbDevice = Pick<
	USBDevice,
	| 'open'
	| 'close'
	| 'opened'
	| 'claimInterface'
	| 'releaseInterface'
	| 'selectAlternateInterface'
	| 'selectConfiguration'
	| 'configuration'
	| 'controlTransferIn'
	| 'controlTransferOut'
	| 'vendorId'
	| 'productId'
	| 'serialNumber'
	| 'productName'
	| 'manufacturerName'
	| 'deviceVersionMajor'
	| 'deviceVersionMinor'
	| 'deviceVersionSubminor'
>;
