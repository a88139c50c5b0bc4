// The settings jobs: `settings backup`, `settings restore FILE` and `settings diff FILE` on a flight
// controller running its firmware, over its CLI. The same locks, board choice and questions as a
// flash; the settings rules themselves are in source/settings/.
import {CliSession} from '../devices/fc-cli.js';
import type {Link} from '../devices/serial-link.js';
import type {Board, SerialBoard} from '../devices/types.js';
import {DeclinedError, CancelledError, ExitCode, FcflashError, OtherBoardError, UsageError} from '../errors.js';
import {backupSettings, readBackupFile, type BackupResult} from '../settings/backup.js';
import {diffSettings, type SettingsComparison} from '../settings/compare.js';
import {restoreSettings, type RestoreReport} from '../settings/restore.js';
import {startJob, type JobRun} from './job.js';
import {serialPorts, waitForFirmware} from './keep-settings.js';
import {Locks} from './locks.js';
import {deviceFacts, resolveBoard} from './resolve.js';
import type {BoardChoice, Job, JobContext, JobListener} from './types.js';

export interface SettingsBackupRequest extends BoardChoice {
	/** Write here instead of the backup folder (never over an existing file). */
	out?: string;
}
export interface SettingsFileRequest extends BoardChoice {
	file: string;
	yes?: boolean;
	/** Restore a backup of another MCU id. */
	force?: boolean;
}

async function flightController(run: JobRun<unknown>, context: JobContext, request: BoardChoice): Promise<SerialBoard> {
	const board: Board = await resolveBoard(context.source, request, {kind: 'serial'});
	run.fields = {device: deviceFacts(board)};
	run.emit({type: 'board', board});
	if (board.kind !== 'serial') {
		throw new FcflashError(`${board.chip ?? board.name} (${board.id}) is in DFU: it has no settings to read. Start its firmware first (fcflash-tui leave).`, ExitCode.failed, 'not-in-dfu');
	}
	if (!context.source.openLink) throw new FcflashError(`${board.port}: this board source cannot open serial ports.`, ExitCode.failed, 'cli-no-prompt');
	return board;
}

/** A CLI session for `use`, left again with `exit` (the firmware reboots, dropping nothing saved). */
async function withCli<T>(run: JobRun<unknown>, context: JobContext, board: SerialBoard, use: (session: CliSession) => Promise<T>): Promise<T> {
	const link = await context.source.openLink!(board);
	let session: CliSession | undefined;
	try {
		session = await CliSession.enter(link, {signal: run.signal});
		const result = await use(session);
		await session.exit();
		return result;
	} catch (error) {
		if (session && !session.gone) await session.exit().catch(() => undefined);
		throw error;
	} finally {
		session?.detach();
		await link.close();
	}
}

export function startSettingsBackupJob(context: JobContext, request: SettingsBackupRequest, listener: JobListener): Job<BackupResult> {
	return startJob<BackupResult>('settings-backup', listener, async (run) => {
		const board = await flightController(run, context, request);
		const locks = new Locks();
		try {
			await locks.take(board);
			run.emit({type: 'phases', phases: ['backup']});
			run.progress('backup', 0, 1);
			const backup = await withCli(run, context, board, (session) => backupSettings(session, {identity: board.fc, usbSerial: board.serialNumber, out: request.out}));
			run.progress('backup', 1, 1);
			return {
				fields: {device: deviceFacts(board), file: backup.file, board: backup.board, lines: backup.lines},
				summary: `Saved the settings of ${board.port} (${[backup.board.variant, backup.board.version, backup.board.target].filter(Boolean).join(' ')}) to ${backup.file} (${backup.lines} lines).`,
				data: backup,
			};
		} finally {
			locks.release();
		}
	});
}

