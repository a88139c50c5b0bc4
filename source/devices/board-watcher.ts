// Hotplug: every listener gets the whole board list on each change, from libusb attach/detach
// events for DFU boards and a serial-port poll about once a second.
import type {Board, SerialBoard} from './types.js';

/** The part of node-usb's `usb` object that hotplug needs (an EventEmitter fits too). */
export interface UsbEvents {
	on(event: 'attach' | 'detach', listener: (device: unknown) => void): unknown;
	removeListener(event: 'attach' | 'detach', listener: (device: unknown) => void): unknown;
}

export interface WatcherOptions {
	/** The whole current list. */
	list: () => Promise<Board[]>;
	/** Only the serial port paths (cheap; polled). */
	serialPorts: () => Promise<string[]>;
	/** node-usb's `usb` (or a stand-in); undefined when libusb is unavailable. */
	usbEvents: () => Promise<UsbEvents | undefined>;
	pollMs?: number;
	/** Let libusb settle after attach/detach before listing (default 150 ms). */
	debounceMs?: number;
	onError?: (error: unknown) => void;
}

/**
 * Calls every listener with the whole list on each change. Starts the libusb hotplug listeners and
 * the serial poll with the first listener and removes them with the last, so the process can exit.
 */
export class BoardWatcher {
	private readonly listeners = new Set<(boards: Board[]) => void>();
	private usb?: UsbEvents;
	private poll?: NodeJS.Timeout;
	private debounce?: NodeJS.Timeout;
	private running = false;
	private rerun = false;
	private lastSignature?: string;
	private lastBoards?: Board[];
	private serialSignature?: string;
	private generation = 0;
	private readonly onUsb = () => this.schedule();

	constructor(private readonly options: WatcherOptions) {}

	subscribe(onChange: (boards: Board[]) => void): () => void {
		const first = this.listeners.size === 0;
		this.listeners.add(onChange);
		if (first) this.start();
		if (this.lastBoards && !first) onChange(this.lastBoards);
		else void this.refresh(true);
		return () => {
			if (!this.listeners.delete(onChange)) return;
			if (this.listeners.size === 0) this.stop();
		};
	}

	get active() {
		return this.listeners.size > 0;
	}

	private start() {
		const generation = ++this.generation;
		this.options
			.usbEvents()
			.then((usb) => {
				if (!usb || generation !== this.generation || !this.active) return;
				this.usb = usb;
				usb.on('attach', this.onUsb);
				usb.on('detach', this.onUsb);
			})
			.catch((error) => this.options.onError?.(error));
		this.poll = setInterval(() => void this.pollSerial(), this.options.pollMs ?? 1000);
		this.poll.unref?.();
	}

	private stop() {
		this.generation++;
		if (this.usb) {
			this.usb.removeListener('attach', this.onUsb);
			this.usb.removeListener('detach', this.onUsb);
			this.usb = undefined;
		}
		if (this.poll) clearInterval(this.poll);
		if (this.debounce) clearTimeout(this.debounce);
		this.poll = this.debounce = undefined;
		this.lastSignature = this.lastBoards = this.serialSignature = undefined;
	}

	private schedule() {
		if (!this.active) return;
		if (this.debounce) clearTimeout(this.debounce);
		this.debounce = setTimeout(() => {
			this.debounce = undefined;
			void this.refresh();
		}, this.options.debounceMs ?? 150);
	}

	private async pollSerial() {
		if (!this.active) return;
		try {
			const signature = (await this.options.serialPorts()).sort().join('\n');
			// A DFU board that could not be opened is looked at again every poll: right after it is
			// plugged in, udev may not have applied the rule yet (a moment of LIBUSB_ERROR_ACCESS).
			const retry = this.lastBoards?.some((b) => b.kind === 'dfu' && b.problem) ?? false;
			if ((this.serialSignature !== undefined && signature !== this.serialSignature) || retry) this.schedule();
			this.serialSignature = signature;
		} catch (error) {
			this.options.onError?.(error);
		}
	}

	/** List and emit when the list changed (or always, for a new subscriber). */
	async refresh(force = false): Promise<void> {
		if (this.running) {
			this.rerun = true;
			if (force) this.lastSignature = undefined;
			return;
		}
		this.running = true;
		try {
			do {
				this.rerun = false;
				let boards: Board[];
				try {
					boards = await this.options.list();
				} catch (error) {
					this.options.onError?.(error);
					continue;
				}
				if (!this.active) return;
				if (this.serialSignature === undefined) {
					this.serialSignature = boards
						.filter((b): b is SerialBoard => b.kind === 'serial')
						.map((b) => b.port)
						.sort()
						.join('\n');
				}
				const signature = JSON.stringify(boards);
				if (force || signature !== this.lastSignature) {
					force = false;
					this.lastSignature = signature;
					this.lastBoards = boards;
					for (const l of [...this.listeners]) l(boards);
				}
			} while (this.rerun && this.active);
		} finally {
			this.running = false;
		}
	}

	close() {
		this.listeners.clear();
		this.stop();
	}
}
