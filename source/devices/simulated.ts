// --simulate: built-in emulated boards behind the same BoardSource interface as real USB.
// `--simulate` alone gives the demo pair: an STM32F405 in DFU and an STM32F722 running Betaflight on
// an in-process serial port that reboots into DFU. `--simulate=PROFILE` gives that one board in DFU.
// Boards behave like the real thing: leave starts the flashed firmware (the board turns into a serial
// flight controller), a board whose flash is blank stays in DFU, and a disconnect mid-flash comes
// back in the ROM bootloader.
import {existsSync, readFileSync, writeFileSync} from 'node:fs';
import {EmulatedBootloader, EmulatedUsbDevice, isProfileName, profileNames, profiles, type ProfileName} from '../emulator/index.js';
import {findIdent} from '../firmware/ident.js';
import {describeChip, bootloaderVersion} from '../dfu/target.js';
import {layoutSize, parseLayout} from '../dfu/layout.js';
import {UsageError} from '../errors.js';
import type {Board, BoardSource, DfuBoard, FlightControllerInfo, SerialBoard} from './types.js';
import type {DfuUsbDevice} from '../dfu/webusb.js';

interface SimBoard {
	core: EmulatedBootloader;
	mode: 'dfu' | 'app' | 'gone';
	port: string;
	fc?: FlightControllerInfo;
	index: number;
}

export interface SimulatedOptions {
	/** Multiplies every ROM timing (1 = real silicon). From FCFLASH_SIM_TIME_SCALE by default. */
	timeScale?: number;
	statePath?: string;
}

export function simTimeScale(): number {
	const v = Number(process.env.FCFLASH_SIM_TIME_SCALE ?? '1');
	return Number.isFinite(v) && v >= 0 ? v : 1;
}

export class SimulatedSource implements BoardSource {
	private readonly boards: SimBoard[] = [];
	private readonly listeners = new Set<(boards: Board[]) => void>();
	private readonly timeScale: number;
	private readonly timers = new Set<NodeJS.Timeout>();

	constructor(spec: string, private readonly options: SimulatedOptions = {}) {
		this.timeScale = options.timeScale ?? simTimeScale();
		if (spec === '' || spec === 'demo') {
			this.add('stm32f405', 'dfu');
			this.add('stm32f722', 'app', {variant: 'BTFL', version: '4.5.1', apiVersion: '1.46', board: 'S7X2', target: 'STM32F7X2'});
		} else if (isProfileName(spec)) {
			this.add(spec, 'dfu');
		} else {
			throw new UsageError(`Unknown simulated board "${spec}". Profiles: ${profileNames.join(', ')}.`);
		}
		if (options.statePath) this.loadState(options.statePath);
	}

	private add(name: ProfileName, mode: SimBoard['mode'], fc?: FlightControllerInfo) {
		const core = new EmulatedBootloader(profiles[name], {timeScale: this.timeScale});
		const sim: SimBoard = {core, mode, fc, index: this.boards.length, port: `sim:ttyACM${this.boards.length}`};
		if (mode === 'app') core.disconnect('leave');
		core.on('disconnect', (reason) => this.onDisconnect(sim, reason));
		this.boards.push(sim);
	}

	/** The single simulated DFU board that --simulate-state applies to. */
	private stateBoard(): SimBoard {
		return this.boards.find((b) => b.mode === 'dfu') ?? this.boards[0]!;
	}

	private loadState(path: string) {
		if (!existsSync(path)) return;
		const sim = this.stateBoard();
		const bytes = readFileSync(path);
		const flash = sim.core.flash;
		if (bytes.length !== flash.length) {
			throw new UsageError(`--simulate-state ${path} is ${bytes.length} bytes, but the emulated ${sim.core.profile.chip} has ${flash.length} bytes of flash.`);
		}
		flash.set(bytes);
	}

	async saveState(): Promise<void> {
		if (this.options.statePath) writeFileSync(this.options.statePath, this.stateBoard().core.flash);
	}

	private later(ms: number, fn: () => void) {
		const timer = setTimeout(() => {
			this.timers.delete(timer);
			fn();
		}, Math.max(20, ms * this.timeScale));
		timer.unref();
		this.timers.add(timer);
	}

