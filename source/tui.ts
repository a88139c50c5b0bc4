// The interactive terminal UI is loaded only from here, so headless commands never load Ink/React.
// Order matters for start-up time: render the first frame, then create the board source (real USB
// and serial native modules load after the first frame, inside use-app).
import {existsSync, statSync} from 'node:fs';
import {basename, dirname, resolve} from 'node:path';
import {createElement} from 'react';
import {render} from 'ink';
import type {CliFlags} from './cli/flags.js';
import {CancelledError, FcflashError, UsageError} from './errors.js';
import {App} from './screens/app.js';
import {detectTheme} from './screens/theme.js';
import {inkStdout} from './screens/terminal.js';
import type {FlashJobOptions, FlashJobResult, TuiServices, TuiSettings} from './screens/types.js';
import type {Board, BoardSource} from './devices/types.js';
import type {FirmwareImage} from './firmware/image.js';

export function settingsFromFlags(flags: Pick<CliFlags, 'firmware' | 'fullErase' | 'verify' | 'reboot' | 'baud' | 'address'>, cwd = process.cwd()): TuiSettings {
	const settings: TuiSettings = {startDir: cwd, fullErase: flags.fullErase, verify: flags.verify, reboot: flags.reboot, baud: flags.baud, address: flags.address};
	if (flags.firmware) {
		const path = resolve(cwd, flags.firmware);
		if (!existsSync(path)) settings.firmwareNote = `--firmware ${flags.firmware}: no such file or folder; starting in the current folder.`;
		else if (statSync(path).isDirectory()) settings.startDir = path;
		else {
			settings.startDir = dirname(path);
			settings.preselect = basename(path);
		}
	}
	return settings;
}

/** The TUI's callback-style flash service on top of the flash job (its Confirm screen asked already). */
export async function runFlashThroughJob(source: BoardSource, board: Board, image: FirmwareImage, options: FlashJobOptions): Promise<FlashJobResult> {
	const {startFlashJob} = await import('./jobs/flash-job.js');
	const request = {board, image, fullErase: options.fullErase, verify: options.verify, reboot: options.reboot, baud: options.baud, unprotect: options.unprotect, yes: true};
	const job = startFlashJob({source, interaction: 'full'}, request, (event) => {
		if (event.type === 'progress') options.onProgress?.({phase: event.phase as 'erase', done: event.done, total: event.total, rate: event.rate});
		else if (event.type === 'info') options.onInfo?.(event.text);
		else if (event.type === 'question') job.answer(event.question.id, event.question.kind === 'unprotect' && !options.unprotect ? 'no' : 'yes');
	});
	options.signal?.addEventListener('abort', () => job.stop(), {once: true});
	const result = await job.done;
	if (!result.ok) throw result.cancelled ? new CancelledError(result.error!.message) : new FcflashError(result.error!.message, result.exitCode, result.error!.hintId ?? undefined);
	return result.data as FlashJobResult;
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
		runJob: runFlashThroughJob,
	};
}

export async function runTui(flags: CliFlags): Promise<number> {
	if (!process.stdin.isTTY || !process.stdout.isTTY) {
		throw new UsageError('The interactive UI needs a terminal. Use the flash, inspect and list commands in scripts.');
	}
	const settings = settingsFromFlags(flags);
	const services = realServices(flags);
	const stdout = inkStdout(process.stdout);
	let firstFrameMs: number | undefined;
	let exitCode = 0;
	let done: () => void = () => {};
	const finished = new Promise<void>((r) => (done = r));
	const instance = render(
		createElement(App, {
			services,
			settings,
			theme: detectTheme(process.env),
			onExit: (code: number) => {
				exitCode = code;
				done();
			},
		}),
		{
			stdout: stdout.stream,
			exitOnCtrlC: false,
			incrementalRendering: true,
			maxFps: 10,
			patchConsole: false,
			onRender: () => {
				firstFrameMs ??= performance.now();
			},
		},
	);
	await finished;
	instance.unmount();
	await instance.waitUntilExit().catch(() => {});
	// FCFLASH_TUI_BYTES=1: report what the terminal received (for the 64 KiB-per-flash budget).
	if (process.env.FCFLASH_TUI_BYTES) {
		process.stderr.write(`fcflash-tui: ${stdout.bytes()} bytes written to the terminal; first frame ${Math.round(firstFrameMs ?? 0)} ms after process start\n`);
	}
	return exitCode;
}
