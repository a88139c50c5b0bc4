// A session with a flight controller's CLI (Betaflight, INAV, Cleanflight, EmuFlight) over a Link.
//
// Entering: `#`, then wait for the `# ` prompt (a command sent before it is lost on real firmware).
// A CLI already active from an earlier session only echoes the `#`, with whatever was left in its
// line buffer; one newline then gets a fresh prompt.
//
// Where a command's output ends: the prompt `\r\n# ` is also how every comment line of `diff all`
// starts (`\r\n# version`), and the firmware flushes each print separately, so "the text ends with
// `# `" can be true in the middle of the output. Instead every command is followed by a comment line
// of our own, `#fcflash-sync-N`: the firmware reads it only after the command finished, echoes it and
// prints a prompt, so its echo marks the end exactly, with no quiet-time guess. Comments do nothing,
// and a command that reboots the board never reads it.
import {CancelledError, CliGarbageError, CliPortGoneError, CliPromptError, CliTimeoutError, FcflashError} from '../errors.js';
import type {Link} from './serial-link.js';

export interface CliSessionOptions {
	/** How long `#` may take to show the prompt (default 3000 ms). */
	promptTimeoutMs?: number;
	/** Default per command (5000 ms); `diff all` gets 30 s. */
	commandTimeoutMs?: number;
	/** Stops any wait with a CancelledError. */
	signal?: AbortSignal;
	/** Every received chunk as text (transcripts, --verbose). */
	onText?: (text: string) => void;
}

export interface CliReply {
	command: string;
	/** The output between the echoed command and the prompt, one entry a line, line ends removed. */
	lines: string[];
	/** Each `###ERROR...###` line without the hashes: "ERROR IN set: INVALID NAME: foo = 1". */
	errors: string[];
}

export interface RebootReply extends CliReply {
	/** True when the link closed (the board rebooted); false when the CLI answered with a prompt instead. */
	closed: boolean;
}

/** After `#` with no prompt, when to send one newline (a CLI already active, a dirty line buffer). */
const NUDGE_MS = 500;
const DIFF_TIMEOUT_MS = 30_000;

const SYNC = '#fcflash-sync-';

/** A `###ERROR ...###` line's text (Betaflight: "ERROR IN cmd: reason"; older: "ERROR: reason"). */
export function cliErrorOf(line: string): string | undefined {
	const m = /^###(ERROR[^#]*?)###\s*$/.exec(line.trim());
	return m ? m[1]!.trim() : undefined;
}

/** Printable ASCII plus tab, CR and LF: what a CLI answer is made of. */
function firstNonPrintable(text: string): number {
	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);
		if (!(c === 9 || c === 10 || c === 13 || (c >= 32 && c <= 126))) return i;
	}
	return -1;
}

export class CliSession {
	/** Everything received since the current exchange started. */
	private text = '';
	private readonly off: () => void;
	private wake?: () => void;
	private syncCount = 0;
	private queue: Promise<unknown> = Promise.resolve();
	private ended = false;

	private constructor(
		readonly link: Link,
		private readonly options: CliSessionOptions,
	) {
		this.off = link.onData((chunk) => {
			const text = chunk.toString('latin1');
			this.text += text;
			options.onText?.(text);
			this.wake?.();
		});
	}

	get port(): string {
		return this.link.path;
	}

	/** Enter the CLI: `#`, wait for the prompt, then one sync line so the CLI is known to be reading. */
	static async enter(link: Link, options: CliSessionOptions = {}): Promise<CliSession> {
		const session = new CliSession(link, options);
		try {
			await session.handshake();
			return session;
		} catch (error) {
			session.detach();
			throw error;
		}
	}

	private async handshake() {
		const timeoutMs = this.options.promptTimeoutMs ?? 3000;
		const started = performance.now();
		const left = () => Math.max(0, timeoutMs - (performance.now() - started));
		const promptError = () => new CliPromptError(this.port, timeoutMs);
		await this.send('#', 'entering the CLI');
		const prompt = /(^|\n)# $/;
		let found = await this.waitFor((t) => (prompt.test(t) ? true : undefined), Math.min(NUDGE_MS, timeoutMs), 'entering the CLI', () => undefined);
		if (!found) {
			await this.send('\n', 'entering the CLI');
			found = await this.waitFor((t) => (prompt.test(t) ? true : undefined), left(), 'entering the CLI', promptError);
		}
		// The banner is done; from here every exchange ends at its sync line. A sync line that is
		// not echoed (sent a moment too soon) is sent again while time is left.
		while (true) {
			const n = ++this.syncCount;
			this.text = '';
			await this.send(`${SYNC}${n}\n`, 'entering the CLI');
			const echoed = await this.waitFor((t) => (syncedAt(t, n) >= 0 ? true : undefined), Math.min(600, left()), 'entering the CLI', () => undefined);
			if (echoed) return;
			if (left() <= 0) throw promptError();
		}
	}

