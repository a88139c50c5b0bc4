// Process signals for a running job, in one place for the CLI and the TUI: SIGINT and SIGTERM ask
// the job to stop at the next block boundary (every further SIGINT too: a job may treat the second
// one harder), SIGHUP means the terminal is gone: the front end stops writing, the job runs to its
// end and logs its result.
import type {Job} from './types.js';

export interface SignalOptions {
	/** Called before job.hangup(): stop every write to the terminal (the TUI unmounts its screen). */
	onHangup?: () => void;
	/** SIGINT arrives as a key in the TUI (raw mode); the CLI gets it as a signal. Default true. */
	interrupt?: boolean;
}

/**
 * Returns the function that removes the handlers. A read or write on the terminal that fails with
 * EIO is the same news as SIGHUP and often comes first (stdin is being read at a prompt): without
 * this, the stream's unhandled 'error' would end the process before the SIGHUP handler runs.
 */
export function bindSignals(job: Pick<Job, 'stop' | 'hangup'>, options: SignalOptions = {}): () => void {
	const stop = () => job.stop();
	let hungUp = false;
	const hangup = () => {
		if (hungUp) return;
		hungUp = true;
		options.onHangup?.();
		job.hangup();
	};
	const streams = [process.stdin, process.stdout, process.stderr].filter((s) => (s as {isTTY?: boolean}).isTTY);
	const onStreamError = (error: NodeJS.ErrnoException) => {
		if (error.code === 'EIO' || error.code === 'EPIPE' || error.code === 'ENXIO') hangup();
	};
	const interrupt = options.interrupt !== false;
	if (interrupt) process.on('SIGINT', stop);
	process.on('SIGTERM', stop);
	process.on('SIGHUP', hangup);
	for (const s of streams) s.on('error', onStreamError);
	return () => {
		if (interrupt) process.off('SIGINT', stop);
		process.off('SIGTERM', stop);
		process.off('SIGHUP', hangup);
		// The listeners on the terminal's streams stay: an EIO after the job must not crash the exit.
	};
}
