// The backup job: read the whole main flash of a board into a file (a flight controller is rebooted
// into DFU first). The file appears complete or not at all, and never over an existing file.
import {createHash} from 'node:crypto';
import {closeSync, existsSync, linkSync, mkdirSync, openSync, unlinkSync, writeSync} from 'node:fs';
import {dirname} from 'node:path';
import {readMainFlash} from '../dfu/read.js';
import type {DfuBoard} from '../devices/types.js';
import {errorText, ExitCode, FcflashError, UsageError} from '../errors.js';
import {formatBytes, formatDuration, hex32} from '../format.js';
import {startJob, type JobRun} from './job.js';
import {Locks} from './locks.js';
import {withTarget} from './open-board.js';
import {rebootIntoDfu} from './reboot.js';
import {deviceFacts, isUartBridge, resolveBoard} from './resolve.js';
import type {BackupReport, BackupRequest, Job, JobContext, JobListener} from './types.js';

export class BackupExistsError extends UsageError {
	override name = 'BackupExistsError';
	constructor(readonly path: string) {
		super(`${path} exists: a backup is never written over another file. Choose another name.`, 'backup-exists');
	}
}

function writeError(path: string, error: unknown): FcflashError {
	const code = (error as NodeJS.ErrnoException).code;
	const why = code === 'ENOENT' ? 'its folder does not exist' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : errorText(error);
	return new UsageError(`Cannot write the backup to ${path}: ${why}. Choose another path.`);
}

function folderError(folder: string, error: unknown): FcflashError {
	const code = (error as NodeJS.ErrnoException).code;
	const why = code === 'ENOTDIR' || code === 'EEXIST' ? 'a file is in the way' : code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 'permission denied' : errorText(error);
	return new UsageError(`Cannot make the folder ${folder} for the backup: ${why}. Choose another path.`);
}

/**
 * A private temporary file next to `out`, checked before any board is touched. Its folder is made
 * first, with its parents: the TUI's default path is in a per-board folder that a first backup creates.
 */
function reserve(out: string): string {
	if (existsSync(out)) throw new BackupExistsError(out);
	const folder = dirname(out);
	try {
		mkdirSync(folder, {recursive: true});
	} catch (error) {
		throw folderError(folder, error);
	}
	const tmp = `${out}.${process.pid}.tmp`;
	try {
		closeSync(openSync(tmp, 'wx', 0o644));
	} catch (error) {
		throw writeError(tmp, error);
	}
	return tmp;
}

/** Write `data` to tmp, then link it to `out` (fails if `out` appeared meanwhile: no overwrite). */
function commit(tmp: string, out: string, data: Uint8Array): void {
	const fd = openSync(tmp, 'w');
	try {
		writeSync(fd, data);
	} finally {
		closeSync(fd);
	}
	try {
		linkSync(tmp, out);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new BackupExistsError(out);
		throw writeError(out, error);
	}
}

export function startBackupJob(context: JobContext, request: BackupRequest, listener: JobListener): Job<BackupReport> {
	return startJob<BackupReport>('backup', listener, (run) => backup(run, context, request), (run) => ({board: run.data?.board.id, file: request.out}));
}

async function backup(run: JobRun<BackupReport>, context: JobContext, request: BackupRequest) {
	run.fields = {file: request.out};
	// An unwritable or existing path fails before any board is touched (or rebooted).
	const tmp = reserve(request.out);
	const locks = new Locks();
	try {
		const board = await resolveBoard(context.source, request);
		const report: BackupReport = {board, durationMs: 0, boardState: 'untouched'};
		run.data = report;
		run.fields = {file: request.out, device: deviceFacts(board)};
		run.emit({type: 'board', board});
		await locks.take(board);
		const started = performance.now();
		let dfu: DfuBoard;
		if (board.kind === 'serial') {
			if (isUartBridge(board)) throw new FcflashError(`${board.port} is a ${board.name}: there is no USB DFU behind it.`, ExitCode.failed, 'uart-bridge');
			if (request.reboot === false) {
				throw new FcflashError(`${board.port} is a flight controller running its firmware, and the reboot into DFU is turned off: put it in DFU first (hold BOOT while plugging it in).`, ExitCode.noDevice, 'boot-button');
			}
			run.emit({type: 'phases', phases: ['reboot', 'wait', 'read']});
			dfu = await rebootIntoDfu(run, context.source, board, {baud: request.baud});
			report.boardState = 'in-dfu';
			run.emit({type: 'board', board: dfu});
			await locks.take(dfu);
		} else {
			run.emit({type: 'phases', phases: ['read']});
			dfu = board;
		}
		run.fields = {file: request.out, device: deviceFacts(dfu)};
		const dump = await withTarget(context, dfu, (target) => readMainFlash(target, {signal: run.signal, onProgress: (p) => run.progress('read', p.done, p.total, {rate: p.rate})}));
		commit(tmp, request.out, dump.data);
		const sha256 = createHash('sha256').update(dump.data).digest('hex');
		Object.assign(report, {file: request.out, address: dump.address, bytes: dump.data.length, sha256, durationMs: Math.round(performance.now() - started)});
		const fields = {file: request.out, device: deviceFacts(dfu), address: dump.address, bytes: dump.data.length, unreadable: dump.unreadable, sha256, durationMs: report.durationMs};
		const summary =
			`Saved ${formatBytes(dump.data.length)} of flash from ${hex32(dump.address)} of ${dfu.chip ?? dfu.name} to ${request.out} in ${formatDuration(report.durationMs)} (sha256 ${sha256.slice(0, 16)}...).` +
			(dump.unreadable ? ` ${formatBytes(dump.unreadable)} of unreadable sectors are 0xFF in the file.` : '') +
			`\nThe board stays in DFU: fcflash-tui leave starts its firmware.`;
		return {fields, summary, data: report};
	} finally {
		locks.release();
		try {
			unlinkSync(tmp);
		} catch {
			// Never created, or already gone.
		}
	}
}
