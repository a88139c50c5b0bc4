// --simulate: built-in emulated boards behind the same BoardSource interface as real USB.
// `--simulate` alone gives the demo pair: an STM32F405 in DFU and an STM32F722 running Betaflight on
// an in-process serial port that reboots into DFU. `--simulate=P1,P2,...` gives one board per entry
// (in DFU, or `PROFILE:fc` running Betaflight), each with its own serial number and USB path.
// Boards behave like the real thing: leave starts the flashed firmware (the board turns into a serial
// flight controller), a board whose flash is blank stays in DFU, and a disconnect mid-flash comes
// back in the ROM bootloader. A board running a Betaflight image runs the emulated firmware
// (emulator/fc-firmware.ts): MSP and the CLI over an in-process link, settings in its config sector.
import {createHash} from 'node:crypto';
import {existsSync, readFileSync, writeFileSync} from 'node:fs';
import {EmulatedBootloader, EmulatedUsbDevice, profiles, type ProfileName} from '../emulator/index.js';
import {parseSimulateSpec} from './simulate-spec.js';
import {configArea} from '../emulator/fc-config-sector.js';
import {EmulatedFlightController, emulatedFirmwareOf, type EmulatedFirmware, type RebootTarget} from '../emulator/fc-firmware.js';
import {EmulatedLink} from '../emulator/fc-link.js';
import {findIdent} from '../firmware/ident.js';
import {bootloaderVersion} from '../dfu/target.js';
import {describeChip} from '../dfu/chip.js';
import {layoutSize, parseLayout} from '../dfu/layout.js';
import {UsageError} from '../errors.js';
import {identifyLink} from './fc-identify.js';
import {rebootLinkToDfu} from './fc-reboot.js';
import {serialOpenError, type Link} from './serial-link.js';
import type {Board, BoardSource, DfuBoard, FlightControllerInfo, SerialBoard} from './types.js';
import type {DfuUsbDevice} from '../dfu/webusb.js';

interface SimBoard {
	core: EmulatedBootloader;
	mode: 'dfu' | 'app' | 'gone';
	port: string;
	fc?: FlightControllerInfo;
	/** The emulated firmware, when the board runs a Betaflight image. */
	app?: EmulatedFlightController;
	index: number;
}

/** What the demo F722 runs before anything is flashed. */
const demoFirmware: EmulatedFirmware = {version: '4.5.1', target: 'STM32F7X2', boardId: 'S7X2', apiVersion: '1.46', date: 'Nov 24 2026', time: '12:00:00', revision: 'c155f5830'};

/** What a `PROFILE:fc` board runs: Betaflight 4.5.1 for that MCU. */
const targets: Record<ProfileName, {target: string; boardId: string}> = {
	stm32f405: {target: 'STM32F405', boardId: 'S405'},
	stm32f411: {target: 'STM32F411', boardId: 'S411'},
	stm32f722: {target: 'STM32F7X2', boardId: 'S7X2'},
	stm32h743: {target: 'STM32H743', boardId: 'SH74'},
	at32f435: {target: 'AT32F435', boardId: 'AT32'},
};
const firmwareFor = (profile: ProfileName): EmulatedFirmware => ({...demoFirmware, ...targets[profile]});

/** The n-th board of one profile gets its own serial number: the last byte counts up. */
function nthSerial(base: string, n: number): string {
	const last = Number.parseInt(base.slice(-2), 16);
	return base.slice(0, -2) + ((last + n) & 0xff).toString(16).toUpperCase().padStart(2, '0');
}

/** A stable 96-bit unique id per emulated chip, from its USB serial number (real STM32s derive one from the other). */
function uidOf(serialNumber: string): [number, number, number] {
	const h = createHash('sha256').update(serialNumber).digest();
	return [h.readUInt32LE(0), h.readUInt32LE(4), h.readUInt32LE(8)];
}