	private onDisconnect(sim: SimBoard, reason: string) {
		sim.mode = 'gone';
		this.changed();
		if (reason === 'leave') {
			// The ROM jumped to the firmware: a flashed board enumerates as a flight controller's VCP.
			this.later(500, () => {
				const blank = sim.core.flash.subarray(0, 8).every((b) => b === 0xff);
				if (blank) {
					sim.core.reset();
					sim.mode = 'dfu';
				} else {
					const ident = findIdent([{address: 0x08000000, data: sim.core.flash}]);
					sim.fc = ident
						? {variant: ident.flavour === 'INAV' ? 'INAV' : ident.flavour === 'Cleanflight' ? 'CLFL' : 'BTFL', version: ident.version, target: ident.target, board: ident.target}
						: {variant: 'unknown'};
					sim.mode = 'app';
				}
				this.changed();
			});
		} else {
			// Unprotect resets the chip; a cable fault is replugged: either way it is back in the ROM.
			this.later(reason === 'unprotect' ? 1500 : 300, () => {
				sim.core.reset();
				sim.mode = 'dfu';
				this.changed();
			});
		}
	}

	private toBoard(sim: SimBoard): Board | undefined {
		const p = sim.core.profile;
		if (sim.mode === 'dfu') {
			const layout = parseLayout(p.layouts[0]!);
			const board: DfuBoard = {
				kind: 'dfu',
				id: sim.core.serialNumber,
				vendorId: p.vendorId,
				productId: p.productId,
				name: p.product.replace(/\s+/g, ' '),
				serialNumber: sim.core.serialNumber,
				usbPath: `sim-${sim.index + 1}`,
				simulated: true,
				chip: describeChip(p.vendorId, layout),
				flashSize: layoutSize(layout),
				bootloader: bootloaderVersion(p.bcdDevice),
				layout: p.layouts[0],
			};
			return board;
		}
		if (sim.mode === 'app') {
			const board: SerialBoard = {
				kind: 'serial',
				id: sim.core.serialNumber,
				vendorId: p.vendorId,
				productId: 0x5740,
				name: `${p.chip} flight controller`,
				serialNumber: sim.core.serialNumber,
				usbPath: `sim-${sim.index + 1}`,
				simulated: true,
				port: sim.port,
				fc: sim.fc,
			};
			return board;
		}
		return undefined;
	}

	async list(): Promise<Board[]> {
		return this.snapshot();
	}

	private snapshot(): Board[] {
		const all = this.boards.map((b) => this.toBoard(b)).filter((b): b is Board => b !== undefined);
		return [...all.filter((b) => b.kind === 'dfu'), ...all.filter((b) => b.kind === 'serial')];
	}

	private find(id: string) {
		return this.boards.find((b) => b.core.serialNumber === id);
	}

	async openDfu(board: DfuBoard): Promise<DfuUsbDevice> {
		const sim = this.find(board.id);
		if (!sim || sim.mode !== 'dfu') throw new UsageError(`Simulated board ${board.id} is not in DFU.`);
		return new EmulatedUsbDevice(sim.core);
	}

	async identify(board: SerialBoard): Promise<FlightControllerInfo | undefined> {
		return this.find(board.id)?.fc;
	}

	async rebootToDfu(board: SerialBoard): Promise<void> {
		const sim = this.find(board.id);
		if (!sim || sim.mode !== 'app') throw new UsageError(`Simulated flight controller ${board.port} is not running.`);
		// MSP_SET_REBOOT(1): the port closes, and a moment later the ROM bootloader enumerates.
		sim.mode = 'gone';
		this.changed();
		this.later(800, () => {
			sim.core.reset();
			sim.mode = 'dfu';
			this.changed();
		});
	}

	watch(onChange: (boards: Board[]) => void): () => void {
		this.listeners.add(onChange);
		onChange(this.snapshot());
		return () => this.listeners.delete(onChange);
	}

	private changed() {
		const boards = this.snapshot();
		for (const l of this.listeners) l(boards);
	}

	async close(): Promise<void> {
		for (const t of this.timers) clearTimeout(t);
		this.timers.clear();
		this.listeners.clear();
	}
}
