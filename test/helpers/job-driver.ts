// Drives a job as a front end would: collects its events and answers its questions from a script,
// so a test can say "answer the confirmation with force" and then look at what the job did.
import type {Board, BoardSource, DfuBoard} from '../../source/devices/types.js';
import {EmulatedBootloader, EmulatedUsbDevice, profiles, type DisconnectReason} from '../../source/emulator/index.js';
import type {EmulatorOptions, ProfileName} from '../../source/emulator/types.js';
import {describeChip} from '../../source/dfu/chip.js';
import {layoutSize, parseLayout} from '../../source/dfu/layout.js';
import type {Job, JobEvent, JobListener, JobResult, Question, Reply} from '../../source/jobs/types.js';

export interface Driven<Data> {
	result: JobResult<Data>;
	events: JobEvent[];
	questions: Question[];
}

export type Answerer = (question: Question, job: Job<unknown>) => Reply | undefined | 'stop' | 'hangup';

/** Start a job, answer its questions with `answer` (undefined: leave it open), wait for the result. */
export async function drive<Data>(start: (listener: JobListener) => Job<Data>, answer: Answerer = () => 'yes', onEvent?: (e: JobEvent, job: Job<Data>) => void): Promise<Driven<Data>> {
	const events: JobEvent[] = [];
	const questions: Question[] = [];
	let job: Job<Data> | undefined;
	const pending: JobEvent[] = [];
	const handle = (event: JobEvent) => {
		events.push(event);
		onEvent?.(event, job!);
		if (event.type !== 'question') return;
		questions.push(event.question);
		const reply = answer(event.question, job as Job<unknown>);
		// Answer on the next tick, as a person (or a terminal) would: never inside the emit.
		setImmediate(() => {
			if (reply === 'stop') job!.stop();
			else if (reply === 'hangup') job!.hangup();
			else if (reply) job!.answer(event.question.id, reply);
		});
	};
	job = start((event) => (job ? handle(event) : pending.push(event)));
	for (const e of pending.splice(0)) handle(e);
	const result = await job.done;
	return {result, events, questions};
}

export const phasesOf = (events: JobEvent[]) =>
	events.reduce<string[]>((out, e) => (e.type === 'progress' && out.at(-1) !== e.phase ? [...out, e.phase] : out), []);

/** The board a listing shows for an emulated ROM bootloader: ids, USB path, chip facts from its layouts. */
export function dfuBoardOf(core: EmulatedBootloader, usbPath: string): DfuBoard {
	const p = core.profile;
	const chip = describeChip(p.vendorId, p.layouts);
	return {
		kind: 'dfu',
		id: core.serialNumber,
		vendorId: p.vendorId,
		productId: p.productId,
		name: p.product,
		serialNumber: core.serialNumber,
		usbPath,
		chip: chip.text,
		...(chip.family ? {chipFamily: chip.family} : {}),
		...(chip.parts ? {chipParts: chip.parts} : {}),
		flashSize: layoutSize(parseLayout(p.layouts[0]!)),
		layout: p.layouts[0],
		layouts: [...p.layouts],
	};
}

/**
 * One emulated board in DFU behind a BoardSource, as real hardware would show it: a USB path (so it
 * is locked like a real board), chip facts from its layouts, and back in DFU after an unprotect or
 * a replug. `resetAfterMs` is how long it is gone after leaving the bus.
 */
export class OneBoardSource implements BoardSource {
	readonly core: EmulatedBootloader;
	readonly reasons: DisconnectReason[] = [];
	readonly board: DfuBoard;
	constructor(profile: ProfileName = 'stm32f405', options: EmulatorOptions & {usbPath?: string; resetAfterMs?: number} = {}) {
		this.core = new EmulatedBootloader(profiles[profile], {timeScale: 0, ...options});
		this.board = dfuBoardOf(this.core, options.usbPath ?? `9-${Math.floor(Math.random() * 1e6)}`);
		this.core.on('disconnect', (reason) => {
			this.reasons.push(reason);
			if (reason === 'unprotect' || reason === 'fault') setTimeout(() => this.core.reset(), options.resetAfterMs ?? 30);
		});
	}
	async list(): Promise<Board[]> {
		return this.core.connected ? [this.board] : [];
	}
	async openDfu(): Promise<EmulatedUsbDevice> {
		return new EmulatedUsbDevice(this.core);
	}
}

/** Flash `image` onto `board` with the flash job (no questions); throws the job's error on failure. */
export async function flashOnce(source: BoardSource, board: Board, image: import('../../source/firmware/image.js').FirmwareImage, options: Omit<import('../../source/jobs/types.js').FlashRequest, 'board' | 'image'> = {}) {
	const {startFlashJob} = await import('../../source/jobs/flash-job.js');
	const {result} = await drive((listener) => startFlashJob({source, interaction: 'none'}, {board, image, yes: true, ...options}, listener));
	if (!result.ok) throw new Error(`flash failed: ${result.error?.message}`);
	return result;
}
