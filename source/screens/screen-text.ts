// The words on the screens: board and image descriptions, progress figures, what a board holds
// after a job, and line wrapping. No React and no terminal here, so every string is testable.
import {basename} from 'node:path';
import {formatBytes, formatDuration, hex32, truncateMiddle} from '../format.js';
import {planFlash} from '../dfu/plan.js';
import {layoutSize, parseLayout} from '../dfu/layout.js';
import type {Board} from '../devices/types.js';
import {mcuMismatch} from '../jobs/target-check.js';
import {FcflashError, FirmwareError, FitError} from '../errors.js';
import type {FirmwareImage} from '../firmware/image.js';
import type {HintId} from '../hints.js';
import type {BoardState, JobPhase, ProgressEvent} from '../jobs/types.js';

export const vidPid = (b: Board) => `${b.vendorId.toString(16).padStart(4, '0')}:${b.productId.toString(16).padStart(4, '0')}`;

/** Fit a line into `width` columns by cutting its end (key help, single facts). */
export function fitEnd(text: string, width: number, ellipsis: string): string {
	if (text.length <= width) return text;
	if (width <= ellipsis.length) return text.slice(0, Math.max(0, width));
	return text.slice(0, width - ellipsis.length) + ellipsis;
}

/** Fit a path into `width` columns by cutting its middle (both ends say the most). */
export function fitMiddle(text: string, width: number, ellipsis: string): string {
	return truncateMiddle(text, Math.max(1, width), ellipsis);
}

/**
 * Word-wrap `text` into lines of at most `width` columns. Continuation lines start with `indent`
 * (never with the space that was broken at); a word longer than a line is split. Newlines in the
 * text start new lines.
 */
export function wrapText(text: string, width: number, indent = ''): string[] {
	const out: string[] = [];
	for (const paragraph of text.split('\n')) {
		const lead = /^ */.exec(paragraph)![0];
		// Words with the spaces before them, so aligned columns ("Erase:  ...") keep their spacing.
		const words = [...paragraph.slice(lead.length).matchAll(/( *)([^ ]+)/g)].map((m) => ({gap: m[1]!, word: m[2]!}));
		const prefix = indent + lead;
		let line = lead;
		let fresh = true;
		for (const {gap, word: whole} of words) {
			let word = whole;
			const sep = fresh ? '' : gap;
			if (line.length + sep.length + word.length <= width) {
				line += sep + word;
				fresh = false;
				continue;
			}
			if (!fresh) {
				out.push(line);
				line = prefix;
			}
			while (line.length + word.length > width && width - line.length > 0) {
				// A path breaks after a slash where one fits, else where the line ends.
				const room = width - line.length;
				const slash = word.lastIndexOf('/', room - 1);
				const cut = slash > 0 && line.length + slash + 1 > prefix.length ? slash + 1 : room;
				out.push(line + word.slice(0, cut));
				word = word.slice(cut);
				line = prefix;
			}
			line += word;
			fresh = false;
		}
		out.push(line);
	}
	return out;
}

/**
 * `prefix` and a file path in lines of at most `width` columns, broken after a slash where it has to
 * be (a path is read whole: it is never cut), continuation lines indented by `indent`.
 */
export function wrapPath(prefix: string, path: string, width: number, indent: string): string[] {
	const pieces = path.match(/[^/]*\/|[^/]+$/g) ?? [path];
	const out: string[] = [];
	let line = prefix;
	for (let piece of pieces) {
		if (line.length + piece.length <= width) {
			line += piece;
			continue;
		}
		if (line.length > indent.length && line !== prefix) {
			out.push(line);
			line = indent;
		}
		while (line.length + piece.length > width && width - line.length > 0) {
			out.push(line + piece.slice(0, width - line.length));
			piece = piece.slice(width - line.length);
			line = indent;
		}
		line += piece;
	}
	out.push(line);
	return out;
}

/** What the device list knows of a board from before it rebooted into DFU (matched by serial number). */
export interface KnownBoard {
	target?: string;
	/** "BTFL 4.5.1 on ttyACM1" */
	was: string;
}

/** First line of a board: what it is. */
export function boardTitle(b: Board, known?: KnownBoard): string {
	if (b.kind === 'dfu') {
		if (known) return `${known.target ?? b.chip ?? b.name} (was ${known.was})  DFU`;
		return `${b.chip ?? b.name}  DFU`;
	}
	const fc = b.fc && b.fc.variant !== 'unknown' ? [b.fc.variant, b.fc.version, b.fc.target ?? b.fc.board].filter(Boolean).join(' ') : '';
	return fc ? `${b.port}  ${fc}  (flight controller)` : `${b.port}  ${b.name}`;
}

