// The words of a confirmation, worked out once for the CLI prompt and the TUI's Confirm screen:
// what will be erased (known before anything changes for a board in DFU; after the reboot for a
// flight controller) and the steps the job will take.
import {parseLayout} from '../dfu/layout.js';
import {planFlash, type FlashPlan} from '../dfu/plan.js';
import type {Board} from '../devices/types.js';
import type {FirmwareIdent, FirmwareImage} from '../firmware/image.js';
import type {Warning} from './types.js';
import {flashSizeText} from '../dfu/chip.js';
import {formatBytes, hex32} from '../format.js';

/** The plan for a board in DFU from its listed layout; throws FitError when the image does not fit. */
export function planFor(board: Board, image: FirmwareImage): FlashPlan | undefined {
	if (board.kind !== 'dfu' || !board.layout) return undefined;
	return planFlash(image, parseLayout(board.layout));
}

export function eraseSummary(board: Board, image: FirmwareImage, options: {fullErase?: boolean; rewrite?: boolean}): string {
	if (options.fullErase) {
		const size = board.kind === 'dfu' && board.flashSize ? ` (${flashSizeText(board.flashSize)})` : '';
		return `the WHOLE chip${size}: settings stored on it are lost`;
	}
	const plan = planFor(board, image);
	const readBack = options.rewrite ? '' : '; sectors that already hold the image are left alone (decided after a read-back)';
	if (!plan) return `only the sectors the image uses (known once the board is in DFU)${readBack}`;
	const first = plan.sectors[0]!;
	const last = plan.sectors.at(-1)!;
	const n = plan.sectors.length;
	return `at most ${n} sector${n === 1 ? '' : 's'}, ${formatBytes(plan.eraseBytes)} (${hex32(first.start)}-${hex32(last.start + last.size - 1)}); the rest is kept${readBack}`;
}

export function flashSteps(board: Board, image: FirmwareImage, options: {verify?: boolean; keepSettings?: boolean}): string[] {
	const steps: string[] = [];
	const keep = board.kind === 'serial' && options.keepSettings !== false;
	if (keep) steps.push('back up its settings');
	if (board.kind === 'serial') steps.push('reboot it into DFU');
	steps.push(`write ${formatBytes(image.bytes)}`);
	steps.push(options.verify === false ? 'no verify' : 'verify');
	steps.push('start the firmware');
	if (board.kind === 'serial') steps.push('check it runs the new firmware');
	if (keep) steps.push('restore its settings');
	return steps;
}

/** What a board in DFU was found to hold (read from its flash before the confirmation). */
export interface Running {
	/** null: no identification string found, or the read failed (`error`). */
	ident: FirmwareIdent | null;
	error?: string;
}

const identText = (i: FirmwareIdent) => `${i.flavour} ${i.version}, built for ${i.target}`;
const release = (i: FirmwareIdent) => `${i.flavour.toLowerCase()} ${i.version.split('.').slice(0, 2).join('.')}`;

/** The board runs a firmware that names itself, and the image is another release of it or another firmware. */
export function isUpgrade(running: Running, image: FirmwareImage): boolean {
	return !!running.ident && !!image.ident && release(running.ident) !== release(image.ident);
}

/** The confirmation's "Runs:" line. */
export function runningText(running: Running): string {
	if (running.ident) return identText(running.ident);
	if (running.error) return `not known (${running.error})`;
	return 'no firmware that names itself (blank, or firmware without an ident)';
}

/**
 * Settings survive a flash only into the same firmware release (major.minor) without a full
 * erase, and a board in DFU cannot back them up: say so when the image is another release, with
 * the way to keep them.
 */
export function runningWarnings(running: Running, image: FirmwareImage, offersSerial: boolean): Warning[] {
	const next = image.ident;
	if (!next) return [];
	const keepThem = 'To keep them, start its firmware (fcflash-tui leave) and flash it from its serial port, which backs them up and restores them.';
	if (running.ident) {
		if (!isUpgrade(running, image)) return [];
		return [{text: `It runs ${running.ident.flavour} ${running.ident.version} and the image is ${next.flavour} ${next.version}: the upgrade may reset its settings (PIDs, rates, modes), and in DFU they cannot be backed up first. ${offersSerial ? 'To keep them, answer s: its firmware is started and you are asked again for its serial port, where they are backed up before the flash and restored after.' : keepThem}`}];
	}
	if (!running.error) return [];
	return [{text: `What it runs could not be read, so its settings may be reset if the image is another version, and in DFU they cannot be backed up first. ${keepThem}`}];
}
