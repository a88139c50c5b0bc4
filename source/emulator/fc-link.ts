// An in-process serial link between the host code and an emulated flight controller: the host side
// is a Link like a real port; the firmware side receives the host's bytes and sends its own. The
// host's bytes reach the firmware on a later tick (a write resolves before any answer), and the
// firmware batches what it prints per tick, as a USB VCP sends packets, optionally cut into small
// chunks so that tests meet answers split anywhere.
import {CloseSignal} from '../devices/close-signal.js';
import type {Link} from '../devices/serial-link.js';

export interface FirmwarePort {
	/** Bytes from the host, in order. */
	onHostBytes(bytes: Buffer): void;
}

export class EmulatedLink implements Link {
	private readonly listeners = new Set<(chunk: Buffer) => void>();
	private readonly gone = new CloseSignal();
	/** Set when the host let go (close()); the firmware side stops delivering. */
	onHostClose?: () => void;

	constructor(
		readonly path: string,
		private readonly firmware: FirmwarePort,
	) {}

	get closed(): boolean {
		return this.gone.isSet;
	}

	write(data: Uint8Array): Promise<void> {
		if (this.gone.isSet) return Promise.reject(Object.assign(new Error(`${this.path} is closed`), {code: 'EIO'}));
		const bytes = Buffer.from(data);
		setImmediate(() => {
			if (!this.gone.isSet) this.firmware.onHostBytes(bytes);
		});
		return Promise.resolve();
	}

	onData(listener: (chunk: Buffer) => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	waitClosed(ms: number): Promise<boolean> {
		return this.gone.wait(ms);
	}

	async close(): Promise<void> {
		if (this.gone.isSet) return;
		this.hangUp();
		this.onHostClose?.();
	}

	// ---- the firmware's side -----------------------------------------------------------------

	/** The firmware's bytes reach the host now (the firmware decides when: it batches per tick). */
	deliver(bytes: Buffer, maxChunk = 0) {
		for (let at = 0; at < bytes.length && !this.gone.isSet; at += maxChunk || bytes.length) {
			const chunk = bytes.subarray(at, maxChunk ? at + maxChunk : bytes.length);
			for (const l of [...this.listeners]) l(chunk);
		}
	}

	/** The device went away (reboot, unplug): the port is gone, as a VCP vanishes. */
	hangUp() {
		this.gone.fire();
	}
}
