// The one grammar for a load address (--address, the TUI's address field): `0x` followed by hex
// digits, or plain decimal digits. A leading 0 is refused: dfu-util reads `08004000` as octal, a
// pilot means hex, and guessing either way could put the image at the wrong address.
import {UsageError} from '../errors.js';
import {hex32} from '../format.js';

export class AddressError extends UsageError {
	override name = 'AddressError';
}

export function parseAddress(text: string, what = '--address'): number {
	const t = text.trim();
	let n: number;
	if (/^0x[0-9a-f]+$/i.test(t)) n = Number.parseInt(t.slice(2), 16);
	else if (/^0\d+$/.test(t)) {
		const asHex = /^[0-9a-f]+$/i.test(t) ? Number.parseInt(t, 16) : Number.NaN;
		const guess = Number.isSafeInteger(asHex) && asHex <= 0xffffffff ? ` Did you mean ${hex32(asHex)}?` : '';
		throw new AddressError(`${what} "${text}" starts with 0, which some tools read as octal.${guess} Write hex with 0x.`);
	} else if (/^\d+$/.test(t)) n = Number(t);
	else throw new AddressError(`${what} "${text}" is not an address: write hex with 0x (e.g. 0x08000000) or plain decimal.`);
	if (!Number.isSafeInteger(n) || n > 0xffffffff) throw new AddressError(`${what} "${text}" is past the 32-bit address space.`);
	return n;
}
