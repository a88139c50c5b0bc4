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

/** Returns the function that removes the handlers. */
export function bindSignals(job: Pick<Job, 'stop' | 'hangup'>, options: SignalOptions = {}): () => void {
	const stop = () => job.stop();
	const hangup = () => {
		options.onHangup?.();
		job.hangup();
	};
	const interrupt = options.interrupt !== false;
	if (interrupt) process.on('SIGINT', stop);
	process.on('SIGTERM', stop);
	process.on('SIGHUP', hangup);
	return () => {
		if (interrupt) process.off('SIGINT', stop);
		process.off('SIGTERM', stop);
		process.off('SIGHUP', hangup);
	};
}
