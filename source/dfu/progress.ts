// Progress of the engine's own phases. The job layer (source/jobs/types.ts) adds its phases (reboot,
// wait, backup...) around these; the engine never reports them.
export type Phase = 'compare' | 'erase' | 'write' | 'verify' | 'leave';

export interface Progress {
	phase: Phase;
	done: number;
	total: number;
	/** Bytes per second in this phase so far. */
	rate: number;
	/**
	 * For a step whose progress the device does not report (the mass erase): time spent so far and
	 * the time it is expected to take. Sent at least once a second while it runs.
	 */
	elapsedMs?: number;
	expectedMs?: number;
}

export type ProgressSink = (p: Progress) => void;

export class PhaseClock {
	private readonly started = performance.now();
	constructor(
		private readonly phase: Phase,
		public total: number,
		private readonly sink?: ProgressSink,
	) {}

	report(done: number, timing?: {elapsedMs: number; expectedMs: number}) {
		const seconds = (performance.now() - this.started) / 1000;
		this.sink?.({phase: this.phase, done, total: this.total, rate: seconds > 0 ? done / seconds : 0, ...timing});
	}
}
