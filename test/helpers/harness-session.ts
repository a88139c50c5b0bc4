// A command running under scripts/with-emulated-usb in the background, for tests that plug boards in
// and out while it runs: the control FIFO, the status file, the command's pid (for signals), its
// stdout lines with their arrival times. The harness gets a process group of its own, and every
// session ends by itself: after `timeoutMs` the whole group gets SIGTERM, then SIGKILL, as
// runHarness does, so a failing test leaves nothing running.
import {spawn} from 'node:child_process';
import {appendFileSync, existsSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {killGroup} from './signal.js';
import {harness, serverJs} from './usb-harness.js';

export interface Line {
	/** performance.now() when the line arrived. */
	at: number;
	text: string;
}

export async function waitFor(what: string, predicate: () => boolean, context: () => string, ms = 20_000): Promise<void> {
	const deadline = Date.now() + ms;
	while (!predicate()) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${context()}`);
		await new Promise((r) => setTimeout(r, 25));
	}
}

export interface SessionOptions {
	/** A folder for the session's notes (control FIFO path, status path, pid). */
	dir: string;
	env?: NodeJS.ProcessEnv;
	/** The whole group is ended after this long (default 60 s). */
	timeoutMs?: number;
}

export type HarnessSession = ReturnType<typeof startSession>;

/** Start `command` under the harness; `ready()` resolves once the command is about to exec. */
export function startSession(name: string, harnessArgs: string[], command: string[], options: SessionOptions) {
	const note = join(options.dir, `${name}.session`);
	// The shell writes what the test needs, then execs the command: $$ is then the command's pid.
	const wrapper = `printf '%s\\n%s\\n%s\\n' "$EMULATED_USB_CONTROL" "$EMULATED_USB_STATUS" "$$" > '${note}.tmp' && mv '${note}.tmp' '${note}'; exec "$@"`;
	const child = spawn(harness, ['--server', serverJs, '--node', process.execPath, ...harnessArgs, '--', '/bin/sh', '-c', wrapper, 'sh', ...command], {
		stdio: ['ignore', 'pipe', 'pipe'],
		env: options.env ?? process.env,
		detached: true,
	});
	const out = {stdout: '', stderr: ''};
	const lines: Line[] = [];
	let partial = '';
	child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
		out.stdout += chunk;
		partial += chunk;
		const at = performance.now();
		for (let i; (i = partial.indexOf('\n')) >= 0; partial = partial.slice(i + 1)) lines.push({at, text: partial.slice(0, i)});
	});
	child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out.stderr += chunk));
	// 'exit' is the harness itself; 'close' also waits for everything holding its stdout.
	let exitCode: number | null | undefined;
	const harnessGone = new Promise<void>((resolve) =>
		child.on('exit', (code) => {
			exitCode = code;
			resolve();
		}),
	);
	const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
	const timeoutMs = options.timeoutMs ?? 60_000;
	let timedOut = false;
	const stopGroup = async () => {
		if (exitCode === undefined) {
			killGroup(child.pid!, 'SIGTERM');
			const hard = setTimeout(() => killGroup(child.pid!, 'SIGKILL'), 3000);
			await harnessGone;
			clearTimeout(hard);
		}
		// The harness is gone; whatever it left in its group goes too.
		killGroup(child.pid!, 'SIGKILL');
	};
	const timer = setTimeout(() => {
		timedOut = true;
		void stopGroup();
	}, timeoutMs);
	void harnessGone.then(() => clearTimeout(timer));
	const notes = () => readFileSync(note, 'utf8').split('\n');
	const context = () => `stdout:\n${out.stdout}\nstderr:\n${out.stderr}${timedOut ? `\n(the session was killed after ${timeoutMs} ms)` : ''}`;
	return {
		child,
		out,
		lines,
		context,
		exited,
		/** The command has been started (the harness serves its boards). */
		ready: () => waitFor(`${name}: the harness to start its command`, () => existsSync(note) || exitCode !== undefined, context, 30_000).then(() => {
			if (!existsSync(note)) throw new Error(`${name}: the harness ended before its command started\n${context()}`);
		}),
		/** Lines for $EMULATED_USB_CONTROL: add N, remove N, replug N MS. */
		control: (text: string) => appendFileSync(notes()[0]!, text.endsWith('\n') ? text : `${text}\n`),
		status: () => readFileSync(notes()[1]!, 'utf8'),
		/** The command's own pid (the shell exec'd it). */
		pid: () => Number(notes()[2]),
		/** The exit code, waiting at most `ms` (then the group is killed and this throws). */
		exit: async (ms = 30_000) => {
			let timer: NodeJS.Timeout | undefined;
			const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), ms)));
			const code = await Promise.race([exited, late]);
			clearTimeout(timer);
			if (code === 'late') {
				await stopGroup();
				throw new Error(`${name}: did not exit within ${ms} ms\n${context()}`);
			}
			return code;
		},
		/** End the whole group (SIGTERM, SIGKILL after 3 s); for `finally`. */
		stop: async () => {
			clearTimeout(timer);
			await stopGroup();
		},
	};
}