export function startSettingsRestoreJob(context: JobContext, request: SettingsFileRequest, listener: JobListener): Job<RestoreReport> {
	return startJob<RestoreReport>('settings-restore', listener, async (run) => {
		const backup = await readBackupFile(request.file);
		const board = await flightController(run, context, request);
		run.fields = {...run.fields, file: request.file};
		const locks = new Locks();
		try {
			await locks.take(board);
			if (!request.yes) {
				if (context.interaction === 'none') throw new UsageError('Refusing to replace the settings without confirmation: there is no terminal to ask on. Pass --yes.', 'confirm-needed');
				const reply = await run.ask({kind: 'confirm-restore', file: request.file, board});
				if (reply !== 'yes' && reply !== 'force') {
					if (run.stopped) throw new CancelledError('Interrupted at the confirmation: nothing was changed.', {nothingWritten: true});
					throw new DeclinedError('Not confirmed: nothing was changed.');
				}
			}
			run.emit({type: 'phases', phases: ['restore']});
			const before = {port: board.port, usbPath: board.usbPath, serialNumber: board.serialNumber, namedPath: board.vendorId === 0};
			const restore = async (force: boolean) => {
				const link: Link = await context.source.openLink!(board);
				try {
					return await restoreSettings(link, backup.text, {
						file: request.file,
						board: board.fc,
						force,
						signal: run.signal,
						onInfo: (text) => run.info(text),
						onProgress: (p) => run.progress('restore', p.done, p.total),
						reopen: async () => {
							const away = await serialPorts(context.source);
							away.delete(board.port);
							const back = await waitForFirmware(run, context.source, before, away);
							if (!back) throw new FcflashError(`${board.port} did not come back after saving the settings: check them with fcflash-tui settings diff ${request.file}.`, ExitCode.failed, 'fc-port-gone');
							return context.source.openLink!(back);
						},
					});
				} finally {
					await link.close();
				}
			};
			let report: RestoreReport;
			try {
				report = await restore(Boolean(request.force));
			} catch (error) {
				// Another board's backup: the TUI asks for the typed word; the CLI needs --force.
				if (!(error instanceof OtherBoardError) || context.interaction !== 'full') throw error;
				const reply = await run.ask({kind: 'restore-other-board', backupMcuId: error.backupMcuId, boardMcuId: error.boardMcuId});
				if (reply !== 'force') throw error;
				report = await restore(true);
			}
			for (const r of report.rejected) run.warn({text: `Not restored: ${r.line} (${r.message})`, hint: 'settings-rejected'});
			const summary = report.alreadyHeld
				? `${board.port} already holds every setting of ${request.file}: nothing to restore.`
				: `Restored ${report.applied} setting line${report.applied === 1 ? '' : 's'} from ${request.file} to ${board.port}${report.saved ? ' and saved them' : ''}` +
					`${report.rejected.length ? `; ${report.rejected.length} refused by the firmware` : ''}${report.remaining.length ? `; ${report.remaining.length} still differ` : ''}.`;
			return {
				fields: {device: deviceFacts(board), file: request.file, applied: report.applied, rejected: report.rejected, remaining: report.remaining, saved: report.saved},
				summary,
				data: report,
			};
		} finally {
			locks.release();
		}
	});
}

export function startSettingsDiffJob(context: JobContext, request: SettingsFileRequest, listener: JobListener): Job<SettingsComparison> {
	return startJob<SettingsComparison>('settings-diff', listener, async (run) => {
		const backup = await readBackupFile(request.file);
		const board = await flightController(run, context, request);
		const locks = new Locks();
		try {
			await locks.take(board);
			const diff = await withCli(run, context, board, (session) => diffSettings(backup.text, session));
			const summary = diff.same
				? `${board.port} holds exactly the settings of ${request.file}.`
				: [`${board.port} differs from ${request.file}:`, ...diff.onlyInFile.map((l) => `  file:  ${l}`), ...diff.onlyOnBoard.map((l) => `  board: ${l}`)].join('\n');
			return {fields: {device: deviceFacts(board), file: request.file, same: diff.same, onlyInFile: diff.onlyInFile, onlyOnBoard: diff.onlyOnBoard}, summary, data: diff};
		} finally {
			locks.release();
		}
	});
}
