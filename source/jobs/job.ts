// The machinery every job shares: events to the front end, questions and their answers, stop and
// hang-up, and turning the job's outcome (or its error) into one JobResult with its exit code.
// A job body is a plain async function; it asks questions with run.ask() and checks run.signal.
import {CancelledError, ExitCode, FcflashError, errorText, type ExitCodeValue} from '../errors.js';
import {hints} from '../hints.js';
import {appendFlashLog} from './flash-log.js';
import type {Job, JobError, JobEvent, JobKind, JobListener, JobPhase, JobResult, Question, Reply, Warning} from './types.js';

type QuestionBody = Question extends infer Q ? (Q extends {id: number} ? Omit<Q, 'id'> : never) : never;

/** What a job body returns on success. */
export interface Outcome<Data> {
	fields: Record<string, unknown>;
	summary: string;
	data: Data;
}

export class JobRun<Data> {
	private readonly controller = new AbortController();
	private readonly open = new Map<number, (reply: Reply | undefined) => void>();
	private nextId = 1;
	private hungUpFlag = false;
	/** Result fields known so far; a failure reports them too (file, image, device...). */
	fields: Record<string, unknown> = {};
	/** Report data known so far; a failure's result carries it (board state, backup path...). */
	data: Data | undefined;
	/** What the front end shows with the result (board-name mismatch, settings reset...). */
	readonly warnings: Warning[] = [];

	constructor(
		readonly kind: JobKind,
		private readonly listener: JobListener,
	) {}

	get signal(): AbortSignal {
		return this.controller.signal;
	}

	get stopped(): boolean {
		return this.controller.signal.aborted;
	}

	get hungUp(): boolean {
		return this.hungUpFlag;
	}

	emit(event: JobEvent): void {
		// A front end that fails to render (a terminal gone mid-write) must not end the job.
		try {
			this.listener(event);
		} catch {
			// The result still reaches the log and the exit code.
		}
	}

	progress(phase: JobPhase, done: number, total: number, extra: {rate?: number; elapsedMs?: number; expectedMs?: number} = {}): void {
		this.emit({type: 'progress', phase, done, total, rate: extra.rate ?? 0, ...(extra.elapsedMs !== undefined ? {elapsedMs: extra.elapsedMs, expectedMs: extra.expectedMs} : {})});
	}

	info(text: string): void {
		this.emit({type: 'info', text});
	}

	warn(warning: Warning): void {
		this.warnings.push(warning);
		this.emit({type: 'warning', warning});
	}

	/** Resolves with the reply, or undefined when the job was stopped or its terminal hung up. */
	ask(question: QuestionBody): Promise<Reply | undefined> {
		if (this.stopped || this.hungUpFlag) return Promise.resolve(undefined);
		const id = this.nextId++;
		return new Promise((resolve) => {
			this.open.set(id, resolve);
			this.emit({type: 'question', question: {...question, id} as Question});
		});
	}

	answer(id: number, reply: Reply): void {
		const resolve = this.open.get(id);
		if (!resolve) return;
		this.open.delete(id);
		resolve(reply);
	}

	private closeQuestions(): void {
		for (const [id, resolve] of this.open) {
			this.emit({type: 'question-closed', id});
			resolve(undefined);
		}
		this.open.clear();
	}

	private stops = 0;
	private readonly onRepeatedStop: Array<() => void> = [];

	/** How many times stop() was called (flash on connect treats the second one harder). */
	get stopCount(): number {
		return this.stops;
	}

	/** Called on every stop() after the first. */
	onStopAgain(listener: () => void): void {
		this.onRepeatedStop.push(listener);
	}

	stop(): void {
		this.stops++;
		if (this.stops > 1) {
			for (const l of this.onRepeatedStop) l();
			return;
		}
		this.controller.abort();
		this.closeQuestions();
	}

	/** Nobody is left to answer; a question open now is answered no (nothing was written yet). */
	hangup(): void {
		this.hungUpFlag = true;
		this.closeQuestions();
	}

	/** Throws CancelledError when stop() was called; `state` says what the board holds. */
	checkStopped(message: string): void {
		if (this.stopped) throw new CancelledError(message);
	}
}

export function jobError(error: unknown): JobError {
	const e = error instanceof FcflashError ? error : undefined;
	const ownHint = (error as {hintText?: unknown} | undefined)?.hintText;
	const hint = typeof ownHint === 'string' ? ownHint : e?.hint ? hints[e.hint].text : null;
	return {code: e?.exitCode ?? ExitCode.failed, message: errorText(error), hint, hintId: e?.hint ?? null};
}

/**
 * Start a job body on the next tick (so the caller's listener sees every event) and return the Job.
 * The body's error becomes the result: its exit code, message and hint, with the fields and data
 * the run knew by then. After a hang-up the result is also appended to the flash log.
 */
export function startJob<Data>(kind: JobKind, listener: JobListener, body: (run: JobRun<Data>) => Promise<Outcome<Data>>, logFields?: (run: JobRun<Data>, result: JobResult<Data>) => Record<string, unknown>): Job<Data> {
	const run = new JobRun<Data>(kind, listener);
	const done = new Promise<JobResult<Data>>((resolve) => {
		setImmediate(() => {
			void (async () => {
				let result: JobResult<Data>;
				try {
					const outcome = await body(run);
					result = {kind, ok: true, exitCode: ExitCode.ok, fields: outcome.fields, summary: outcome.summary, data: outcome.data, cancelled: false};
				} catch (error) {
					const e = jobError(error);
					const exitCode: ExitCodeValue = e.code;
					result = {kind, ok: false, exitCode, fields: run.fields, summary: e.message, error: e, data: run.data, cancelled: error instanceof CancelledError};
				}
				if (run.hungUp) {
					appendFlashLog({job: kind, ok: result.ok, exitCode: result.exitCode, message: result.error?.message, reason: 'hangup', ...logFields?.(run, result), ...(result.ok ? {} : {hint: result.error?.hintId})});
				}
				run.emit({type: 'result', result});
				resolve(result);
			})();
		});
	});
	return {
		kind,
		answer: (id, reply) => run.answer(id, reply),
		stop: () => run.stop(),
		hangup: () => run.hangup(),
		done,
	};
}
