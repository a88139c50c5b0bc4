// Does the image's identification string match the board? A serial FC reports its target over
// MSP (exact comparison); a board in DFU only tells its chip family through the flash layout, so
// there we compare families (F4, F7, H7, AT32...) and only when both sides name exactly one.
import type {FirmwareImage} from '../firmware/image.js';
import type {Board} from './types.js';

const normalise = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]/g, '');

export function chipFamilies(text: string): Set<string> {
	const t = text.toUpperCase();
	if (t.includes('AT32')) return new Set(['AT32']);
	return new Set([...t.matchAll(/([FGHL][0-9])[0-9X]{0,2}/g)].map((m) => m[1]!));
}

export function targetMismatch(image: FirmwareImage, board: Board): string | undefined {
	const wanted = image.ident?.target;
	if (!wanted) return undefined;
	if (board.kind === 'serial') {
		const fcTarget = board.fc?.target ?? board.fc?.board;
		if (!fcTarget || normalise(fcTarget) === normalise(wanted)) return undefined;
		return `Built for ${wanted}, but the flight controller reports ${fcTarget}.`;
	}
	if (!board.chip) return undefined;
	const imageFamily = [...chipFamilies(wanted)];
	const boardFamily = [...chipFamilies(board.chip)];
	if (imageFamily.length !== 1 || boardFamily.length !== 1 || imageFamily[0] === boardFamily[0]) return undefined;
	return `Built for ${wanted} (${imageFamily[0]}), but the board is an ${board.chip} (${boardFamily[0]}).`;
}
