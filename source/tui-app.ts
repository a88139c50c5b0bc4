// The interactive terminal UI (loaded by tui.ts, from the code-cached bundle when there is one).
// The terminal belongs to the screen writer (alternate screen, absolute positions, changed cells
// only); Ink renders whole frames into the writer's stream. The shell's screen comes back on
// every way out: quit, a crash, SIGTERM/SIGINT. SIGHUP (the SSH session dropped) silences the
// terminal, lets a running job finish (it logs its result) and exits with the job's code.
import {existsSync, statSync, writeFileSync} from 'node:fs';
import {homedir} from 'node:os';
import {basename, dirname, join, resolve} from 'node:path';
import {createElement} from 'react';
import {render} from 'ink';
import type {CliFlags} from './cli/flags.js';
import {UsageError} from './errors.js';
import {detachFromTerminal, exitAfterHangup} from './terminal-gone.js';
import type {Board} from './devices/types.js';
import {App, createApp} from './screens/app.js';
import {ScreenWriter} from './screens/screen-writer.js';
import {detectTheme} from './screens/theme.js';
import type {Job, JobKind, JobResult, StartJob} from './jobs/types.js';
import type {TuiServices, TuiSettings} from './screens/types.js';

export function settingsFromFlags(flags: Pick<CliFlags, 'firmware' | 'fullErase' | 'verify' | 'reboot' | 'baud' | 'address'> & Partial<Pick<CliFlags, 'keepSettings'>>, cwd = process.cwd()): TuiSettings {
	const settings: TuiSettings = {startDir: cwd, fullErase: flags.fullErase, verify: flags.verify, reboot: flags.reboot, baud: flags.baud, keepSettings: flags.keepSettings ?? true, address: flags.address};
	if (flags.firmware) {
		const path = resolve(cwd, flags.firmware);
		if (!existsSync(path)) settings.firmwareNote = `${flags.firmware}: no such file or folder; starting in the current folder.`;
		else if (statSync(path).isDirectory()) settings.startDir = path;
		else {
			settings.startDir = dirname(path);
			settings.preselect = basename(path);
		}
	}
	return settings;
}

const utcStamp = (d = new Date()) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

/**
 * `$XDG_DATA_HOME/fcflash-tui/backups/<serial or id>/<UTC time>-flash.bin`: the settings backups'
 * folder (settings/store.ts backupsRoot, not imported: it loads node:crypto on the way to the
 * first frame).
 */
export function defaultBackupPath(board: Board, env: NodeJS.ProcessEnv = process.env, now = new Date()): string {
	const data = env.XDG_DATA_HOME?.trim() || join(env.HOME?.trim() || homedir(), '.local', 'share');
	const who = (board.serialNumber ?? board.id).replace(/[^A-Za-z0-9._-]+/g, '_');
	return join(data, 'fcflash-tui', 'backups', who, `${utcStamp(now)}-flash.bin`);
}

/**
 * A job start function loaded on first use (the job layer and the engine load after the first
 * frame). The Job is returned at once; the job itself starts when its module is in.
 */
export function lazyStart<Request, Data>(kind: JobKind, load: () => Promise<StartJob<Request, Data>>): StartJob<Request, Data> {
	return (context, request, listener) => {
		let job: Job<Data> | undefined;
		let stopped = false;
		let hungUp = false;
		const done = load().then(
			(start) => {
				job = start(context, request, listener);
				if (stopped) job.stop();
				if (hungUp) job.hangup();
				return job.done;
			},
			(error: unknown): JobResult<Data> => {
				const message = `The ${kind} job could not be loaded: ${error instanceof Error ? error.message : String(error)}`;
				const result: JobResult<Data> = {kind, ok: false, exitCode: 1, fields: {}, summary: message, error: {code: 1, message, hint: null, hintId: null}, cancelled: false};
				listener({type: 'result', result});
				return result;
			},
		);
		return {
			kind,
			answer: (id, reply) => job?.answer(id, reply),
			stop() {
				stopped = true;
				job?.stop();
			},
			hangup() {
				hungUp = true;
				job?.hangup();
			},
			done,
		};
	};
}

