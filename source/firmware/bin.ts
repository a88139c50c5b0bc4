// Raw binary: the bytes go to one address, by default the start of STM32 main flash. A DFU suffix
// (dfu-suffix -a) is not part of the firmware and is left out.
import {FirmwareError, UsageError} from '../errors.js';
import {hex32} from '../format.js';
import {stripDfuSuffix, suffixUsbId} from './dfu-file.js';
import {makeImage, type FirmwareImage} from './image.js';

export const defaultBinAddress = 0x0800_0000;

export function parseBin(file: string, data: Uint8Array, address = defaultBinAddress): FirmwareImage {
	if (!Number.isInteger(address) || address < 0 || address > 0xffff_ffff) {
		throw new UsageError(`--address ${address} is not a 32-bit address`);
	}
	if (data.length === 0) throw new FirmwareError(file, 'empty file: no bytes to flash', {offset: 0});
	// dfu-suffix -a appends 16 bytes that are not firmware: flashing them would put junk after the image.
	const stripped = stripDfuSuffix(file, data);
	data = stripped.data;
	if (address + data.length > 0x1_0000_0000) {
		throw new FirmwareError(file, `${data.length} bytes at ${hex32(address)} run past the 32-bit address space`);
	}
	return makeImage(file, 'bin', [{address, data}], null, stripped.vid === undefined ? undefined : suffixUsbId(stripped.vid, stripped.pid!));
}
