// Output for headless commands. Three forms:
//  - json: stdout carries only newline-delimited JSON events and the final result object;
//  - plain (no TTY): one line per phase, at most one progress line a second, no ANSI escapes;
//  - tty: a progress bar redrawn in place (at most ~10 times a second).
import type {Progress as FlashProgress} from '../devices/select.js';
import {FcflashError, ExitCode} from '../errors.js';
import {hints} from '../hints.js';
import {formatBytes, formatRate} from '../format.js';

export type OutputMode = 'json' | 'plain' | 'tty';

/** The flash phases (CONTRACT) plus `read`, which only `backup` uses (documented in --help). */
export type Phase = FlashProgress['phase'] | 'read';
export interface Progress extends Omit<FlashProgress, 'phase'> {
	phase: Phase;
}

export interface Streams {
	stdout: NodeJS.WritableStream & {isTTY?: boolean; columns?: number};
	stderr: NodeJS.WritableStream & {isTTY?: boolean};
}

const phaseTitles: Record<Phase, string> = {
	reboot: 'Rebooting into DFU',
	wait: 'Waiting for the DFU board',
	compare: 'Comparing',
	erase: 'Erasing',
	write: 'Writing',
	verify: 'Verifying',
	leave: 'Starting the firmware',
	read: 'Reading the flash',
};

export class Reporter {
	private lastPhase?: Phase;
	private lastLineAt = 0;
	private lastJsonAt = 0;
	private barShown = false;
	constructor(
		readonly mode: OutputMode,
		private readonly streams: Streams,
		private readonly now: () => number = () => performance.now(),
	) {}

	static choose(json: boolean, streams: Streams): Reporter {
		const tty = Boolean(streams.stdout.isTTY) && process.env.TERM !== 'dumb';
		return new Reporter(json ? 'json' : tty ? 'tty' : 'plain', streams);
	}

	/** Human information; in JSON mode it goes to stderr so stdout stays parseable. */
	info(line: string) {
		if (this.mode === 'json') return;
		this.clearBar();
		this.streams.stdout.write(line + '\n');
	}

	event(object: Record<string, unknown>) {
		if (this.mode === 'json') this.streams.stdout.write(JSON.stringify(object) + '\n');
	}

	progress(p: Progress) {
		const now = this.now();
		const newPhase = p.phase !== this.lastPhase;
		const finished = p.done >= p.total;
		if (this.mode === 'json') {
			if (newPhase || finished || now - this.lastJsonAt >= 100) {
				this.lastJsonAt = now;
				this.event({event: 'progress', phase: p.phase, done: p.done, total: p.total});
			}
		} else if (this.mode === 'plain') {
			if (newPhase) {
				this.streams.stdout.write(`${phaseTitles[p.phase]}...\n`);
				this.lastLineAt = now;
			} else if (now - this.lastLineAt >= 1000 || (finished && p.total > 1)) {
				this.lastLineAt = now;
				this.streams.stdout.write(`  ${p.phase} ${this.percent(p)}% ${formatBytes(p.done)} of ${formatBytes(p.total)}, ${formatRate(p.rate)}\n`);
			}
		} else if (newPhase || finished || now - this.lastLineAt >= 100) {
			this.lastLineAt = now;
			if (newPhase && this.barShown) this.streams.stdout.write('\n');
			const width = Math.max(10, Math.min(40, (this.streams.stdout.columns ?? 80) - 50));
			const filled = Math.round((this.percent(p) / 100) * width);
			const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
			this.streams.stdout.write(`\r${phaseTitles[p.phase].padEnd(22)} [${bar}] ${String(this.percent(p)).padStart(3)}% ${(p.total > 1 ? formatRate(p.rate) : "").padStart(11)}\x1b[K`);
			this.barShown = true;
		}
		this.lastPhase = p.phase;
	}

	private percent(p: Progress) {
		return p.total > 0 ? Math.floor((p.done / p.total) * 100) : 100;
	}

	private clearBar() {
		if (this.barShown) {
			this.streams.stdout.write('\n');
			this.barShown = false;
		}
	}

	result(ok: boolean, fields: Record<string, unknown>, summary?: string) {
		this.clearBar();
		if (this.mode === 'json') this.event({event: 'result', ok, ...fields});
		else if (summary) this.streams.stdout.write(summary + '\n');
	}

	/** Errors: what happened and the next step on stderr; in JSON also the result object. */
	fail(error: unknown, fields: Record<string, unknown> = {}): number {
		this.clearBar();
		const e = error instanceof FcflashError ? error : undefined;
		const code = e?.exitCode ?? ExitCode.failed;
		const message = error instanceof Error ? error.message : String(error);
		// An error may carry its own next step (e.g. the exact sudo command) instead of a hint id.
		const ownHint = (error as {hintText?: unknown} | undefined)?.hintText;
		const hint = typeof ownHint === 'string' ? {title: '', text: ownHint} : e?.hint ? hints[e.hint] : undefined;
		if (this.mode === 'json') {
			this.event({event: 'result', ok: false, ...fields, error: {code, message, hint: hint?.text ?? null, hintId: e?.hint ?? null}});
		}
		this.streams.stderr.write(`error: ${message}\n`);
		if (hint) this.streams.stderr.write(`hint: ${hint.text}\n`);
		if (!e && process.env.FCFLASH_DEBUG && error instanceof Error) this.streams.stderr.write(`${error.stack}\n`);
		return code;
	}
}
