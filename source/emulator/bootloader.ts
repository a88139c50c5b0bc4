// The emulated STM32 ROM DFU bootloader (AN3156): a synchronous control-transfer core. This file is
// the device on the bus (connect, disconnect, reset, events) and the dispatcher; the requests live in
// standard-requests.ts, dfu-state-machine.ts and dfuse-commands.ts, and every fault in faults.ts.
import {performance} from 'node:perf_hooks';
import {configurationDescriptor, descriptorBlob, deviceDescriptor} from './descriptors.js';
import type {CommandContext} from './dfuse-commands.js';
import {DfuMachine, emptyStats, type EmulatorStats, type MachineHost} from './dfu-state-machine.js';
import {FaultInjector} from './faults.js';
import {AltMemory} from './flash-memory.js';
import {RequestType, type DfuStateCode, type DfuStatusCode} from './protocol.js';
import {standardRequest, type StandardDevice} from './standard-requests.js';
import type {ControlResult, ControlSetup, EmulatorOptions, EmulatorProfile, Faults} from './types.js';

/** Why the device left the bus. */
export type DisconnectReason = 'unplug' | 'fault' | 'unprotect' | 'leave';

export interface BootloaderEvents {
	/** The device vanished from the bus (every later request answers 'disconnected'). */
	disconnect: (reason: DisconnectReason) => void;
	/** After a leave: the chip reset and jumped to the application whose vector table is at `address`. */
	'reset-to-app': (address: number) => void;
	/** reset() re-enumerated the bootloader. */
	connect: () => void;
	/** Every control request, for --verbose traces. */
	request: (setup: ControlSetup, result: ControlResult, data?: Uint8Array) => void;
}

type Listeners = {[K in keyof BootloaderEvents]: Array<BootloaderEvents[K]>};

export type {EmulatorStats};

export class EmulatedBootloader {
	/** The profile as the board describes itself (descriptor faults applied). */
	readonly profile: EmulatorProfile;
	readonly serialNumber: string;
	/** Memory per alternate setting; alt 0 is the main flash. */
	readonly memories: AltMemory[];
	readonly timeScale: number;
	readonly faults: Readonly<Faults>;
	/** Counted on the wire since construction. */
	readonly stats: EmulatorStats = emptyStats();

	private readonly injector: FaultInjector;
	private readonly machine: DfuMachine;
	private isConnected = true;
	private alt = 0;
	private configurationValue = 1;
	private requestsThisSession = 0;
	private readonly listeners: Listeners = {disconnect: [], 'reset-to-app': [], connect: [], request: []};
	/** Events raised inside control(), delivered once its result is settled. */
	private deferred: Array<() => void> = [];

	constructor(profile: EmulatorProfile, options: EmulatorOptions = {}) {
		this.faults = {...options.faults};
		this.injector = new FaultInjector(this.faults);
		this.profile = this.injector.describe(profile);
		this.serialNumber = options.serialNumber ?? profile.serialNumber;
		this.timeScale = options.timeScale ?? 1;
		if (!(this.timeScale >= 0)) throw new RangeError(`timeScale must be >= 0, got ${options.timeScale}`);
		const {flashWord} = this.profile;
		this.memories = this.profile.layouts.map((layout, alt) =>
			alt === 0 ? new AltMemory(layout, flashWord ? 'word' : 'and', flashWord) : new AltMemory(layout, 'replace'),
		);
		for (const [alt, bytes] of Object.entries(this.profile.altData ?? {})) this.memories[Number(alt)]?.load(bytes);
		if (options.flash) {
			const main = this.memories[0]!;
			if (options.flash.length !== main.size) {
				throw new RangeError(`Initial flash is ${options.flash.length} bytes; ${profile.chip} has ${main.size}`);
			}
			main.load(options.flash);
		}
		if (this.injector.readProtected) this.setRdp(true);
		this.machine = new DfuMachine(this.machineHost());
	}

	private machineHost(): MachineHost {
		return {
			faults: this.injector,
			timeScale: this.timeScale,
			stats: this.stats,
			profile: this.profile,
			commandContext: (setPointer) => this.commandContext(setPointer),
			defer: (run) => this.deferred.push(run),
			leaveToApp: (address) => {
				this.disconnect('leave');
				this.emit('reset-to-app', address);
			},
			vanish: (reason) => this.disconnect(reason),
		};
	}

	private commandContext(setPointer: (address: number) => void): CommandContext {
		const main = this.alt === 0;
		const readProtected = this.readProtected;
		return {
			profile: this.profile,
			faults: this.injector,
			memory: this.memories[this.alt]!,
			memories: this.memories,
			main,
			mainLocked: main && readProtected,
			readProtected,
			setPointer,
			setRdp: (protect) => this.setRdp(protect),
			vanish: (reason) => this.disconnect(reason),
		};
	}

	// --- observation -------------------------------------------------------------------------

	/** The main flash, live (not a copy), with every operation whose time is over applied. */
	get flash(): Uint8Array {
		if (this.isConnected) this.machine.tick();
		return this.memories[0]!.ranges[0]!.bytes;
	}

	get connected(): boolean {
		return this.isConnected;
	}

	get state(): DfuStateCode {
		return this.machine.state;
	}

	get status(): DfuStatusCode {
		return this.machine.status;
	}

	get alternate(): number {
		return this.alt;
	}

	get addressPointer(): number {
		return this.machine.pointer;
	}

