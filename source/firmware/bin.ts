// Raw binary: the bytes go to one address, by default the start of STM32 main flash.
import {FirmwareError, UsageError} from '../errors.js';
import {hex32} from '../format.js';
import {makeImage, type FirmwareImage} from './image.js';

export const defaultBinAddress = 0x0800_0000;

export function parseBin(file: string, data: Uint8Array, address = defaultBinAddress): FirmwareImage {
	if (!Number.isInteger(address) || address < 0 || address > 0xffff_ffff) {
		throw new UsageError(`--address ${address} is not a 32-bit address`);
	}
	if (data.length === 0) throw new FirmwareError(file, 'empty file: no bytes to flash', {offset: 0});
	if (address + data.length > 0x1_0000_0000) {
		throw new FirmwareError(file, `${data.length} bytes at ${hex32(address)} run past the 32-bit address space`);
	}
	return makeImage(file, 'bin', [{address, data}], null);
}
