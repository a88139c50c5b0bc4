// Output for headless commands. Three forms:
//  - json: stdout carries only newline-delimited JSON events and the final result object;
//  - plain (no TTY): one line per phase, at most one progress line a second, no ANSI escapes;
//  - tty: a progress bar redrawn in place (at most ~10 times a second).
// Human text that is not the result (info, warnings, errors, hints) goes to stderr in JSON mode.
import {FcflashError, ExitCode, errorText} from '../errors.js';
import {hints} from '../hints.js';
import type {JobPhase, JobResult, ProgressEvent, Warning} from '../jobs/types.js';
import {formatBytes, formatDuration, formatRate} from '../format.js';

export type OutputMode = 'json' | 'plain' | 'tty';

export interface Streams {
	stdout: NodeJS.WritableStream & {isTTY?: boolean; columns?: number};
	stderr: NodeJS.WritableStream & {isTTY?: boolean};
}

export const phaseTitles: Record<JobPhase, string> = {
	backup: 'Backing up settings',
	reboot: 'Rebooting into DFU',
	wait: 'Waiting for the DFU board',
	unprotect: 'Unprotecting (chip wipes itself)',
	compare: 'Reading back',
	erase: 'Erasing',
	write: 'Writing',
	verify: 'Verifying',
	leave: 'Starting the firmware',
	firmware: 'Waiting for the firmware',
	restore: 'Restoring settings',
	read: 'Reading the flash',
};

type Progress = Omit<ProgressEvent, 'type'>;

export class Reporter {
	private lastPhase?: JobPhase;
	private lastLineAt = 0;
	/** The JSON progress throttle of the one job (key ''), or of each board of a flash on connect. */
	private readonly jsonGates = new Map<string, {phase?: JobPhase; at: number}>();
	private barShown = false;
	private muted = false;
	constructor(
		readonly mode: OutputMode,
		private readonly streams: Streams,
		private readonly now: () => number = () => performance.now(),
	) {}

	static choose(json: boolean, streams: Streams): Reporter {
		const tty = Boolean(streams.stdout.isTTY) && process.env.TERM !== 'dumb';
		return new Reporter(json ? 'json' : tty ? 'tty' : 'plain', streams);
	}

	/** The terminal is gone (SIGHUP): write nothing more; the job logs its own result. */
	mute(): void {
		this.muted = true;
	}

	// After a hang-up only the terminal is gone: output redirected to a file or a pipe goes on.
	private out(text: string) {
		if (!(this.muted && this.streams.stdout.isTTY)) this.streams.stdout.write(text);
	}

	private err(text: string) {
		if (!(this.muted && this.streams.stderr.isTTY)) this.streams.stderr.write(text);
	}

	/** Human information; not on stdout in JSON mode, so stdout stays parseable. */
	info(line: string) {
		if (this.mode === 'json') return;
		this.clearBar();
		this.out(line + '\n');
	}

	warn(warning: Warning) {
		this.clearBar();
		this.err(`warning: ${warning.text}\n`);
	}

	event(object: Record<string, unknown>) {
		if (this.mode === 'json') this.out(JSON.stringify(object) + '\n');
	}

	progress(p: Progress) {
		const now = this.now();
		const newPhase = p.phase !== this.lastPhase;
		const finished = p.done >= p.total;
		const timed = p.elapsedMs !== undefined;
		if (this.mode === 'json') this.jsonProgress(p);
		else if (this.mode === 'plain') {
			if (newPhase) {
				this.out(`${phaseTitles[p.phase]}...\n`);
				this.lastLineAt = now;
			} else if (now - this.lastLineAt >= 1000 || (finished && p.total > 1 && !timed)) {
				this.lastLineAt = now;
				this.out(`  ${p.phase} ${this.figures(p)}\n`);
			}
		} else if (newPhase || finished || now - this.lastLineAt >= 100) {
			this.lastLineAt = now;
			if (newPhase && this.barShown) this.out('\n');
			const width = Math.max(10, Math.min(40, (this.streams.stdout.columns ?? 80) - 50));
			const fraction = timed && p.expectedMs ? Math.min(1, (p.elapsedMs ?? 0) / p.expectedMs) : this.percent(p) / 100;
			const filled = Math.round((finished ? 1 : fraction) * width);
			const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
			const tail = timed ? `${formatDuration(p.elapsedMs ?? 0)} of ~${formatDuration(p.expectedMs ?? 0)}` : `${String(this.percent(p)).padStart(3)}% ${p.total > 1 ? formatRate(p.rate) : ''}`;
			this.out(`\r${phaseTitles[p.phase].padEnd(22)} [${bar}] ${tail.padEnd(16)}\x1b[K`);
			this.barShown = true;
		}
		this.lastPhase = p.phase;
	}

