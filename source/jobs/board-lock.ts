// One job per board at a time, across processes and users. A lock file per USB port path (the id a
// board keeps across its reboot into DFU; its serial number may change and its tty name does), in
// /run/lock when every user may create files there, else /tmp: one folder for all users, root or
// not. Never $TMPDIR or a per-user folder, or two users' flashes would not see each other.
//
// Taking it is atomic: the holder's pid is written to a private file first, which is then
// hard-linked to the lock name; link() fails with EEXIST if the name exists, so a lock file is
// never seen half-written. A lock whose holder is gone (pid dead, or reused by another process:
// its start time differs) is broken under a second lock, re-checked by inode, so two processes
// that both find it stale cannot both take over.
import {closeSync, linkSync, openSync, readFileSync, statSync, unlinkSync, writeSync} from 'node:fs';
import {join} from 'node:path';
import {FcflashError, ExitCode} from '../errors.js';
import {sleep} from '../sleep.js';

export class BoardLockedError extends FcflashError {
	override name = 'BoardLockedError';
	constructor(readonly key: string, readonly holder?: number) {
		super(`Board ${key} is being flashed by another fcflash-tui${holder ? ` (pid ${holder})` : ''}. Wait for it to finish, or stop it.`, ExitCode.failed, 'busy');
	}
}

/** What lockFolder needs of a folder's stat (injectable: the tests run as root, modes prove nothing). */
export type FolderStat = {mode: number; isDirectory(): boolean};

/**
 * /run/lock only when every user can create files in it (others may write and search: 1777 on
 * Debian), else /tmp. Never "can this process write there": root can write to a root-owned 0755
 * /run/lock (Fedora, Arch) where a normal user cannot, and their locks would not meet.
 */
export function lockFolder(runLock: FolderStat | undefined): string {
	return runLock?.isDirectory() && (runLock.mode & 0o003) === 0o003 ? '/run/lock' : '/tmp';
}

/** Where locks live. FCFLASH_LOCK_DIR only for the tests. */
export function lockDir(env: NodeJS.ProcessEnv = process.env, stat: (path: string) => FolderStat | undefined = statQuietly): string {
	return env.FCFLASH_LOCK_DIR || lockFolder(stat('/run/lock'));
}

function statQuietly(path: string): FolderStat | undefined {
	try {
		return statSync(path);
	} catch {
		return undefined; // missing, or not even searchable: not a shared folder
	}
}

export const lockPath = (key: string, dir = lockDir()) => join(dir, `fcflash-tui-${key.replace(/[^\w.-]/g, '_')}.lock`);

/** Field 22 of /proc/PID/stat: when the process started (clock ticks since boot), to spot a reused pid. */
function startTime(pid: number): string | undefined {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
	} catch {
		return undefined;
	}
}

function holderAlive(text: string): {alive: boolean; pid?: number} {
	const [pidText, start] = text.trim().split(' ');
	// '-' : the holder could not read its start time (no /proc); the pid alone decides.
	const pid = Number(pidText);
	if (!Number.isInteger(pid) || pid <= 0) return {alive: false};
	try {
		process.kill(pid, 0);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'EPERM') return {alive: false, pid};
	}
	const now = startTime(pid);
	return {alive: !(start && start !== '-' && now && start !== now), pid};
}

let sequence = 0;
/** The lock's content: pid, start time, and a token of this take (inode numbers are reused at once). */
function privateFile(path: string): {tmp: string; text: string} {
	const tmp = `${path}.${process.pid}.${++sequence}`;
	const text = `${process.pid} ${startTime(process.pid) ?? '-'} ${Date.now().toString(36)}.${sequence}\n`;
	const fd = openSync(tmp, 'wx', 0o644);
	try {
		writeSync(fd, text);
	} finally {
		closeSync(fd);
	}
	return {tmp, text};
}

const tryLink = (from: string, to: string) => {
	try {
		linkSync(from, to);
		return true;
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
		throw error;
	}
};

const removeQuietly = (path: string) => {
	try {
		unlinkSync(path);
	} catch {
		// Already gone.
	}
};

/** A breaker that died mid-break leaves its file; after this long it is taken as abandoned. */
const breakerStaleMs = 10_000;

/** Break a stale lock, unless someone else broke and retook it meanwhile (the inode tells). */
function breakStale(path: string, staleIno: number, tmp: string): void {
	const breaker = `${path}.break`;
	if (!tryLink(tmp, breaker)) {
		try {
			if (Date.now() - statSync(breaker).mtimeMs > breakerStaleMs) removeQuietly(breaker);
		} catch {
			// Released meanwhile.
		}
		return;
	}
	try {
		if (statSync(path).ino === staleIno && !holderAlive(readFileSync(path, 'utf8')).alive) unlinkSync(path);
	} catch {
		// The lock went away by itself.
	} finally {
		removeQuietly(breaker);
	}
}

/**
 * Take the lock for `key`; resolves with the release function, or throws BoardLockedError when a live
 * process holds it. Release removes the lock only while it is still this process's own file.
 */
export async function acquireBoardLock(key: string, dir = lockDir()): Promise<() => void> {
	const path = lockPath(key, dir);
	const {tmp, text: own} = privateFile(path);
	try {
		for (let attempt = 0; attempt < 200; attempt++) {
			if (tryLink(tmp, path)) {
				return () => {
					try {
						if (readFileSync(path, 'utf8') === own) unlinkSync(path);
					} catch {
						// Already gone.
					}
				};
			}
			let text: string;
			let ino: number;
			try {
				ino = statSync(path).ino;
				text = readFileSync(path, 'utf8');
			} catch {
				continue; // released between our link and our look
			}
			const holder = holderAlive(text);
			if (holder.alive) throw new BoardLockedError(key, holder.pid);
			breakStale(path, ino, tmp);
			await sleep(attempt < 5 ? 0 : 5);
		}
		throw new BoardLockedError(key);
	} finally {
		removeQuietly(tmp);
	}
}
