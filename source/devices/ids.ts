// USB IDs seen in the field (REFERENCE.md). DFU = a board in its ROM bootloader; serial = a
// flight controller running firmware (its own VCP) or a USB-UART bridge.
export interface UsbId {
	vendorId: number;
	productId: number;
	name: string;
}

export const dfuIds: UsbId[] = [
	{vendorId: 0x0483, productId: 0xdf11, name: 'STM32 ROM bootloader'},
	{vendorId: 0x2e3c, productId: 0xdf11, name: 'AT32 ROM bootloader'},
	{vendorId: 0x314b, productId: 0x0106, name: 'APM32 ROM bootloader'},
	{vendorId: 0x28e9, productId: 0x0189, name: 'GD32 ROM bootloader'},
	{vendorId: 0x3997, productId: 0xdf11, name: 'X32 ROM bootloader'},
];

export const serialIds: UsbId[] = [
	{vendorId: 0x0483, productId: 0x5740, name: 'STM32 virtual COM port'},
	{vendorId: 0x2e3c, productId: 0x5740, name: 'AT32 virtual COM port'},
	{vendorId: 0x314b, productId: 0x5740, name: 'APM32 virtual COM port'},
	{vendorId: 0x28e9, productId: 0x018a, name: 'GD32 virtual COM port'},
	{vendorId: 0x3997, productId: 0x5740, name: 'X32 virtual COM port'},
	{vendorId: 0x10c4, productId: 0xea60, name: 'CP210x USB-UART'},
	{vendorId: 0x0403, productId: 0x6001, name: 'FTDI USB-UART'},
	{vendorId: 0x1a86, productId: 0x7523, name: 'CH340 USB-UART'},
	{vendorId: 0x1a86, productId: 0x7522, name: 'CH340 USB-UART'},
	{vendorId: 0x1a86, productId: 0x5523, name: 'CH341 USB-UART'},
];

const find = (table: UsbId[], vid: number, pid: number) => table.find((id) => id.vendorId === vid && id.productId === pid);
export const dfuId = (vid: number, pid: number) => find(dfuIds, vid, pid);
export const serialId = (vid: number, pid: number) => find(serialIds, vid, pid);
export const vidPid = (vid: number, pid: number) => `${vid.toString(16).padStart(4, '0')}:${pid.toString(16).padStart(4, '0')}`;
