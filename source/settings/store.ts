// Where settings backups live and how they are written:
//   $XDG_DATA_HOME/fcflash-tui/backups/<mcu id or USB serial>/<UTC time>-<variant>-<version>.txt
// (~/.local/share by default; the time as 20261201T081500Z, no ':' so every filesystem takes it).
// A backup is written to a temporary file in the same folder, fsynced, then linked to its name: the
// link fails if the name exists, so an existing backup is never replaced, and the next free name
// (-2, -3, ...) is taken instead. Nothing here ever deletes a backup.
import * as fsp from 'node:fs/promises';
import {homedir} from 'node:os';
import {basename, dirname, join} from 'node:path';
import {randomBytes} from 'node:crypto';
import {BackupWriteError, errorText} from '../errors.js';

/** The file operations the store uses (tests stand in for them to inject EACCES, ENOSPC...). */
export interface StoreFs {
	mkdir(path: string, options: {recursive: true}): Promise<unknown>;
	open(path: string, flags: string, mode?: number): Promise<fsp.FileHandle>;
	link(existing: string, newPath: string): Promise<void>;
	rename(oldPath: string, newPath: string): Promise<void>;
	unlink(path: string): Promise<void>;
	access(path: string): Promise<void>;
}

export interface StoreOptions {
	/** Replaces $XDG_DATA_HOME (tests, a config option). */
	dataHome?: string;
	env?: NodeJS.ProcessEnv;
	fs?: StoreFs;
}

const realFs: StoreFs = {
	mkdir: (path, options) => fsp.mkdir(path, options),
	open: (path, flags, mode) => fsp.open(path, flags, mode),
	link: (a, b) => fsp.link(a, b),
	rename: (a, b) => fsp.rename(a, b),
	unlink: (path) => fsp.unlink(path),
	access: (path) => fsp.access(path),
};

export function backupsRoot(options: StoreOptions = {}): string {
	const env = options.env ?? process.env;
	const dataHome = options.dataHome ?? (env.XDG_DATA_HOME?.trim() || join(env.HOME?.trim() || homedir(), '.local', 'share'));
	return join(dataHome, 'fcflash-tui', 'backups');
}

/** Letters, digits, '.', '_' and '-' only: ids and versions become safe path parts. */
const safe = (text: string) => text.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_') || 'unknown';

/** 2026-12-01T08:15:00.123Z -> 20261201T081500Z */
export function utcStamp(at: Date): string {
	return at.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '');
}

export interface BackupIdentity {
	variant?: string;
	version?: string;
	mcuId?: string;
	/** USB serial number, when the MCU id is not known. */
	usbSerial?: string;
}

/** The default path of a backup taken `at` (the suffix for a taken name is added on write). */
export function backupPath(board: BackupIdentity, at: Date, options: StoreOptions = {}): string {
	const folder = safe(board.mcuId || board.usbSerial || 'unknown-board');
	return join(backupsRoot(options), folder, `${utcStamp(at)}-${safe(board.variant || 'unknown')}-${safe(board.version || 'unknown')}.txt`);
}

const PERMISSION = new Set(['EACCES', 'EPERM', 'EROFS']);
/** Filesystems without hard links (FAT, some network mounts): fall back to a checked rename. */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

const codeOf = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code ?? '';

function candidate(path: string, n: number): string {
	if (n === 1) return path;
	const name = basename(path);
	const dot = name.lastIndexOf('.');
	const stem = dot > 0 ? name.slice(0, dot) : name;
	const ext = dot > 0 ? name.slice(dot) : '';
	return join(dirname(path), `${stem}-${n}${ext}`);
}

/**
 * Write `text` as a new file at `path` (or the next free `path-N`), atomically. Resolves the path
 * written. Fails with BackupWriteError (which still holds the text) without touching other files.
 */
export async function writeBackup(path: string, text: string, options: StoreOptions = {}): Promise<string> {
	const fs = options.fs ?? realFs;
	const folder = dirname(path);
	const fail = (error: unknown): never => {
		throw new BackupWriteError(folder, errorText(error), text, PERMISSION.has(codeOf(error)));
	};
	await fs.mkdir(folder, {recursive: true}).catch(fail);
	const temp = join(folder, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
	try {
		const handle = await fs.open(temp, 'wx', 0o644);
		try {
			await handle.writeFile(text, 'utf8');
			await handle.sync();
		} finally {
			await handle.close();
		}
	} catch (error) {
		await fs.unlink(temp).catch(() => undefined);
		return fail(error);
	}
	try {
		for (let n = 1; n < 1000; n++) {
			const target = candidate(path, n);
			try {
				await fs.link(temp, target);
				await fs.unlink(temp).catch(() => undefined);
				await syncFolder(fs, folder);
				return target;
			} catch (error) {
				const code = codeOf(error);
				if (code === 'EEXIST') continue;
				if (!NO_LINKS.has(code)) throw error;
				// No hard links here: rename only onto a name that is free (a race-free check does
				// not exist without links; two backups in the same second of the same board is the race).
				if (await exists(fs, target)) continue;
				await fs.rename(temp, target);
				await syncFolder(fs, folder);
				return target;
			}
		}
		throw Object.assign(new Error(`no free name next to ${path}`), {code: 'EEXIST'});
	} catch (error) {
		await fs.unlink(temp).catch(() => undefined);
		return fail(error);
	}
}

async function exists(fs: StoreFs, path: string): Promise<boolean> {
	try {
		await fs.access(path);
		return true;
	} catch {
		return false;
	}
}

/** The new name is durable once the folder itself is synced (best effort: not every OS allows it). */
async function syncFolder(fs: StoreFs, folder: string) {
	try {
		const handle = await fs.open(folder, 'r');
		try {
			await handle.sync();
		} finally {
			await handle.close();
		}
	} catch {
		// Windows and some filesystems refuse to open or sync a directory.
	}
}
