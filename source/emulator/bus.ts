// What the USB bus costs. The ROM bootloader is a full-speed device (12 Mbit/s): a control
// transfer's data stage moves about 1 MB/s once packet framing and the status stage are paid for,
// so reading 1 MiB back takes about a second on a real board. The transports (the in-process
// WebUSB device and the umockdev server) charge that time, scaled like every other ROM timing.
import {performance} from 'node:perf_hooks';
import {setTimeout as sleep} from 'node:timers/promises';

/** Data-stage throughput of a full-speed control pipe, in bytes per millisecond. */
export const FULL_SPEED_BYTES_PER_MS = 1000;

/** Unscaled time the data stage of a control transfer carrying `bytes` takes. */
export function dataStageMs(bytes: number): number {
	return bytes / FULL_SPEED_BYTES_PER_MS;
}

/**
 * Charges data stages in real time. Timers cannot sleep 2 ms exactly, so the clock keeps an account:
 * time owed is slept once it reaches a millisecond, and oversleeping is credited to the next transfers
 * (bounded, so an idle pause earns nothing), so a long run costs what the bus would cost on average.
 */
export class BusClock {
	private owed = 0;
	constructor(private readonly timeScale: number) {}

	async charge(bytes: number): Promise<void> {
		if (!(this.timeScale > 0) || bytes <= 0) return;
		this.owed += dataStageMs(bytes) * this.timeScale;
		if (this.owed < 1) return;
		const started = performance.now();
		await sleep(this.owed);
		this.owed = Math.max(-2, this.owed - (performance.now() - started));
	}
}
