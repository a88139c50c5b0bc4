// Ending test processes that may have ended on their own a moment before: a process listed a
// millisecond ago can be gone when the signal is sent (ESRCH), and that is what was wanted.

/** Send `sig` to a process (or, with a negative pid, its group); false when it was already gone. */
export function signalIfAlive(pid: number, sig: NodeJS.Signals): boolean {
	try {
		process.kill(pid, sig);
		return true;
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
		throw error;
	}
}

/** The same for the process group a detached child leads. */
export const killGroup = (pid: number, sig: NodeJS.Signals): boolean => signalIfAlive(-pid, sig);
