// The job being run or just finished (flash, backup, leave, settings backup), as the progress and
// result screens show it: built only from the job's events (jobs/types.ts).
import type {Board} from '../devices/types.js';
import type {FirmwareImage} from '../firmware/image.js';
import type {JobEvent, JobPhase, JobResult, ProgressEvent, Question, Warning} from '../jobs/types.js';
import type {TuiJobKind} from './types.js';
import {fleetEvent, type FleetRow} from './use-fleet-state.js';

export interface JobView {
	seq: number;
	kind: TuiJobKind;
	/** The board as chosen (a serial FC keeps its identity here). */
	board: Board;
	/** The board the job acts on now (the same FC in DFU after the reboot). */
	current?: Board;
	file?: string;
	image?: FirmwareImage;
	phases: JobPhase[];
	finished: JobPhase[];
	progress?: ProgressEvent;
	info?: string;
	warnings: Warning[];
	question?: Question;
	/** Past the confirmation (or none was asked): the board may change from here on. */
	confirmed: boolean;
	/** stop() was sent: a flash stops at a block boundary; flash on connect takes no new board. */
	stopping: boolean;
	/** Flash on connect: stop() was sent again, so the flashes under way stop too. */
	stoppingAll: boolean;
	/** Flash on connect: a row per board, from the job's fleet and board-skipped events. */
	fleet: FleetRow[];
	result?: JobResult;
}

export function newJob(seq: number, kind: TuiJobKind, board: Board, file?: string, image?: FirmwareImage): JobView {
	// A flash and flash on connect ask first; the others change the board without a question.
	return {seq, kind, board, file, image, phases: [], finished: [], warnings: [], confirmed: kind !== 'flash' && kind !== 'on-connect', stopping: false, stoppingAll: false, fleet: []};
}

/** The order a flash meets the phases in (jobs/types.ts): where an unannounced phase goes. */
const phaseOrder: JobPhase[] = ['backup', 'reboot', 'wait', 'unprotect', 'compare', 'erase', 'write', 'verify', 'leave', 'firmware', 'restore', 'read'];

/**
 * The phases to show: the job's, and in its place any phase it reports without having announced it
 * (the smart flash's compare, an unprotect).
 */
export function shownPhases(j: Pick<JobView, 'phases' | 'finished' | 'progress'>): JobPhase[] {
	const out = [...j.phases];
	for (const p of [...j.finished, ...(j.progress ? [j.progress.phase] : [])]) {
		if (out.includes(p)) continue;
		const at = out.findIndex((q) => phaseOrder.indexOf(q) > phaseOrder.indexOf(p));
		if (at < 0) out.push(p);
		else out.splice(at, 0, p);
	}
	return out;
}

/** The phases in which the job waits for the board (it reports the time spent and the time allowed). */
export const waitPhases: ReadonlySet<JobPhase> = new Set(['wait', 'firmware', 'unprotect']);

/** The job is waiting for the board now: the progress of a wait that has not ended. */
export function waiting(j: JobView): ProgressEvent | undefined {
	const p = j.progress;
	if (!p || j.result || !waitPhases.has(p.phase) || p.expectedMs === undefined || (p.total > 0 && p.done >= p.total)) return undefined;
	return p;
}

export const jobRunning = (j: JobView | undefined): j is JobView => j !== undefined && j.result === undefined;

export function jobEvent(j: JobView, e: JobEvent): JobView {
	switch (e.type) {
		case 'phases':
			return {...j, phases: e.phases, finished: j.finished.filter((p) => e.phases.includes(p))};
		case 'board':
			return {...j, current: e.board};
		case 'progress': {
			// The phase it was in stays in the list (an unannounced one too), done once it is passed.
			const order = shownPhases({phases: j.phases, finished: [...j.finished, ...(j.progress ? [j.progress.phase] : [])], progress: e});
			const before = order.slice(0, order.indexOf(e.phase));
			const complete = e.total > 0 && e.done >= e.total;
			const finished = [...new Set([...j.finished, ...before, ...(complete ? [e.phase] : [])])];
			// Progress means the job is past its confirmation. An info said before this phase began
			// ("Reading which firmware the board holds...") is no longer what is happening.
			const info = j.progress?.phase === e.phase ? j.info : undefined;
			return {...j, progress: e, finished, confirmed: true, info};
		}
		case 'info':
			return {...j, info: e.text};
		case 'warning':
			return j.warnings.some((w) => w.text === e.warning.text) ? j : {...j, warnings: [...j.warnings, e.warning]};
		case 'question':
			return {...j, question: e.question};
		case 'question-closed':
			return j.question?.id === e.id ? {...j, question: undefined} : j;
		case 'result': {
			const finished = e.result.ok ? [...j.phases] : j.finished;
			return {...j, result: e.result, question: undefined, finished};
		}
		// Flash on connect: each board's own job.
		case 'fleet':
		case 'board-skipped':
			return {...j, fleet: fleetEvent(j.fleet, e)};
	}
}