	/**
	 * A progress event in JSON: of the job, or with `boardId` of one board of a flash on connect
	 * (each board throttled on its own). Every phase start and end goes out, every timed event (a
	 * timed phase reports about twice a second anyway), byte progress at most 10 times a second.
	 */
	jsonProgress(p: Progress, boardId?: string) {
		if (this.mode !== 'json') return;
		const now = this.now();
		const key = boardId ?? '';
		const gate = this.jsonGates.get(key) ?? {at: -Infinity};
		const timed = p.elapsedMs !== undefined;
		if (p.phase !== gate.phase || p.done >= p.total || timed || now - gate.at >= 100) {
			gate.at = now;
			this.event({event: 'progress', ...(boardId !== undefined ? {boardId} : {}), phase: p.phase, done: p.done, total: p.total, ...(timed ? {elapsedMs: p.elapsedMs, expectedMs: p.expectedMs} : {})});
		}
		gate.phase = p.phase;
		this.jsonGates.set(key, gate);
	}

	private figures(p: Progress): string {
		if (p.elapsedMs !== undefined) return `${formatDuration(p.elapsedMs)} of ~${formatDuration(p.expectedMs ?? 0)}`;
		return `${this.percent(p)}% ${formatBytes(p.done)} of ${formatBytes(p.total)}, ${formatRate(p.rate)}`;
	}

	private percent(p: Progress) {
		return p.total > 0 ? Math.floor((p.done / p.total) * 100) : 100;
	}

	private clearBar() {
		if (this.barShown) {
			this.out('\n');
			this.barShown = false;
		}
	}

	result(ok: boolean, fields: Record<string, unknown>, summary?: string) {
		this.clearBar();
		if (this.mode === 'json') this.event({event: 'result', ok, ...fields});
		else if (summary) this.out(summary + '\n');
	}

	/** A job's result: the summary (or the JSON result object), and on failure the error and its hint on stderr. */
	jobResult(result: JobResult): number {
		this.clearBar();
		if (result.ok) {
			this.result(true, result.fields, result.summary);
			return ExitCode.ok;
		}
		const e = result.error!;
		if (this.mode === 'json') this.event({event: 'result', ok: false, ...result.fields, error: e});
		this.err(`error: ${e.message}\n`);
		if (e.hint) this.err(`hint: ${e.hint}\n`);
		return result.exitCode;
	}

	/** Errors outside a job (usage, a bad flag): what happened and the next step, as a result too. */
	fail(error: unknown, fields: Record<string, unknown> = {}): number {
		this.clearBar();
		const e = error instanceof FcflashError ? error : undefined;
		const code = e?.exitCode ?? ExitCode.failed;
		const message = errorText(error);
		const ownHint = (error as {hintText?: unknown} | undefined)?.hintText;
		const hint = typeof ownHint === 'string' ? ownHint : e?.hint ? hints[e.hint].text : undefined;
		if (this.mode === 'json') this.event({event: 'result', ok: false, ...fields, error: {code, message, hint: hint ?? null, hintId: e?.hint ?? null}});
		this.err(`error: ${message}\n`);
		if (hint) this.err(`hint: ${hint}\n`);
		if (!e && process.env.FCFLASH_DEBUG && error instanceof Error) this.err(`${error.stack}\n`);
		return code;
	}
}
