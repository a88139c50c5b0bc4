// The job being run or just finished (flash, backup, leave, settings backup), as the progress and
// result screens show it: built only from the job's events (jobs/types.ts).
import type {Board} from '../devices/types.js';
import type {FirmwareImage} from '../firmware/image.js';
import type {JobEvent, JobPhase, JobResult, ProgressEvent, Question, Warning} from '../jobs/types.js';
import type {TuiJobKind} from './types.js';

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
	stopping: boolean;
	result?: JobResult;
}

export function newJob(seq: number, kind: TuiJobKind, board: Board, file?: string, image?: FirmwareImage): JobView {
	return {seq, kind, board, file, image, phases: [], finished: [], warnings: [], confirmed: kind !== 'flash', stopping: false};
}

export const jobRunning = (j: JobView | undefined): j is JobView => j !== undefined && j.result === undefined;

export function jobEvent(j: JobView, e: JobEvent): JobView {
	switch (e.type) {
		case 'phases':
			return {...j, phases: e.phases, finished: j.finished.filter((p) => e.phases.includes(p))};
		case 'board':
			return {...j, current: e.board};
		case 'progress': {
			const index = j.phases.indexOf(e.phase);
			const before = index < 0 ? j.finished : j.phases.slice(0, index);
			const complete = e.total > 0 && e.done >= e.total;
			const finished = [...new Set([...j.finished, ...before, ...(complete ? [e.phase] : [])])];
			// Progress means the job is past its confirmation.
			return {...j, progress: e, finished, confirmed: true};
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
		// Flash on connect's per-board events: not a job the TUI starts.
		case 'fleet':
		case 'board-skipped':
			return j;
	}
}
