import {createInterface} from 'node:readline/promises';
import {appendFileSync, mkdirSync} from 'node:fs';
import {homedir} from 'node:os';
import {join} from 'node:path';
import type {CliFlags} from '../cli/flags.js';
import type {Reporter} from '../cli/reporter.js';
import {formatBytes, formatDuration} from '../format.js';
import {acquireBoardLock} from '../devices/lock.js';
import {resolveBoard} from '../devices/select.js';
import {targetMismatch} from '../devices/target-match.js';
import {openBoardSource} from '../devices/board-source.js';
import {describeImage, loadFirmware} from '../firmware/load.js';
import {FcflashError, UsageError, ExitCode} from '../errors.js';
import {runFlashJob} from '../flash-job.js';
import type {FirmwareImage} from '../firmware/image.js';
import {parseAddress, requireFile} from './args.js';
import {usbTracer} from './trace.js';

/** Where a flash that lost its terminal (SIGHUP) leaves its result. */
export function flashLogPath(): string {
	const base = process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
	return join(base, 'fcflash-tui', 'flash.log');
}

export async function flashCommand(args: string[], flags: CliFlags, reporter: Reporter): Promise<number> {
	const file = requireFile(args, 'flash');
	const interactive = Boolean(process.stdin.isTTY) && reporter.mode !== 'json';
	if (!flags.yes && !interactive) {
		throw new UsageError('Refusing to erase without confirmation: there is no terminal to ask on. Pass --yes.');
	}
	// Parse and check the whole file before touching any board.
	// Look for boards while the file is parsed (listing touches nothing), but report a bad file first.
	const address = parseAddress(flags.address);
	const sourceReady = openBoardSource(flags);
	const listed = sourceReady.then((s) => s.list());
	listed.catch(() => {});
	let image: FirmwareImage;
	try {
		image = await loadFirmware(file, {address});
	} catch (error) {
		await sourceReady.then((s) => s.close?.(), () => {});
		throw error;
	}
	const imageFacts = describeImage(image);
	const source = await sourceReady;
	const controller = new AbortController();
	let hungUp = false;
	const onInt = () => controller.abort();
	// A dropped SSH session must not stop a flash half-way: keep going, log the result.
	const onHup = () => {
		hungUp = true;
	};
	process.on('SIGINT', onInt);
	process.on('SIGTERM', onInt);
	process.on('SIGHUP', onHup);
	process.stdout.on('error', () => {});
	process.stderr.on('error', () => {});
	let release: (() => void) | undefined;
	let touched = false;
	const base = {file, image: {bytes: image.bytes, segments: imageFacts.segments}};
	try {
		const board = await resolveBoard(source, flags.device, listed);
		const mismatch = targetMismatch(image, board);
		if (mismatch && !flags.force) throw new FcflashError(`${mismatch} Pass --force to flash it anyway.`, ExitCode.usage, 'target-mismatch');
		release = acquireBoardLock(board);
		reporter.info(`Board: ${board.kind === 'dfu' ? (board.chip ?? board.name) : `${board.name} on ${board.port}`} (${board.id})`);
		const result = await runFlashJob(source, board, image, {
			fullErase: flags.fullErase,
			rewrite: flags.rewrite,
			verify: flags.verify,
			reboot: flags.reboot,
			baud: flags.baud,
			unprotect: flags.unprotect,
			signal: controller.signal,
			trace: flags.verbose ? usbTracer(process.stderr) : undefined,
			onInfo: (line) => reporter.info(line),
			onProgress: (p) => {
				// Smart flash may write without erasing: either changes the board.
				if (p.phase === 'erase' || p.phase === 'write') touched = true;
				if (!hungUp) reporter.progress(p);
			},
			confirm: async ({board: dfu, plan}) => {
				if (flags.yes) return true;
				const what = flags.fullErase ? 'the WHOLE chip (settings are lost)' : `${plan.sectors.length} sector(s), ${formatBytes(plan.eraseBytes)}`;
				const rl = createInterface({input: process.stdin, output: process.stderr});
				try {
					const answer = await rl.question(`Erase ${what} of ${dfu.chip ?? dfu.name} (${dfu.id}) and write ${file}? [y/N] `);
					return /^y(es)?$/i.test(answer.trim());
				} finally {
					rl.close();
				}
			},
		});
		const fields = {
			...base,
			device: {id: result.board.id, name: result.board.chip ?? result.board.name, serial: result.board.serialNumber ?? null},
			erase: result.erase,
			written: result.written,
			skipped: result.skipped,
			verified: result.verified,
			durationMs: result.durationMs,
		};
		const summary =
			`Flashed ${formatBytes(image.bytes)} to ${fields.device.name} in ${formatDuration(result.durationMs)}: ` +
			`erased ${result.erase.sectors} sector(s) (${formatBytes(result.erase.bytes)}, ${result.erase.mode}), ` +
			`wrote ${formatBytes(result.written)}${result.skipped ? ` (skipped ${formatBytes(result.skipped)} of 0xFF)` : ''}, ` +
			(result.verified ? 'verified.' : 'NOT verified (--no-verify).');
		reporter.result(true, fields, summary);
		if (hungUp) logAfterHangup(`ok ${JSON.stringify(fields)}`);
		return 0;
	} catch (error) {
		const code = reporter.fail(error, base);
		if (hungUp) logAfterHangup(`failed ${error instanceof Error ? error.message : String(error)}`);
		return code;
	} finally {
		release?.();
		process.off('SIGINT', onInt);
		process.off('SIGTERM', onInt);
		process.off('SIGHUP', onHup);
		// The emulated board keeps its flash after a run that touched it (success or failure).
		if (touched) await source.saveState?.();
		await source.close?.();
	}
}

/** Append a line to the flash log; used when the terminal is gone (SIGHUP), by the CLI and the TUI. */
export function logAfterHangup(line: string) {
	try {
		const path = flashLogPath();
		mkdirSync(join(path, '..'), {recursive: true});
		appendFileSync(path, `${new Date().toISOString()} ${line}\n`);
	} catch {
		// Nowhere left to report to.
	}
}
