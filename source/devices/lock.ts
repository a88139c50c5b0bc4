// A per-board lock so two processes never flash the same board: an O_EXCL file holding our pid.
// A lock whose process is gone is stale and taken over.
import {openSync, writeSync, closeSync, readFileSync, unlinkSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {FcflashError} from '../errors.js';

export function lockPath(boardId: string): string {
	return join(tmpdir(), `fcflash-tui-${boardId.replace(/[^\w.-]/g, '_')}.lock`);
}

const alive = (pid: number) => {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
};

export function acquireBoardLock(board: {id: string; simulated?: boolean}): () => void {
	// An emulated board lives inside one process: no other process can reach it, so nothing to lock.
	if (board.simulated) return () => {};
	const boardId = board.id;
	const path = lockPath(boardId);
	for (let attempt = 0; attempt < 2; attempt++) {
		try {
			const fd = openSync(path, 'wx');
			writeSync(fd, String(process.pid));
			closeSync(fd);
			return () => {
				try {
					unlinkSync(path);
				} catch {
					// Already gone.
				}
			};
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
			const pid = Number(readFileSync(path, 'utf8'));
			if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
				throw new FcflashError(`Board ${boardId} is being flashed by another fcflash-tui (pid ${pid}).`, 1, 'busy');
			}
			unlinkSync(path);
		}
	}
	throw new FcflashError(`Could not lock board ${boardId} (${path}).`, 1, 'busy');
}