	/** Run one command and collect its output up to the prompt. */
	run(command: string, options: {timeoutMs?: number; printableOnly?: boolean} = {}): Promise<CliReply> {
		return this.serial(async () => {
			const line = cleanCommand(command);
			const n = ++this.syncCount;
			this.text = '';
			await this.send(`${line}\n${SYNC}${n}\n`, `\`${line}\``);
			const timeoutMs = options.timeoutMs ?? this.options.commandTimeoutMs ?? 5000;
			// Without closedIsAnswer the wait resolves only with the sync position (or throws).
			const end = (await this.waitFor((t) => {
				const at = syncedAt(t, n);
				return at >= 0 ? at : undefined;
			}, timeoutMs, `\`${line}\``, () => new CliTimeoutError(this.port, line, timeoutMs))) as number;
			const raw = this.text.slice(0, end);
			if (options.printableOnly) {
				const bad = firstNonPrintable(raw);
				if (bad >= 0) throw new CliGarbageError(this.port, line, bad);
			}
			return parseReply(line, raw);
		});
	}

	/**
	 * Run a command that reboots the board (`save`, `exit`, `bl`, `dfu`): resolves when the link
	 * closes, or with `closed: false` and the CLI's answer when it refused (an error and a prompt).
	 */
	runUntilGone(command: string, options: {timeoutMs?: number; cleanup?: boolean} = {}): Promise<RebootReply> {
		return this.serial(async () => {
			const line = cleanCommand(command);
			const n = ++this.syncCount;
			this.text = '';
			const timeoutMs = options.timeoutMs ?? 10_000;
			const cleanup = options.cleanup ?? false;
			// The sync line is read only if the command returns to the prompt; a reboot drops it.
			await this.send(`${line}\n${SYNC}${n}\n`, `\`${line}\``, {rebooting: true, cleanup});
			const end = await this.waitFor(
				(t) => {
					const at = syncedAt(t, n);
					return at >= 0 ? at : undefined;
				},
				timeoutMs,
				`\`${line}\``,
				() => new CliTimeoutError(this.port, line, timeoutMs),
				true,
				cleanup,
			);
			if (end === 'closed') {
				this.ended = true;
				return {...parseReply(line, this.text), closed: true};
			}
			return {...parseReply(line, this.text.slice(0, end)), closed: false};
		});
	}

	/** `diff all`: the board's settings as replayable CLI lines (read up to 30 s, text only). */
	async diffAll(options: {timeoutMs?: number} = {}): Promise<string> {
		const reply = await this.run('diff all', {timeoutMs: options.timeoutMs ?? DIFF_TIMEOUT_MS, printableOnly: true});
		const lines = [...reply.lines];
		while (lines.length && !lines[0]!.trim()) lines.shift();
		return lines.join('\n') + '\n';
	}

	/**
	 * `get NAME`: the value of exactly that setting (the firmware lists every name containing the
	 * text), or undefined when the firmware has no such setting.
	 */
	async get(name: string): Promise<string | undefined> {
		const reply = await this.run(`get ${name}`);
		return valueOf(reply.lines, name);
	}

	/** `save`: writes the settings and reboots; `saved` is false when the firmware refused. */
	async save(options: {timeoutMs?: number} = {}): Promise<RebootReply> {
		return this.runUntilGone('save', {timeoutMs: options.timeoutMs ?? 15_000});
	}

	/**
	 * `exit`: leave the CLI; Betaflight and INAV reboot (unsaved changes are dropped). It runs even
	 * after the session's signal fired: it is how an interrupted session cleans up.
	 */
	async exit(options: {timeoutMs?: number} = {}): Promise<RebootReply> {
		return this.runUntilGone('exit', {timeoutMs: options.timeoutMs ?? 5000, cleanup: true});
	}

	/**
	 * Reboot into the ROM bootloader (DFU) from the CLI: `dfu` on INAV, `bl` on Betaflight and its
	 * relatives. Resolves once the port vanished.
	 */
	async enterBootloader(variant: string | undefined, options: {timeoutMs?: number} = {}): Promise<RebootReply> {
		const command = variant?.trim().toUpperCase() === 'INAV' ? 'dfu' : 'bl';
		const reply = await this.runUntilGone(command, {timeoutMs: options.timeoutMs ?? 5000});
		if (!reply.closed) {
			throw new FcflashError(
				`${this.port}: \`${command}\` did not reboot the flight controller into its bootloader${reply.errors.length ? ` (${reply.errors.join('; ')})` : ''}.`,
				1,
				'boot-button',
			);
		}
		return reply;
	}

	/** Stop listening. The link stays open (and the firmware stays in its CLI until exit or reboot). */
	detach() {
		this.off();
		this.wake = undefined;
	}

