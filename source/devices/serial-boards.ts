// Serial flight controllers behind RealSource: their ports listed, each identified once over MSP
// and cached until the port goes away, and rebooted into DFU.
import {identifyPort} from './fc-identify.js';
import {chooseRebootMethod, rebootToDfu, type RebootResult} from './fc-reboot.js';
import {openSerial, serialProblem, type PortFactory, type SerialLink} from './serial-link.js';
import {listSerialPorts, type FcPort, type ListSerialOptions} from './serial-ports.js';
import type {FlightControllerInfo, SerialBoard} from './types.js';

export interface SerialBoardsOptions extends ListSerialOptions {
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

export class SerialBoards {
	private readonly cache = new Map<string, CacheEntry>();
	private lastPorts: FcPort[] = [];
	/** From the last listing: why serial ports may be missing. */
	warnings: string[] = [];

	constructor(private readonly options: SerialBoardsOptions = {}) {}

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

	/** Open the board's port for MSP or its CLI, once an identify in flight has let go of it. */
	async openLink(board: SerialBoard, options: {baud?: number} = {}): Promise<SerialLink> {
		const port = this.portFor(board);
		await this.cache.get(port.path)?.pending;
		return openSerial(port.path, {baudRate: options.baud ?? this.options.baudRate, createPort: this.options.createPort});
	}

	/** Wait for identifies in flight (they close their ports). */
	async settle(): Promise<void> {
		await Promise.all([...this.cache.values()].map((e) => e.pending));
	}
}