	/** Control requests answered since construction (the trace counter). */
	get requestCount(): number {
		return this.stats.requests;
	}

	get readProtected(): boolean {
		const rdp = this.profile.rdp;
		if (!rdp) return false;
		const mem = this.memories[rdp.alt]!;
		return mem.byteAt(mem.start + rdp.offset) !== rdp.level0;
	}

	/** Whether claiming the interface fails with LIBUSB_ERROR_BUSY (another program holds it). */
	get claimBusy(): boolean {
		return this.injector.claimBusy;
	}

	/** The sysfs `descriptors` file for this board, as described (descriptor faults applied). */
	descriptorBlob(): Uint8Array {
		return descriptorBlob(this.profile, {functional: this.injector.functionalDescriptor});
	}

	on<K extends keyof BootloaderEvents>(event: K, listener: BootloaderEvents[K]): this {
		this.listeners[event].push(listener);
		return this;
	}

	off<K extends keyof BootloaderEvents>(event: K, listener: BootloaderEvents[K]): this {
		const list = this.listeners[event] as Array<BootloaderEvents[K]>;
		const i = list.indexOf(listener);
		if (i >= 0) list.splice(i, 1);
		return this;
	}

	private emit<K extends keyof BootloaderEvents>(event: K, ...args: Parameters<BootloaderEvents[K]>): void {
		for (const listener of [...this.listeners[event]]) (listener as (...a: Parameters<BootloaderEvents[K]>) => void)(...args);
	}

	// --- bus -------------------------------------------------------------------------------

	/** The cable is pulled (or the chip reset): every later request answers 'disconnected'. */
	disconnect(reason: DisconnectReason = 'unplug'): void {
		if (!this.isConnected) return;
		// What finished before the cable went is in flash; what was still running is lost.
		this.machine.tick();
		this.isConnected = false;
		this.machine.reset();
		this.emit('disconnect', reason);
	}

	/**
	 * Power-on / replug into the ROM bootloader again (BOOT held): fresh DFU state, flash and option
	 * bytes kept. One-shot faults that already fired stay spent.
	 */
	reset(): void {
		if (this.isConnected) this.machine.tick();
		this.isConnected = true;
		this.machine.reset();
		this.alt = 0;
		this.configurationValue = 1;
		this.requestsThisSession = 0;
		this.emit('connect');
	}

	/** A host opened the device: request-numbered faults count from here, openState applies. */
	beginSession(): void {
		this.requestsThisSession = 0;
		this.machine.tick();
		this.machine.beginSession();
	}

	/** SET_INTERFACE. Returns false (the request stalls) for an alternate setting that does not exist. */
	setAlternate(alt: number): boolean {
		if (!Number.isInteger(alt) || alt < 0 || alt >= this.memories.length) return false;
		// Like the ST USB device library: only the alt changes; DFU state and pointer are kept.
		this.alt = alt;
		return true;
	}

	private readonly standardDevice: StandardDevice = (() => {
		const self = this;
		return {
			get profile() {
				return self.profile;
			},
			get serialNumber() {
				return self.serialNumber;
			},
			get alternate() {
				return self.alt;
			},
			get configurationValue() {
				return self.configurationValue;
			},
			set configurationValue(value: number) {
				self.configurationValue = value;
			},
			deviceDescriptor: () => deviceDescriptor(self.profile),
			configurationDescriptor: () => configurationDescriptor(self.profile, {functional: self.injector.functionalDescriptor}),
			setAlternate: (alt: number) => self.setAlternate(alt),
		};
	})();

	// --- control transfers -------------------------------------------------------------------

	control(setup: ControlSetup, data?: Uint8Array): ControlResult {
		if (!this.isConnected) return {status: 'disconnected'};
		this.machine.tick(performance.now());
		this.stats.requests++;
		this.requestsThisSession++;
		let result: ControlResult;
		const isClass = (setup.requestType & RequestType.TYPE_MASK) === RequestType.CLASS;
		const fault = this.injector.request(this.requestsThisSession);
		if (fault === 'disconnect') {
			this.disconnect('fault');
			result = {status: 'disconnected'};
		} else if (fault === 'stall') {
			result = isClass ? this.machine.protocolError() : {status: 'stall'};
		} else {
			result = this.dispatch(setup, data);
		}
		if (result.status === 'ok' && result.data && result.data.length > setup.length) {
			result = {status: 'ok', data: result.data.subarray(0, setup.length)};
		}
		const deferred = this.deferred;
		this.deferred = [];
		this.emit('request', setup, result, data);
		for (const run of deferred) run();
		return result;
	}

	private dispatch(setup: ControlSetup, data: Uint8Array | undefined): ControlResult {
		const type = setup.requestType & RequestType.TYPE_MASK;
		if (type === RequestType.STANDARD) return standardRequest(this.standardDevice, setup);
		if (type === RequestType.CLASS && (setup.requestType & RequestType.RECIPIENT_MASK) === RequestType.INTERFACE) {
			if (setup.index !== 0 || this.configurationValue === 0) return this.machine.protocolError();
			return this.machine.request(setup, data ?? new Uint8Array(0));
		}
		// Vendor requests, class requests to the device: the ROM has none.
		return {status: 'stall'};
	}

	private setRdp(protect: boolean): void {
		const rdp = this.profile.rdp;
		if (!rdp) return;
		const mem = this.memories[rdp.alt]!;
		mem.setByte(mem.start + rdp.offset, protect ? rdp.level1 : rdp.level0);
	}
}