	/** True once a command closed the link (save, exit, bl). */
	get gone(): boolean {
		return this.ended || this.link.closed;
	}

	// ---- plumbing -------------------------------------------------------------------------

	/** One exchange at a time: the CLI is a single line of conversation. */
	private serial<T>(fn: () => Promise<T>): Promise<T> {
		const next = this.queue.then(fn, fn);
		this.queue = next.catch(() => undefined);
		return next;
	}

	/**
	 * `rebooting`: the command may reboot the board while it is being written (save, exit, bl), so a
	 * failed write is left for the wait to judge. `cleanup` ignores the signal (exit after Ctrl-C).
	 */
	private async send(text: string, during: string, how: {rebooting?: boolean; cleanup?: boolean} = {}) {
		if (!how.cleanup && this.options.signal?.aborted) throw new CancelledError('Interrupted.');
		if (this.link.closed) throw new CliPortGoneError(this.port, during);
		try {
			await this.link.write(Buffer.from(text, 'latin1'));
		} catch {
			// EIO, "cannot drain": a port that cannot take bytes is a port that went away.
			if (how.rebooting) return;
			throw new CliPortGoneError(this.port, during);
		}
	}

	/**
	 * Wait until `check(received text)` gives a value. The link closing is an error (CliPortGoneError)
	 * unless `closedIsAnswer`; `onTimeout` returning undefined makes a timeout resolve undefined.
	 */
	private waitFor<T>(
		check: (text: string) => T | undefined,
		timeoutMs: number,
		during: string,
		onTimeout: () => Error | undefined,
		closedIsAnswer = false,
		ignoreSignal = false,
	): Promise<T | 'closed' | undefined> {
		return new Promise((resolve, reject) => {
			const signal = ignoreSignal ? undefined : this.options.signal;
			let settled = false;
			const finish = (fn: () => void) => {
				if (settled) return;
				settled = true;
				clearTimeout(timer);
				clearInterval(poll);
				signal?.removeEventListener('abort', onAbort);
				this.wake = undefined;
				fn();
			};
			const evaluate = () => {
				const value = check(this.text);
				if (value !== undefined) return finish(() => resolve(value));
				if (this.link.closed) {
					if (closedIsAnswer) return finish(() => resolve('closed'));
					return finish(() => reject(new CliPortGoneError(this.port, during)));
				}
			};
			const onAbort = () => finish(() => reject(new CancelledError('Interrupted.')));
			const timer = setTimeout(() => {
				const error = onTimeout();
				finish(() => (error ? reject(error) : resolve(undefined)));
			}, timeoutMs);
			// Links report closing through `closed`; a short poll notices it between chunks.
			const poll = setInterval(evaluate, 25);
			if (signal?.aborted) return onAbort();
			signal?.addEventListener('abort', onAbort, {once: true});
			this.wake = evaluate;
			evaluate();
		});
	}
}

/** Tabs would trigger the CLI's name completion; line ends would split the command. */
function cleanCommand(command: string): string {
	return command.replace(/[\r\n]+/g, ' ').replace(/\t/g, ' ').trim();
}

/** Where our sync line `n` was echoed, or -1. */
function syncedAt(text: string, n: number): number {
	const marker = `${SYNC}${n}`;
	const at = text.indexOf(marker);
	if (at < 0) return -1;
	// The echo must be complete: the marker followed by its line end.
	const rest = text.slice(at + marker.length);
	return /^[^\n]*\n/.test(rest) || /^\r/.test(rest) ? at : -1;
}

/** Split a raw exchange into output lines and errors: drop the echo and the closing prompt. */
function parseReply(command: string, raw: string): CliReply {
	// Lines are kept as printed (a backup is the firmware's own text); only the echo, the closing
	// prompt and blank lines at either end go.
	let lines = raw.split(/\r?\n|\r/);
	const echo = lines.findIndex((l) => l.trimEnd().endsWith(command));
	if (echo >= 0) lines = lines.slice(echo + 1);
	const blank = (l: string | undefined) => l !== undefined && (l.trim() === '' || l.trim() === '#');
	while (lines.length && blank(lines.at(-1))) lines.pop();
	while (lines.length && lines[0]!.trim() === '') lines.shift();
	const errors = lines.map(cliErrorOf).filter((e): e is string => e !== undefined);
	return {command, lines, errors};
}

/** The value of exactly `name` in a `get` answer (`name = value`). */
export function valueOf(lines: readonly string[], name: string): string | undefined {
	const wanted = name.trim().toLowerCase();
	for (const line of lines) {
		const m = /^([A-Za-z0-9_]+) = (.*)$/.exec(line);
		if (m && m[1]!.toLowerCase() === wanted) return m[2]!;
	}
	return undefined;
}