export interface SimulatedOptions {
	/** Multiplies every ROM timing (1 = real silicon). From FCFLASH_SIM_TIME_SCALE by default. */
	timeScale?: number;
	statePath?: string;
	/** --simulate-arrival: entry k of the spec appears k x this many ms after start. */
	arrivalMs?: number;
	/** Emulator faults for the boards in DFU (tests: FCFLASH_SIM_FAULTS). */
	faults?: import('../emulator/types.js').Faults;
	/** The emulated firmware's CLI has no `bl` (tests). */
	firmwareWithoutBl?: boolean;
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
		const seen = new Map<ProfileName, number>();
		for (const entry of parseSimulateSpec(spec, options.arrivalMs ?? 0)) {
			const nth = seen.get(entry.profile) ?? 0;
			seen.set(entry.profile, nth + 1);
			const serialNumber = nth === 0 ? undefined : nthSerial(profiles[entry.profile].serialNumber, nth);
			this.add(entry.profile, entry.fc ? 'app' : 'dfu', entry.fc ? firmwareFor(entry.profile) : undefined, serialNumber, entry.arriveAfterMs);
		}
		if (options.statePath) this.loadState(options.statePath);
	}

	private add(name: ProfileName, mode: SimBoard['mode'], firmware: EmulatedFirmware | undefined, serialNumber: string | undefined, arriveAfterMs: number) {
		const core = new EmulatedBootloader(profiles[name], {timeScale: this.timeScale, faults: this.options.faults, serialNumber});
		const sim: SimBoard = {core, mode: arriveAfterMs > 0 ? 'gone' : mode, index: this.boards.length, port: `sim:ttyACM${this.boards.length}`};
		if (mode === 'app') {
			core.disconnect('leave');
			if (firmware) this.run(sim, firmware);
		}
		core.on('disconnect', (reason) => this.onDisconnect(sim, reason));
		this.boards.push(sim);
		if (arriveAfterMs > 0) {
			// Plugged in later (flash-on-connect runs): real time, not ROM time.
			const timer = setTimeout(() => {
				this.timers.delete(timer);
				sim.mode = mode;
				this.changed();
			}, arriveAfterMs);
			timer.unref();
			this.timers.add(timer);
		}
	}

	/** Start the emulated firmware on a board (its settings come from its config sector). */
	private run(sim: SimBoard, firmware: EmulatedFirmware) {
		sim.app = new EmulatedFlightController({
			flash: sim.core.flash,
			area: configArea(sim.core.profile.layouts[0]!),
			uid: uidOf(sim.core.serialNumber),
			firmware,
			onReboot: (target) => this.onFirmwareReboot(sim, target),
			withoutBl: this.options.firmwareWithoutBl,
		});
		sim.fc = sim.app.identity;
	}

	/** The firmware rebooted (save, exit, bl, MSP_SET_REBOOT, 'R'): its port is gone for a moment. */
	private onFirmwareReboot(sim: SimBoard, target: RebootTarget) {
		sim.mode = 'gone';
		this.changed();
		if (target === 'bootloader') {
			this.later(800, () => {
				sim.core.reset();
				sim.mode = 'dfu';
				this.changed();
			});
		} else {
			this.later(1000, () => {
				sim.app?.boot();
				sim.mode = 'app';
				this.changed();
			});
		}
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
					const firmware = emulatedFirmwareOf(ident);
					sim.app = undefined;
					if (firmware) this.run(sim, firmware);
					else {
						// Another flavour (INAV, Cleanflight) or no ident: listed, but its port stays silent.
						sim.fc = ident
							? {variant: ident.flavour === 'INAV' ? 'INAV' : ident.flavour === 'Cleanflight' ? 'CLFL' : 'BTFL', version: ident.version, target: ident.target, board: ident.target}
							: {variant: 'unknown'};
					}
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
			const chip = describeChip(p.vendorId, p.layouts);
			const board: DfuBoard = {
				kind: 'dfu',
				id: sim.core.serialNumber,
				vendorId: p.vendorId,
				productId: p.productId,
				name: p.product.replace(/\s+/g, ' '),
				serialNumber: sim.core.serialNumber,
				usbPath: `sim-${sim.index + 1}`,
				simulated: true,
				chip: chip.text,
				...(chip.family ? {chipFamily: chip.family} : {}),
				...(chip.parts ? {chipParts: chip.parts} : {}),
				flashSize: layoutSize(layout),
				bootloader: bootloaderVersion(p.bcdDevice),
				layout: p.layouts[0],
				layouts: [...p.layouts],
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

	/** Over MSP, as a real port is asked; what the listing knows when the port is busy or silent. */
	async identify(board: SerialBoard): Promise<FlightControllerInfo | undefined> {
		const sim = this.find(board.id);
		if (!sim?.app || sim.mode !== 'app') return sim?.fc;
		let link: Link;
		try {
			link = await this.openLink(board);
		} catch {
			return sim.fc;
		}
		try {
			return (await identifyLink(link, {timeoutMs: 200})) ?? sim.fc;
		} finally {
			await link.close();
		}
	}

	/** An in-process link to the emulated firmware; one at a time, like a locked serial port. */
	async openLink(board: SerialBoard): Promise<Link> {
		const sim = this.find(board.id);
		// The same errors a real port gives (serial-link.ts): gone, or busy.
		if (!sim || sim.mode !== 'app') throw serialOpenError(Object.assign(new Error('ENOENT'), {code: 'ENOENT'}), board.port);
		// A board running firmware the emulation does not speak: the port opens and says nothing.
		if (!sim.app) return new EmulatedLink(sim.port, {onHostBytes: () => {}});
		try {
			return sim.app.open(sim.port);
		} catch (error) {
			throw serialOpenError(error, sim.port);
		}
	}

	async rebootToDfu(board: SerialBoard, options: {onInfo?: (line: string) => void} = {}): Promise<void> {
		const sim = this.find(board.id);
		if (!sim || sim.mode !== 'app') throw new UsageError(`Simulated flight controller ${board.port} is not running.`);
		if (sim.app) {
			// The same MSP_SET_REBOOT(1) path a real board gets, over the in-process port.
			const link = await this.openLink(board);
			try {
				await rebootLinkToDfu(link, {fc: sim.fc, onInfo: options.onInfo});
			} finally {
				await link.close();
			}
			return;
		}
		// No emulated firmware: the port closes, and a moment later the ROM bootloader enumerates.
		this.onFirmwareReboot(sim, 'bootloader');
	}

	/** The emulated firmware of a board (tests look at its settings). */
	firmwareOf(id: string): EmulatedFlightController | undefined {
		return this.find(id)?.app;
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
