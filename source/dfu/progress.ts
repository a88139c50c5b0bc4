// Progress of the engine's phases, as events with the byte count, the total and the rate.
export type Phase = 'reboot' | 'wait' | 'erase' | 'write' | 'verify' | 'leave';

export interface Progress {
	phase: Phase;
	done: number;
	total: number;
	/** Bytes per second in this phase so far. */
	rate: number;
}

export class PhaseClock {
	private readonly started = performance.now();
	constructor(
		private readonly phase: Phase,
		readonly total: number,
		private readonly sink?: (p: Progress) => void,
	) {}
	report(done: number) {
		const seconds = (performance.now() - this.started) / 1000;
		this.sink?.({phase: this.phase, done, total: this.total, rate: seconds > 0 ? done / seconds : 0});
	}
}

