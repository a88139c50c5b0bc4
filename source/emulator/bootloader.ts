// The emulated STM32 ROM DFU bootloader (AN3156): a synchronous control-transfer core. It never
// sleeps; an operation started by a GETSTATUS finishes when enough wall-clock time (scaled by
// timeScale) has passed before a later GETSTATUS, exactly as a host polling real silicon sees it.
import {performance} from 'node:perf_hooks';
import {
	configurationDescriptor,
	DESCRIPTOR_CONFIGURATION,
	DESCRIPTOR_DEVICE,
	DESCRIPTOR_STRING,
	deviceDescriptor,
	languageDescriptor,
	stringDescriptor,
	stringText,
} from './descriptors.js';
import {AltMemory} from './flash-memory.js';
import {
	DfuRequest,
	DfuseCommand,
	DfuState,
	DfuStatus,
	RequestType,
	StandardRequest,
	type DfuStateCode,
	type DfuStatusCode,
} from './protocol.js';
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

/** Where the ROM resets its address pointer to, before any SET_ADDRESS. */
const DEFAULT_POINTER = 0x08000000;
/** ROM timings in ms (REFERENCE.md "timing the emulated bootloader must use"). */
const SET_ADDRESS_MS = 1;
const PROGRAM_MS_PER_WORD = 0.016;
const MASS_ERASE_REPORTED_MS = 100;
const DEFAULT_MASS_ERASE_MS = 8000;
/** Quick refusals (protection, bad address) still take the ROM a moment. */
const REFUSAL_MS = 1;
/** What a stuck H7 keeps reporting while it never leaves dfuDNBUSY. */
const STUCK_POLL_MS = 10;

interface Operation {
	/** Outcome reported once the operation is over. */
	status: DfuStatusCode;
	/** Real duration in unscaled ms. */
	durationMs: number;
	/** Fixed bwPollTimeout (unscaled ms) instead of the time left: the mass-erase quirk. */
	reportMs?: number;
	/** Never leaves dfuDNBUSY on its own (fault injection): only CLRSTATUS ends it. */
	stuck?: boolean;
	/** Runs after the GETSTATUS answer that started the operation (unprotect: wipe and vanish). */
	after?: () => void;
}

interface Busy {
	op: Operation;
	doneAt: number;
}

type Listeners = {[K in keyof BootloaderEvents]: Array<BootloaderEvents[K]>};

export class EmulatedBootloader {
	readonly profile: EmulatorProfile;
	readonly serialNumber: string;
	/** Memory per alternate setting; alt 0 is the main flash. */
	readonly memories: AltMemory[];
	readonly timeScale: number;
	readonly faults: Faults;

	private isConnected = true;
	private dfuState: DfuStateCode = DfuState.dfuIDLE;
	private dfuStatus: DfuStatusCode = DfuStatus.OK;
	private alt = 0;
	private configurationValue = 1;
	private pointer = DEFAULT_POINTER;
	/** DfuSe command or data block received, to run at the next GETSTATUS (dfuDNLOAD-SYNC). */
	private pending: (() => Operation) | undefined;
	private busy: Busy | undefined;
	private requests = 0;
	private requestsThisSession = 0;
	private downloadedBytes = 0;
	private stallFired = false;
	private disconnectFired = false;
	private readonly listeners: Listeners = {disconnect: [], 'reset-to-app': [], connect: [], request: []};
	/** Events raised inside control(), delivered once its result is settled. */
	private deferred: Array<() => void> = [];

	constructor(profile: EmulatorProfile, options: EmulatorOptions = {}) {
		this.profile = profile;
		this.serialNumber = options.serialNumber ?? profile.serialNumber;
		this.timeScale = options.timeScale ?? 1;
		if (!(this.timeScale >= 0)) throw new RangeError(`timeScale must be >= 0, got ${options.timeScale}`);
		this.faults = {...options.faults};
		this.memories = profile.layouts.map((layout, alt) =>
			alt === 0 ? new AltMemory(layout, profile.flashWord ? 'word' : 'and', profile.flashWord) : new AltMemory(layout, 'replace'),
		);
		for (const [alt, bytes] of Object.entries(profile.altData ?? {})) this.memories[Number(alt)]?.load(bytes);
		if (options.flash) {
			const main = this.memories[0]!;
			if (options.flash.length !== main.size) {
				throw new RangeError(`Initial flash is ${options.flash.length} bytes; ${profile.chip} has ${main.size}`);
			}
			main.load(options.flash);
		}
		if (this.faults.readProtected) this.setRdp(true);
	}

