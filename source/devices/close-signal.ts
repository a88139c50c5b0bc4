// "The other end went away": set once, awaited with a bound. Shared by every Link (a real port,
// the emulated flight controller's in-process link) so waitClosed means the same everywhere.
export class CloseSignal {
	private fired = false;
	private readonly waiters = new Set<() => void>();

	get isSet(): boolean {
		return this.fired;
	}

	fire(): void {
		if (this.fired) return;
		this.fired = true;
		for (const w of this.waiters) w();
		this.waiters.clear();
	}

	/** True as soon as it fires within `ms`; else what `closedNow` says then. */
	wait(ms: number, closedNow: () => boolean = () => this.fired): Promise<boolean> {
		if (closedNow()) return Promise.resolve(true);
		return new Promise((resolve) => {
			const done = () => {
				clearTimeout(timer);
				resolve(true);
			};
			const timer = setTimeout(() => {
				this.waiters.delete(done);
				resolve(closedNow());
			}, ms);
			this.waiters.add(done);
		});
	}
}
