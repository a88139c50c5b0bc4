// The flash log: one line per job that ended after its terminal was lost (SIGHUP), and one per
// board flashed on connect, so a technician can see afterwards what each board got. One format:
// an ISO time, then a JSON object. $XDG_STATE_HOME/fcflash-tui/flash.log (~/.local/state/...).
import {appendFileSync, mkdirSync} from 'node:fs';
import {homedir} from 'node:os';
import {dirname, join} from 'node:path';

export function flashLogPath(env: NodeJS.ProcessEnv = process.env): string {
	const base = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
	return join(base, 'fcflash-tui', 'flash.log');
}

export interface FlashLogEntry {
	job: string;
	ok: boolean;
	exitCode: number;
	/** Board id (serial number, USB path or port). */
	board?: string;
	usbPath?: string;
	file?: string;
	message?: string;
	/** Settings backup written for this board. */
	backup?: string | null;
	/** Why the line was written: the terminal hung up, or a board of an on-connect run. */
	reason: 'hangup' | 'on-connect';
	[key: string]: unknown;
}

/** Never throws: the log is where results go when nothing else can show them. */
export function appendFlashLog(entry: FlashLogEntry, path = flashLogPath()): boolean {
	try {
		mkdirSync(dirname(path), {recursive: true});
		appendFileSync(path, `${new Date().toISOString()} ${JSON.stringify(entry)}\n`);
		return true;
	} catch {
		return false;
	}
}