	// --- observation -------------------------------------------------------------------------

	/** The main flash, live (not a copy). */
	get flash(): Uint8Array {
		return this.memories[0]!.ranges[0]!.bytes;
	}

	get connected(): boolean {
		return this.isConnected;
	}

	get state(): DfuStateCode {
		return this.dfuState;
	}

	get status(): DfuStatusCode {
		return this.dfuStatus;
	}

	get alternate(): number {
		return this.alt;
	}

	get addressPointer(): number {
		return this.pointer;
	}

	/** Control requests answered since construction (the trace counter). */
	get requestCount(): number {
		return this.requests;
	}

	get readProtected(): boolean {
		const rdp = this.profile.rdp;
		if (!rdp) return false;
		const mem = this.memories[rdp.alt]!;
		return mem.byteAt(mem.start + rdp.offset) !== rdp.level0;
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
		this.isConnected = false;
		this.pending = undefined;
		this.busy = undefined;
		this.emit('disconnect', reason);
	}

	/**
	 * Power-on / replug into the ROM bootloader again (BOOT held): fresh DFU state, flash and option
	 * bytes kept. One-shot faults that already fired stay spent.
	 */
	reset(): void {
		this.isConnected = true;
		this.dfuState = DfuState.dfuIDLE;
		this.dfuStatus = DfuStatus.OK;
		this.alt = 0;
		this.configurationValue = 1;
		this.pointer = DEFAULT_POINTER;
		this.pending = undefined;
		this.busy = undefined;
		this.requestsThisSession = 0;
		this.emit('connect');
	}

	/** A host opened the device: stallOnRequest counts from here. */
	beginSession(): void {
		this.requestsThisSession = 0;
	}

	/** SET_INTERFACE. Returns false (the request stalls) for an alternate setting that does not exist. */
	setAlternate(alt: number): boolean {
		if (!Number.isInteger(alt) || alt < 0 || alt >= this.memories.length) return false;
		// Like the ST USB device library: only the alt changes; DFU state and pointer are kept.
		this.alt = alt;
		return true;
	}

	// --- control transfers -------------------------------------------------------------------

