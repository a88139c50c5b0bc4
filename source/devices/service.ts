// The device service behind RealSource: serial flight controllers (listed, identified once per
// port and cached, rebooted into DFU) and hotplug watching (libusb attach/detach events for DFU
// boards, serial ports polled about once a second).
import {
	chooseRebootMethod,
	identifyPort,
	listSerialPorts,
	rebootToDfu,
	serialProblem,
	type FcPort,
	type ListSerialOptions,
	type PortFactory,
	type RebootResult,
} from './serial.js';
import type {Board, FlightControllerInfo, SerialBoard} from './types.js';

export interface SerialServiceOptions extends ListSerialOptions {
	/** Stand-in for identifyPort (tests): no port is opened. */
	identify?: (port: FcPort) => Promise<FlightControllerInfo | undefined>;
	/** Stand-in for the reboot (tests). */
	reboot?: (port: FcPort, options: {baud?: number; fc?: FlightControllerInfo}) => Promise<RebootResult | void>;
	/** Identify ports while listing (default true). */
	identifyOnList?: boolean;
	/** Per MSP request while listing (default 250 ms). */
	identifyTimeoutMs?: number;
	/** Baud rate for identifying USB-UART bridges (default 115200). */
	baudRate?: number;
	createPort?: PortFactory;
	/** How long "no MSP answer" and "busy" are remembered before the port is asked again. */
	retryAfterMs?: number;
}

interface CacheEntry {
	key: string;
	at: number;
	pending?: Promise<void>;
	fc?: FlightControllerInfo;
	problem?: SerialBoard['problem'];
	/** Permanent until the port disappears: a successful answer or a permission problem. */
	settled: boolean;
}

const portKey = (p: FcPort) => `${p.path}|${p.vendorId}:${p.productId}|${p.serialNumber ?? ''}`;

export function serialBoardFrom(port: FcPort, fc?: FlightControllerInfo, problem?: SerialBoard['problem']): SerialBoard {
	const board: SerialBoard = {
		kind: 'serial',
		id: port.serialNumber || port.usbPath || port.path,
		vendorId: port.vendorId,
		productId: port.productId,
		name: port.product && !port.bridge ? `${port.name} (${port.product})` : port.name,
		port: port.path,
	};
	if (port.serialNumber) board.serialNumber = port.serialNumber;
	if (port.usbPath) board.usbPath = port.usbPath;
	if (fc) board.fc = fc;
	if (problem) board.problem = problem;
	return board;
}

export class SerialService {
	private readonly cache = new Map<string, CacheEntry>();
	private lastPorts: FcPort[] = [];
	/** From the last listing: why serial ports may be missing. */
	warnings: string[] = [];

	constructor(private readonly options: SerialServiceOptions = {}) {}

	/** The ports alone (no port is opened): cheap enough to poll. */
	async ports(): Promise<FcPort[]> {
		const {ports, warnings} = await listSerialPorts(this.options);
		this.warnings = warnings;
		this.lastPorts = ports;
		// Forget what we learnt about ports that are gone: a replugged board may run other firmware.
		const keys = new Set(ports.map(portKey));
		for (const [path, entry] of this.cache) if (!keys.has(entry.key)) this.cache.delete(path);
		return ports;
	}

	async list(): Promise<SerialBoard[]> {
		const ports = await this.ports();
		if (this.options.identifyOnList === false) return ports.map((p) => serialBoardFrom(p));
		await Promise.all(ports.map((p) => this.ensureIdentified(p)));
		return ports.map((p) => {
			const entry = this.cache.get(p.path);
			return serialBoardFrom(p, entry?.fc, entry?.problem);
		});
	}

	private ensureIdentified(port: FcPort, force = false): Promise<void> {
		const key = portKey(port);
		const entry = this.cache.get(port.path);
		const retry = this.options.retryAfterMs ?? 10_000;
		if (entry && entry.key === key) {
			if (entry.pending) return entry.pending;
			if (!force && (entry.settled || performance.now() - entry.at < retry)) return Promise.resolve();
		}
		const next: CacheEntry = {key, at: performance.now(), settled: false};
		next.pending = this.identifyNow(port)
			.then(({fc, problem}) => {
				next.fc = fc;
				next.problem = problem;
				next.settled = fc !== undefined || problem?.hint === 'dialout';
			})
			.finally(() => {
				next.at = performance.now();
				next.pending = undefined;
			});
		this.cache.set(port.path, next);
		return next.pending;
	}

	private async identifyNow(port: FcPort): Promise<{fc?: FlightControllerInfo; problem?: SerialBoard['problem']}> {
		try {
			const fc = this.options.identify
				? await this.options.identify(port)
				: await identifyPort(port.path, {
						timeoutMs: this.options.identifyTimeoutMs ?? 250,
						openTimeoutMs: 1000,
						baudRate: this.options.baudRate,
						createPort: this.options.createPort,
					});
			return {fc};
		} catch (error) {
			const p = serialProblem(error, port.path);
			return p.hint === 'device-gone' ? {} : {problem: {message: p.message, hint: p.hint}};
		}
	}

	private portFor(board: SerialBoard): FcPort {
		return (
			this.lastPorts.find((p) => p.path === board.port) ?? {
				path: board.port,
				vendorId: board.vendorId,
				productId: board.productId,
				serialNumber: board.serialNumber,
				usbPath: board.usbPath,
				name: board.name,
				bridge: false,
			}
		);
	}

	/** Ask the port again (not from the cache). */
	async identify(board: SerialBoard): Promise<FlightControllerInfo | undefined> {
		const port = this.portFor(board);
		await this.ensureIdentified(port, true);
		const entry = this.cache.get(port.path);
		return entry?.fc;
	}

	/** Whatever a listing learnt about the port, without opening it. */
	cached(path: string): FlightControllerInfo | undefined {
		return this.cache.get(path)?.fc;
	}

	async rebootToDfu(board: SerialBoard, options: {baud?: number; onInfo?: (line: string) => void} = {}): Promise<RebootResult> {
		const port = this.portFor(board);
		// An identify still holding the port would make the reboot's open fail with "busy".
		await this.cache.get(port.path)?.pending;
		const fc = this.cache.get(port.path)?.fc ?? board.fc;
		this.cache.delete(port.path);
		if (this.options.reboot) {
			return (await this.options.reboot(port, {baud: options.baud, fc})) ?? {method: chooseRebootMethod(fc), fc};
		}
		return rebootToDfu(port.path, {baud: options.baud, fc, createPort: this.options.createPort, onInfo: options.onInfo});
	}

	/** Wait for identifies in flight (they close their ports). */
	async settle(): Promise<void> {
		await Promise.all([...this.cache.values()].map((e) => e.pending));
	}
}

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
