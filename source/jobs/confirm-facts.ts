// The words of a confirmation, worked out once for the CLI prompt and the TUI's Confirm screen:
// what will be erased (known before anything changes for a board in DFU; after the reboot for a
// flight controller) and the steps the job will take.
import {parseLayout} from '../dfu/layout.js';
import {planFlash, type FlashPlan} from '../dfu/plan.js';
import type {Board} from '../devices/types.js';
import type {FirmwareImage} from '../firmware/image.js';
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