/** Second line of a board: the facts a pilot checks. */
export function boardDetails(b: Board, known?: KnownBoard): string {
	const parts: string[] = [];
	if (b.kind === 'dfu') {
		if (known && b.chip) parts.push(b.chip);
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

/** What a serial flight controller is known as once it reboots into DFU. */
export function knownFrom(b: Board): KnownBoard | undefined {
	if (b.kind !== 'serial' || !b.fc || b.fc.variant === 'unknown') return undefined;
	const port = b.port.replace(/^\/dev\//, '');
	return {target: b.fc.target ?? b.fc.board, was: [b.fc.variant, b.fc.version, `on ${port}`].filter(Boolean).join(' ')};
}

/** Short name used on the confirmation and result screens. */
export function boardName(b: Board, known?: KnownBoard): string {
	if (b.kind === 'dfu') {
		const name = known?.target ?? b.chip ?? b.name;
		return `${name}${b.serialNumber ? ` (SN ${b.serialNumber})` : b.usbPath ? ` (USB ${b.usbPath})` : ''}`;
	}
	return `${b.fc?.target ?? b.name} on ${b.port}`;
}

/**
 * The target a board reports: a serial FC's MSP target, what it was before DFU, or a DFU board's
 * chip when its layout names one exactly ("STM32F405/F407 (1 MiB)": STM32F405).
 */
export function boardTarget(b: Board, known?: KnownBoard): string | undefined {
	if (b.kind === 'serial') return b.fc?.target ?? b.fc?.board;
	return known?.target ?? /^(STM32[A-Z]\d{3}|AT32F\d{3})/.exec(b.chip ?? '')?.[1];
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

export interface ImageWarning {
	text: string;
	hint: HintId;
	/** The image does not fit the board (the job will refuse it); a target mismatch needs `force`. */
	fit: boolean;
}

/** What the picker shows about flashing this image to this board (the job decides). */
export function imageWarnings(board: Board | undefined, image: FirmwareImage): ImageWarning[] {
	const out: ImageWarning[] = [];
	if (!board) return out;
	if (board.kind === 'dfu' && board.layout) {
		try {
			planFlash(image, parseLayout(board.layout));
		} catch (error) {
			const text =
				error instanceof FitError
					? `Does not fit this board: ${hex32(error.address)} is outside its ${formatBytes(layoutSize(parseLayout(board.layout)))} flash.`
					: errorText(error).replace(/ Nothing was erased\.$/, '');
			out.push({text, hint: 'image-fit', fit: true});
		}
	}
	const mismatch = mcuMismatch(image, board);
	if (mismatch) out.push({text: mismatch, hint: 'target-mismatch', fit: false});
	return out;
}

export const phaseLabels: Record<JobPhase, string> = {
	backup: 'Back up settings',
	reboot: 'Reboot into DFU',
	wait: 'Wait for DFU',
	unprotect: 'Unprotect',
	compare: 'Compare',
	erase: 'Erase',
	write: 'Write',
	verify: 'Verify',
	leave: 'Start firmware',
	firmware: 'Wait for firmware',
	restore: 'Restore settings',
	read: 'Read flash',
};

/**
 * "430 KiB / 1.00 MiB  64.0 KiB/s  ~9.3 s left"; for a phase timed by the clock (the board reports
 * nothing while it works, e.g. a mass erase) "3 s of about 8 s", or the seconds spent so far.
 */
export function progressStats(p: ProgressEvent): string {
	const bytes = p.total > 1 && p.done > 0 ? [`${formatBytes(p.done)} / ${formatBytes(p.total)}`, p.rate > 0 ? `${formatBytes(Math.round(p.rate))}/s` : '', etaText(p)] : [];
	const time =
		p.elapsedMs === undefined
			? []
			: p.expectedMs && p.done === 0
				? [`${Math.floor(p.elapsedMs / 1000)} s of about ${Math.round(p.expectedMs / 1000)} s (the board does not report progress)`]
				: [`${Math.floor(p.elapsedMs / 1000)} s in this phase`];
	if (bytes.length === 0 && time.length === 0 && p.total > 1) bytes.push(`${formatBytes(p.done)} / ${formatBytes(p.total)}`);
	return [...bytes, ...time].filter(Boolean).join('  ');
}

/** The share of the phase done: bytes, or elapsed against expected time (never 100% by the clock). */
export function progressFraction(p: ProgressEvent): number {
	if (p.total > 0 && p.done > 0) return Math.min(1, p.done / p.total);
	if (p.elapsedMs !== undefined && p.expectedMs) return Math.min(0.99, p.elapsedMs / p.expectedMs);
	return p.total > 0 ? p.done / p.total : 0;
}

export function etaText(p: ProgressEvent): string {
	if (p.rate <= 0 || p.done >= p.total || p.total <= 1) return '';
	return `~${formatDuration(((p.total - p.done) / p.rate) * 1000)} left`;
}

export function progressBar(fraction: number, width: number, full: string, empty: string): string {
	const n = Math.max(0, Math.min(width, Math.round(fraction * width)));
	return full.repeat(n) + empty.repeat(width - n);
}

/** What the board holds after a job, and what to do next. */
export const boardStateText: Record<BoardState, string> = {
	untouched: 'Nothing on the board was changed.',
	'in-dfu': 'The board is in its ROM bootloader (DFU) with its flash unchanged: press s on the device list to start its firmware.',
	'partly-written': 'The flash is partly erased or written: the board stays in its ROM bootloader (DFU), which cannot be erased. Flash it again to finish.',
	written: 'The image is on the flash but the firmware was not started: press s on the device list to start it.',
	running: 'The board runs its firmware.',
};
