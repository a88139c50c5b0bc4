// What a process does when its terminal hangs up (SIGHUP: the SSH session dropped). Writes to the
// hung-up TTY fail with EIO, and at exit Node's ResetStdio restores the terminal modes of fds 0-2
// with tcsetattr and aborts the process (exit 134) when that fails. It leaves alone a descriptor
// that was reopened to another file, so fds 0-2 are pointed at /dev/null: the job can finish,
// nothing more reaches the dead terminal, and the process exits with the job's own code.
import {closeSync, openSync} from 'node:fs';

let detached = false;

export function terminalGone(): boolean {
	return detached;
}

/** Idempotent. POSIX open() returns the lowest free descriptor, so closing fd N first reuses N. */
export function detachFromTerminal(): void {
	if (detached) return;
	detached = true;
	const ignore = () => {};
	const streams = [process.stdin, process.stdout, process.stderr];
	for (const stream of streams) stream.on('error', ignore);
	try {
		process.stdin.pause();
	} catch {
		// Already gone.
	}
	if (process.platform === 'win32') return;
	for (const fd of [0, 1, 2]) {
		// Output redirected to a file or a pipe still works: only the terminal is gone. (isTTY was
		// read at start-up; isatty() on a hung-up terminal already says no.)
		if (!(streams[fd] as {isTTY?: boolean}).isTTY) continue;
		try {
			closeSync(fd);
			openSync('/dev/null', fd === 0 ? 'r' : 'w');
		} catch {
			// Nothing better to do: the write paths above already ignore errors.
		}
	}
}

/**
 * End the process after a hang-up. The TTY handles of stdin/stdout keep the event loop alive on
 * a dead terminal, so exiting has to be explicit; the descriptors are already safe for ResetStdio.
 */
export function exitAfterHangup(code: number): never {
	detachFromTerminal();
	process.exit(code);
}