export function realServices(flags: Pick<CliFlags, 'simulate' | 'simulateState'>): TuiServices {
	return {
		openSource: async () => {
			const {openBoardSource} = await import('./devices/board-source.js');
			return openBoardSource(flags);
		},
		loadImage: async (path, options) => {
			const {loadFirmware} = await import('./firmware/load.js');
			return loadFirmware(path, options);
		},
		// The job layer: every policy (board, lock, target check, questions, log, exit code) is there.
		jobs: {
			'settings-backup': lazyStart('settings-backup', async () => (await import('./jobs/settings-job.js')).startSettingsBackupJob),
			flash: lazyStart('flash', async () => (await import('./jobs/flash-job.js')).startFlashJob),
			backup: lazyStart('backup', async () => (await import('./jobs/backup-job.js')).startBackupJob),
			leave: lazyStart('leave', async () => (await import('./jobs/leave-job.js')).startLeaveJob),
			'on-connect': lazyStart('on-connect', async () => (await import('./jobs/on-connect-job.js')).startOnConnectJob),
		},
		backupPath: (board) => defaultBackupPath(board),
	};
}

export async function runTui(flags: CliFlags): Promise<number> {
	if (!process.stdin.isTTY || !process.stdout.isTTY) {
		throw new UsageError('The interactive UI needs a terminal. Use the flash, inspect and list commands in scripts.');
	}
	const settings = settingsFromFlags(flags);
	const services = realServices(flags);
	const framesFile = process.env.FCFLASH_TUI_FRAMES;
	const writer = new ScreenWriter(process.stdout, {
		columns: process.stdout.columns || 80,
		rows: process.stdout.rows || 24,
		maxFps: 10,
		// Tests compare the terminal with what the writer meant it to show.
		onFrame: framesFile ? (lines) => writeFileSync(framesFile, lines.join('\n') + '\n') : undefined,
	});
	let firstFrameMs: number | undefined;
	let exitCode = 0;
	let finish: () => void = () => {};
	const finished = new Promise<void>((r) => (finish = r));
	const app = createApp(services, settings, {columns: writer.columns, rows: writer.rows}, (code) => {
		exitCode = code;
		finish();
	});

	// Every way out gives the shell its screen back.
	const restore = () => writer.stop();
	process.on('exit', restore);
	const crash = (error: unknown) => {
		writer.stop();
		process.stderr.write(`fcflash-tui: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
		process.exit(1);
	};
	process.on('uncaughtException', crash);
	process.on('unhandledRejection', crash);
	const onSignal = () => app.store.dispatch({type: 'signal'});
	process.on('SIGTERM', onSignal);
	process.on('SIGINT', onSignal);
	let hungUp = false;
	const onHangup = () => {
		if (hungUp) return;
		hungUp = true;
		writer.kill();
		detachFromTerminal();
		void app.effects.hangup().then(
			(code) => exitAfterHangup(code ?? 129),
			() => exitAfterHangup(1),
		);
	};
	process.on('SIGHUP', onHangup);
	// A read or write that fails with EIO is the same news, and often comes first.
	for (const stream of [process.stdin, process.stdout]) {
		stream.on('error', (error: NodeJS.ErrnoException) => {
			if (error.code === 'EIO' || error.code === 'ENXIO' || error.code === 'EPIPE') onHangup();
		});
	}
	const onResize = () => writer.resize(process.stdout.columns || 80, process.stdout.rows || 24);
	process.stdout.on('resize', onResize);

	writer.start();
	const instance = render(createElement(App, {app, theme: detectTheme(process.env)}), {
		stdout: writer.stream as unknown as NodeJS.WriteStream,
		stdin: process.stdin,
		// Whole frames into the writer, nothing else: no cursor codes, no erase-lines, no throttle
		// of Ink's own (the writer throttles what reaches the terminal).
		debug: true,
		exitOnCtrlC: false,
		patchConsole: false,
		onRender: () => {
			firstFrameMs ??= performance.now();
		},
	});
	await finished;
	instance.unmount();
	await instance.waitUntilExit().catch(() => {});
	process.stdout.off('resize', onResize);
	writer.stop();
	process.off('exit', restore);
	// A stopped or failed job's result stays readable on the shell's screen.
	const result = app.store.getState().job?.result;
	if (exitCode !== 0 && result && !result.ok) process.stdout.write(`fcflash-tui: ${result.summary}\n`);
	// FCFLASH_TUI_BYTES=1: what the terminal received (the per-flash output budget).
	if (process.env.FCFLASH_TUI_BYTES) {
		process.stderr.write(
			`fcflash-tui: ${writer.bytes} bytes written to the terminal in ${writer.redraws} redraws (at most ${writer.maxRedrawsPerSecond()} in a second); first frame ${Math.round(firstFrameMs ?? 0)} ms after process start\n`,
		);
	}
	return exitCode;
}