	control(setup: ControlSetup, data?: Uint8Array): ControlResult {
		if (!this.isConnected) return {status: 'disconnected'};
		this.requests++;
		this.requestsThisSession++;
		let result: ControlResult;
		if (this.faults.stallOnRequest !== undefined && !this.stallFired && this.requestsThisSession === this.faults.stallOnRequest) {
			this.stallFired = true;
			result = (setup.requestType & RequestType.TYPE_MASK) === RequestType.CLASS ? this.protocolError() : {status: 'stall'};
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
		if (type === RequestType.STANDARD) return this.standard(setup);
		if (type === RequestType.CLASS && (setup.requestType & RequestType.RECIPIENT_MASK) === RequestType.INTERFACE) {
			if (setup.index !== 0 || this.configurationValue === 0) return this.protocolError();
			return this.dfu(setup, data ?? new Uint8Array(0));
		}
		// Vendor requests, class requests to the device: the ROM has none.
		return {status: 'stall'};
	}

	private standard(setup: ControlSetup): ControlResult {
		const dirIn = (setup.requestType & RequestType.IN) !== 0;
		const recipient = setup.requestType & RequestType.RECIPIENT_MASK;
		switch (setup.request) {
			case StandardRequest.GET_DESCRIPTOR:
				return dirIn ? this.descriptor(setup.value >> 8, setup.value & 0xff) : {status: 'stall'};
			case StandardRequest.GET_STATUS:
				if (!dirIn) return {status: 'stall'};
				// Device: bit0 self-powered (matches bmAttributes 0xC0); interface/endpoint: zero.
				return {status: 'ok', data: Uint8Array.of(recipient === RequestType.DEVICE ? 1 : 0, 0)};
			case StandardRequest.GET_CONFIGURATION:
				return dirIn ? {status: 'ok', data: Uint8Array.of(this.configurationValue)} : {status: 'stall'};
			case StandardRequest.SET_CONFIGURATION:
				if (dirIn || (setup.value !== 0 && setup.value !== 1)) return {status: 'stall'};
				this.configurationValue = setup.value;
				return {status: 'ok'};
			case StandardRequest.GET_INTERFACE:
				return dirIn && setup.index === 0 ? {status: 'ok', data: Uint8Array.of(this.alt)} : {status: 'stall'};
			case StandardRequest.SET_INTERFACE:
				if (dirIn || setup.index !== 0) return {status: 'stall'};
				return this.setAlternate(setup.value) ? {status: 'ok'} : {status: 'stall'};
			case StandardRequest.SET_ADDRESS:
			case StandardRequest.CLEAR_FEATURE:
			case StandardRequest.SET_FEATURE:
				return dirIn ? {status: 'stall'} : {status: 'ok'};
			default:
				return {status: 'stall'};
		}
	}

	private descriptor(type: number, index: number): ControlResult {
		if (type === DESCRIPTOR_DEVICE && index === 0) return {status: 'ok', data: deviceDescriptor(this.profile)};
		if (type === DESCRIPTOR_CONFIGURATION && index === 0) return {status: 'ok', data: configurationDescriptor(this.profile)};
		if (type === DESCRIPTOR_STRING) {
			if (index === 0) return {status: 'ok', data: languageDescriptor()};
			const text = stringText(this.profile, index, this.serialNumber);
			if (text !== undefined) return {status: 'ok', data: stringDescriptor(text)};
		}
		// Device qualifier, BOS, other-speed...: a full-speed USB 2.0 device stalls them.
		return {status: 'stall'};
	}

	/** A request the current state does not allow: stall, and dfuERROR/errSTALLEDPKT as the ROM does. */
	private protocolError(status: DfuStatusCode = DfuStatus.errSTALLEDPKT): ControlResult {
		this.dfuState = DfuState.dfuERROR;
		this.dfuStatus = status;
		this.pending = undefined;
		return {status: 'stall'};
	}

	private dfu(setup: ControlSetup, data: Uint8Array): ControlResult {
		const dirIn = (setup.requestType & RequestType.IN) !== 0;
		switch (setup.request) {
			case DfuRequest.DNLOAD:
				return dirIn ? this.protocolError() : this.dnload(setup.value, data);
			case DfuRequest.UPLOAD:
				return dirIn ? this.upload(setup.value, setup.length) : this.protocolError();
			case DfuRequest.GETSTATUS:
				return dirIn ? this.getStatus() : this.protocolError();
			case DfuRequest.CLRSTATUS:
				return dirIn ? this.protocolError() : this.clearStatus();
			case DfuRequest.GETSTATE:
				return dirIn ? {status: 'ok', data: Uint8Array.of(this.dfuState)} : this.protocolError();
			case DfuRequest.ABORT:
				return dirIn ? this.protocolError() : this.abort();
			default:
				// DETACH included: the ROM is already in DFU mode and does not implement it.
				return this.protocolError();
		}
	}

	private dnload(block: number, data: Uint8Array): ControlResult {
		if (this.dfuState !== DfuState.dfuIDLE && this.dfuState !== DfuState.dfuDNLOAD_IDLE) return this.protocolError();
		if (data.length > this.profile.wTransferSize) return this.protocolError();
		if (data.length === 0) {
			// Leave: manifest at the next GETSTATUS, then jump to the application at the pointer.
			this.dfuState = DfuState.dfuMANIFEST_SYNC;
			return {status: 'ok'};
		}
		if (block === 0) {
			const command = this.parseCommand(data);
			if (!command) return this.protocolError();
			this.pending = command;
		} else if (block === 1) {
			return this.protocolError();
		} else {
			const limit = this.faults.disconnectAfterBytes;
			if (limit !== undefined && !this.disconnectFired && this.downloadedBytes + data.length > limit) {
				// The cable is pulled mid-transfer: this block never arrives.
				this.disconnectFired = true;
				this.disconnect('fault');
				return {status: 'disconnected'};
			}
			this.downloadedBytes += data.length;
			const address = this.pointer + (block - 2) * this.profile.wTransferSize;
			const copy = data.slice();
			this.pending = () => this.write(address, copy);
		}
		this.dfuState = DfuState.dfuDNLOAD_SYNC;
		return {status: 'ok'};
	}

	private parseCommand(data: Uint8Array): (() => Operation) | undefined {
		const address = data.length === 5 ? new DataView(data.buffer, data.byteOffset, 5).getUint32(1, true) : undefined;
		switch (data[0]) {
			case DfuseCommand.SET_ADDRESS:
				return address === undefined ? undefined : () => this.setAddress(address);
			case DfuseCommand.ERASE:
				if (data.length === 1) return () => this.massErase();
				return address === undefined ? undefined : () => this.eraseSector(address);
			case DfuseCommand.READ_UNPROTECT:
				return data.length === 1 ? () => this.unprotect() : undefined;
			default:
				return undefined;
		}
	}

	private get memory(): AltMemory {
		return this.memories[this.alt]!;
	}

	/** Main flash while RDP is on: the ROM refuses to touch it (errVENDOR). */
	private get mainLocked(): boolean {
		return this.alt === 0 && this.readProtected;
	}

	private setAddress(address: number): Operation {
		if (!this.memory.sectorAt(address)) return {status: DfuStatus.errTARGET, durationMs: SET_ADDRESS_MS};
		this.pointer = address;
		return {status: DfuStatus.OK, durationMs: SET_ADDRESS_MS};
	}

	private eraseSector(address: number): Operation {
		const sector = this.memory.sectorAt(address);
		if (!sector || !sector.erasable) return {status: DfuStatus.errTARGET, durationMs: REFUSAL_MS};
		if (this.mainLocked) return {status: DfuStatus.errVENDOR, durationMs: REFUSAL_MS};
		const durationMs = this.profile.eraseMs(sector.size);
		const bad = this.faults.eraseErrorAt;
		if (this.alt === 0 && bad !== undefined && bad >= sector.start && bad < sector.start + sector.size) {
			return {status: DfuStatus.errERASE, durationMs};
		}
		this.memory.erase(sector);
		return {status: DfuStatus.OK, durationMs};
	}

	private massErase(): Operation {
		const reportMs = MASS_ERASE_REPORTED_MS;
		if (this.alt !== 0) return {status: DfuStatus.errTARGET, durationMs: REFUSAL_MS};
		if (this.readProtected) return {status: DfuStatus.errVENDOR, durationMs: reportMs, reportMs};
		if (this.faults.massEraseFails) return {status: DfuStatus.errERASE, durationMs: reportMs, reportMs};
		this.memory.eraseAll();
		return {status: DfuStatus.OK, durationMs: this.profile.massEraseMs ?? DEFAULT_MASS_ERASE_MS, reportMs};
	}

	private unprotect(): Operation {
		return {
			status: DfuStatus.OK,
			durationMs: this.profile.massEraseMs ?? DEFAULT_MASS_ERASE_MS,
			reportMs: MASS_ERASE_REPORTED_MS,
			// The ROM answers one GETSTATUS, then regresses RDP (wiping the flash) and resets.
			after: () => {
				this.memories[0]!.eraseAll();
				this.setRdp(false);
				this.disconnect('unprotect');
			},
		};
	}

	private write(address: number, data: Uint8Array): Operation {
		const durationMs = Math.ceil(data.length / 4) * PROGRAM_MS_PER_WORD;
		if (this.mainLocked) return {status: DfuStatus.errVENDOR, durationMs: REFUSAL_MS};
		if (!this.memory.covers(address, data.length, 'writable')) return {status: DfuStatus.errADDRESS, durationMs: REFUSAL_MS};
		const main = this.alt === 0;
		const status = this.memory.program(address, data, main ? this.faults.writeErrorAt : undefined);
		const stuckAt = this.faults.stuckBusyAt;
		const stuck = main && stuckAt !== undefined && address + data.length > stuckAt;
		return {status, durationMs, stuck};
	}

	private setRdp(protect: boolean): void {
		const rdp = this.profile.rdp;
		if (!rdp) return;
		const mem = this.memories[rdp.alt]!;
		mem.setByte(mem.start + rdp.offset, protect ? rdp.level1 : rdp.level0);
	}

	private scaled(ms: number): number {
		return ms * this.timeScale;
	}

	private statusBytes(pollMs: number): Uint8Array {
		const poll = Math.min(0xffffff, Math.max(0, Math.ceil(pollMs)));
		return Uint8Array.of(this.dfuStatus, poll & 0xff, (poll >> 8) & 0xff, (poll >> 16) & 0xff, this.dfuState, 0);
	}

	private getStatus(): ControlResult {
		const now = performance.now();
		if (this.dfuState === DfuState.dfuDNLOAD_SYNC && this.pending) {
			// The command runs now; this answer is always dfuDNBUSY (dfu-util insists on it).
			const op = this.pending();
			this.pending = undefined;
			this.busy = {op, doneAt: now + this.scaled(op.durationMs)};
			this.dfuState = DfuState.dfuDNBUSY;
			const data = this.statusBytes(this.scaled(op.reportMs ?? op.durationMs));
			if (op.after) this.deferred.push(op.after);
			return {status: 'ok', data};
		}
		if (this.dfuState === DfuState.dfuDNLOAD_SYNC) {
			this.dfuState = DfuState.dfuDNLOAD_IDLE;
		} else if (this.dfuState === DfuState.dfuDNBUSY && this.busy) {
			const {op, doneAt} = this.busy;
			if (now < doneAt) return {status: 'ok', data: this.statusBytes(op.reportMs !== undefined ? this.scaled(op.reportMs) : doneAt - now)};
			if (op.stuck) return {status: 'ok', data: this.statusBytes(this.scaled(STUCK_POLL_MS))};
			this.busy = undefined;
			this.dfuStatus = op.status;
			this.dfuState = op.status === DfuStatus.OK ? DfuState.dfuDNLOAD_IDLE : DfuState.dfuERROR;
		} else if (this.dfuState === DfuState.dfuMANIFEST_SYNC) {
			// bitManifestationTolerant is clear and bitWillDetach set: answer dfuMANIFEST, then reset
			// into the application; the host's next request finds no device.
			this.dfuState = DfuState.dfuMANIFEST;
			const data = this.statusBytes(0);
			const address = this.pointer;
			this.deferred.push(() => {
				this.disconnect('leave');
				this.emit('reset-to-app', address);
			});
			return {status: 'ok', data};
		}
		return {status: 'ok', data: this.statusBytes(0)};
	}

	private clearStatus(): ControlResult {
		if (this.dfuState === DfuState.dfuERROR) {
			this.dfuState = DfuState.dfuIDLE;
			this.dfuStatus = DfuStatus.OK;
			return {status: 'ok'};
		}
		if (this.dfuState === DfuState.dfuDNBUSY && this.busy?.op.stuck && performance.now() >= this.busy.doneAt) {
			// The stuck H7 recovers on CLRSTATUS; its write already happened.
			const {status} = this.busy.op;
			this.busy = undefined;
			this.dfuStatus = status;
			this.dfuState = status === DfuStatus.OK ? DfuState.dfuIDLE : DfuState.dfuERROR;
			return {status: 'ok'};
		}
		// ST's DFU code (DFU_ClearStatus) does not stall a CLRSTATUS outside dfuERROR: it enters
		// dfuERROR with errUNKNOWN, so a second CLRSTATUS brings it back to dfuIDLE.
		this.busy = undefined;
		this.pending = undefined;
		this.dfuState = DfuState.dfuERROR;
		this.dfuStatus = DfuStatus.errUNKNOWN;
		return {status: 'ok'};
	}

	private abort(): ControlResult {
		switch (this.dfuState) {
			case DfuState.dfuIDLE:
			case DfuState.dfuDNLOAD_SYNC:
			case DfuState.dfuDNLOAD_IDLE:
			case DfuState.dfuMANIFEST_SYNC:
			case DfuState.dfuUPLOAD_IDLE:
				this.pending = undefined;
				this.dfuState = DfuState.dfuIDLE;
				this.dfuStatus = DfuStatus.OK;
				return {status: 'ok'};
			default:
				return this.protocolError();
		}
	}

	private upload(block: number, length: number): ControlResult {
		if (this.dfuState !== DfuState.dfuIDLE && this.dfuState !== DfuState.dfuUPLOAD_IDLE) return this.protocolError();
		if (length === 0 || length > this.profile.wTransferSize || block === 1) return this.protocolError();
		let data: Uint8Array;
		if (block === 0) {
			data = Uint8Array.of(DfuseCommand.GET_COMMANDS, DfuseCommand.SET_ADDRESS, DfuseCommand.ERASE, DfuseCommand.READ_UNPROTECT).subarray(0, length);
		} else {
			if (this.mainLocked) return this.protocolError(DfuStatus.errVENDOR);
			const address = this.pointer + (block - 2) * this.profile.wTransferSize;
			const read = this.memory.read(address, length);
			if (!read) return this.protocolError(DfuStatus.errADDRESS);
			const corrupt = this.faults.corruptUploadAt;
			if (this.alt === 0 && corrupt !== undefined && corrupt >= address && corrupt < address + read.length) {
				read[corrupt - address]! ^= 0x01;
			}
			data = read;
		}
		// A short frame ends the upload (DFU 1.1): back to dfuIDLE.
		this.dfuState = data.length < length ? DfuState.dfuIDLE : DfuState.dfuUPLOAD_IDLE;
		return {status: 'ok', data};
	}
}
