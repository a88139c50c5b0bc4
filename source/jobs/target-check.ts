// Does the image belong on this board? Two questions with different weights:
// - the MCU: an image built for another MCU does not run (or bricks the boot until a DFU flash):
//   refused unless forced (CONTRACT: exit 2 without --force; the TUI asks for the typed word force);
// - the board name: the same MCU on another board runs, but with the wrong pins (motors, gyro):
//   a warning on the confirmation and in the result.
// A serial flight controller tells its target and board name over MSP; a board in DFU only its chip
// (dfu/chip.ts), from its memory layouts.
import {basename} from 'node:path';
import type {Board} from '../devices/types.js';
import type {FirmwareImage} from '../firmware/image.js';

const normalise = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]/g, '');

/** "STM32F405" -> {vendor: "STM32", part: "F405"}; undefined for a legacy board-named target. */
export function mcuOf(target: string): {vendor: string; part: string; family: string} | undefined {
	const m = /^(STM32|AT32|APM32|GD32)([FGHL]\d)([0-9X]{1,3})/i.exec(target.trim());
	if (!m) return undefined;
	const vendor = m[1]!.toUpperCase();
	const prefix = m[2]!.toUpperCase();
	return {vendor, part: prefix + m[3]!.toUpperCase(), family: `${vendor}${prefix}`};
}

function partMatches(imagePart: string, candidates: readonly string[]): boolean {
	// F7X2 in a target name stands for F722/F732 (X is any digit), and the other way round.
	const pattern = (p: string) => new RegExp(`^${p.replace(/X/g, '[0-9X]')}$`);
	return candidates.some((c) => pattern(c).test(imagePart) || pattern(imagePart).test(c));
}

/** Why the image's MCU is not the board's, or undefined when it is (or cannot be told). */
export function mcuMismatch(image: FirmwareImage, board: Board): string | undefined {
	const wanted = image.ident?.target;
	if (!wanted) return undefined;
	if (board.kind === 'serial') {
		const fcTarget = board.fc?.target;
		if (!fcTarget || normalise(fcTarget) === normalise(wanted)) return undefined;
		const a = mcuOf(wanted);
		const b = mcuOf(fcTarget);
		// Two legacy targets (board names) cannot be compared as MCUs: that is the board-name check.
		if (!a && !b) return undefined;
		return `The image is built for ${wanted}, but the flight controller runs ${fcTarget}${board.fc?.boardName ? ` (${board.fc.boardName})` : ''}.`;
	}
	const mcu = mcuOf(wanted);
	if (!mcu || !board.chipFamily) return undefined;
	const chip = board.chip ?? board.name;
	if (board.chipFamily !== mcu.family) return `The image is built for ${wanted}, but the board in DFU is an ${chip}.`;
	if (board.chipParts && !partMatches(mcu.part, board.chipParts)) return `The image is built for ${wanted}, but the board in DFU is an ${chip}.`;
	return undefined;
}

/**
 * The board the image was built for: Betaflight's cloud and Configurator builds carry `board_name X`
 * in their custom defaults; otherwise the file name often ends in it (betaflight_4.5.1_STM32F405_MATEKF405.hex).
 */
export function imageBoardName(image: FirmwareImage): string | undefined {
	const needle = Buffer.from('board_name ', 'latin1');
	for (const segment of image.segments) {
		const buf = Buffer.from(segment.data.buffer, segment.data.byteOffset, segment.data.byteLength);
		const at = buf.indexOf(needle);
		if (at < 0) continue;
		const m = /^board_name ([A-Za-z0-9_-]+)/.exec(buf.toString('latin1', at, Math.min(buf.length, at + 64)));
		if (m) return m[1];
	}
	const stem = basename(image.file).replace(/\.(hex|bin|dfu)$/i, '');
	const parts = stem.split(/[_]/);
	const last = parts.at(-1);
	const target = image.ident?.target;
	if (parts.length >= 3 && last && target && normalise(parts.at(-2)!) === normalise(target) && /^[A-Za-z0-9-]+$/.test(last)) return last.toUpperCase();
	return undefined;
}

/** A warning when both sides name a board and the names differ. */
export function boardNameMismatch(image: FirmwareImage, board: Board): string | undefined {
	if (board.kind !== 'serial') return undefined;
	const theirs = board.fc?.boardName;
	const ours = imageBoardName(image);
	if (!theirs || !ours || normalise(theirs) === normalise(ours)) return undefined;
	return `The image is for the board ${ours}, but the flight controller is a ${theirs}: same MCU, other pins (motors, gyro, LEDs). Check it is the right file.`;
}

const usbId = (vid: number, pid: number) => `${vid.toString(16).padStart(4, '0')}:${pid.toString(16).padStart(4, '0')}`;

/**
 * A DfuSe file (or a .bin with a DFU suffix) names the USB device it is for; 0xFFFF means any. A
 * flight controller's serial port has another product id than its ROM bootloader, so only the
 * vendor is compared there.
 */
export function usbIdMismatch(image: FirmwareImage, board: Board): string | undefined {
	const wanted = image.usbId;
	if (!wanted) return undefined;
	const theirs = usbId(board.vendorId, board.productId);
	if (board.kind === 'dfu' ? wanted.vendorId === board.vendorId && (wanted.productId === 0xffff || wanted.productId === board.productId) : wanted.vendorId === board.vendorId || board.vendorId === 0) return undefined;
	return `The file's DFU suffix is for USB device ${usbId(wanted.vendorId, wanted.productId)}, but the board is ${theirs}.`;
}
