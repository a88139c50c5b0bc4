// Plain text for the screens: board and image descriptions, fit and target checks, progress
// figures. No React and no terminal here, so every string is testable on its own.
import {basename} from 'node:path';
import {formatBytes, formatDuration, hex32, truncateMiddle} from '../format.js';
import {planFlash, type FlashPlan} from '../dfu/plan.js';
import {layoutSize, parseLayout} from '../dfu/layout.js';
import type {Progress} from '../devices/select.js';

export type Phase = Progress['phase'];
export type {Progress};
import type {Board} from '../devices/types.js';
import {targetMismatch} from '../devices/target-match.js';
import {FcflashError, FirmwareError, FitError} from '../errors.js';
import type {FirmwareImage} from '../firmware/image.js';
import type {HintId} from '../hints.js';

export const vidPid = (b: Board) => `${b.vendorId.toString(16).padStart(4, '0')}:${b.productId.toString(16).padStart(4, '0')}`;

/** Fit a line into `width` columns: cut the end (or the middle for paths), never wrap. */
export function fitEnd(text: string, width: number, ellipsis: string): string {
	if (text.length <= width) return text;
	if (width <= ellipsis.length) return text.slice(0, Math.max(0, width));
	return text.slice(0, width - ellipsis.length) + ellipsis;
}

export function fitMiddle(text: string, width: number, ellipsis: string): string {
	return truncateMiddle(text, Math.max(1, width), ellipsis);
}

/** First line of a board: what it is. */
export function boardTitle(b: Board): string {
	if (b.kind === 'dfu') return `${b.chip ?? b.name}  DFU`;
	const fc = b.fc && b.fc.variant !== 'unknown' ? [b.fc.variant, b.fc.version, b.fc.target ?? b.fc.board].filter(Boolean).join(' ') : '';
	return fc ? `${b.port}  ${fc}  (flight controller)` : `${b.port}  ${b.name}`;
}

/** Second line of a board: the facts a pilot checks. */
export function boardDetails(b: Board): string {
	const parts: string[] = [];
	if (b.kind === 'dfu') {
		if (b.bootloader) parts.push(`bootloader ${b.bootloader}`);
		if (b.serialNumber) parts.push(`SN ${b.serialNumber}`);
		if (b.usbPath) parts.push(`USB ${b.usbPath}`);
		if (!b.chip && b.flashSize) parts.push(formatBytes(b.flashSize));
	} else {
		parts.push(vidPid(b));
		if (b.fc?.board && b.fc.board !== b.fc.target) parts.push(`board ${b.fc.board}`);
		if (!b.fc) parts.push('firmware not identified (no MSP answer)');
		if (b.serialNumber) parts.push(`SN ${b.serialNumber}`);
		if (b.usbPath) parts.push(`USB ${b.usbPath}`);
		parts.push('reboots into DFU to flash');
	}
	if (b.simulated) parts.push('simulated');
	return parts.join(', ');
}

/** Short name used on the confirmation and result screens. */
export function boardName(b: Board): string {
	if (b.kind === 'dfu') return `${b.chip ?? b.name}${b.serialNumber ? ` (SN ${b.serialNumber})` : b.usbPath ? ` (USB ${b.usbPath})` : ''}`;
	return `${b.fc?.target ?? b.name} on ${b.port}`;
}

export interface ImageFactsText {
	lines: string[];
}

export function imageFacts(image: FirmwareImage, fileBytes?: number): string[] {
	const lines = [
		`${image.format.toUpperCase()}, ${formatBytes(image.bytes)} of data${fileBytes !== undefined ? ` (file ${formatBytes(fileBytes)})` : ''}`,
		`Address ${hex32(image.low)}-${hex32(image.high - 1)}, ${image.segments.length} segment${image.segments.length === 1 ? '' : 's'}`,
	];
	if (image.ident) lines.push(`Ident: ${image.ident.raw || [image.ident.flavour, image.ident.version, image.ident.target, image.ident.date].join(' ')}`);
	else lines.push('Ident: none found (not a Betaflight/INAV image?)');
	return lines;
}

/** "file.hex:12: bad checksum" for a firmware error, the message otherwise. */
export function errorText(error: unknown): string {
	if (error instanceof FirmwareError) {
		const at = error.where?.line !== undefined ? `:${error.where.line}` : error.where?.offset !== undefined ? ` (offset ${error.where.offset})` : '';
		return `${basename(error.file)}${at}: ${error.detail}`;
	}
	return error instanceof Error ? error.message : String(error);
}

export function errorHint(error: unknown): HintId | undefined {
	return error instanceof FcflashError ? error.hint : undefined;
}

export interface Warning {
	text: string;
	hint: HintId;
	/** Flashing cannot work (the image does not fit); a target mismatch only warns. */
	blocking: boolean;
}

export function boardLayoutPlan(board: Board, image: FirmwareImage): FlashPlan | undefined {
	if (board.kind !== 'dfu' || !board.layout) return undefined;
	try {
		return planFlash(image, parseLayout(board.layout));
	} catch {
		return undefined;
	}
}

/** What is wrong with flashing this image to this board, before anything is touched. */
export function imageWarnings(board: Board | undefined, image: FirmwareImage): Warning[] {
	const out: Warning[] = [];
	if (!board) return out;
	if (board.kind === 'dfu' && board.layout) {
		try {
			planFlash(image, parseLayout(board.layout));
		} catch (error) {
			const text =
				error instanceof FitError
					? `Does not fit this board: ${hex32(error.address)} is outside its ${formatBytes(layoutSize(parseLayout(board.layout)))} flash.`
					: errorText(error).replace(/ Nothing was erased\.$/, '');
			out.push({text, hint: 'image-fit', blocking: true});
		}
	}
	const mismatch = targetMismatch(image, board);
	if (mismatch) out.push({text: mismatch, hint: 'target-mismatch', blocking: false});
	return out;
}

export const phaseLabels: Record<Phase, string> = {
	reboot: 'Reboot into DFU',
	wait: 'Wait for DFU',
	compare: 'Compare',
	erase: 'Erase',
	write: 'Write',
	verify: 'Verify',
	leave: 'Start firmware',
};

export function phasesFor(board: Board, verify: boolean): Phase[] {
	const phases: Phase[] = board.kind === 'serial' ? ['reboot', 'wait'] : [];
	phases.push('erase', 'write');
	if (verify) phases.push('verify');
	phases.push('leave');
	return phases;
}

export function eraseSummary(board: Board, image: FirmwareImage, fullErase: boolean): string {
	if (fullErase) {
		const size = board.kind === 'dfu' && board.flashSize ? ` (${formatBytes(board.flashSize)})` : '';
		return `the WHOLE chip${size}: settings are lost`;
	}
	const plan = boardLayoutPlan(board, image);
	if (!plan) return 'only the sectors the image uses (known once the board is in DFU); settings kept if the image leaves them out';
	const first = plan.sectors[0]!;
	const last = plan.sectors.at(-1)!;
	return `${plan.sectors.length} sector${plan.sectors.length === 1 ? '' : 's'}, ${formatBytes(plan.eraseBytes)} (${hex32(first.start)}-${hex32(last.start + last.size - 1)}); the rest is kept`;
}

export function etaText(p: Progress): string {
	if (p.rate <= 0 || p.done >= p.total || p.total <= 1) return '';
	return `~${formatDuration(((p.total - p.done) / p.rate) * 1000)} left`;
}

export function progressBar(fraction: number, width: number, full: string, empty: string): string {
	const n = Math.max(0, Math.min(width, Math.round(fraction * width)));
	return full.repeat(n) + empty.repeat(width - n);
}
