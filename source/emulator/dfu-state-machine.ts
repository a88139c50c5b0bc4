// The DFU 1.1 class requests and state machine of the ST ROM (DNLOAD, UPLOAD, GETSTATUS, CLRSTATUS,
// GETSTATE, ABORT). It never sleeps: an operation started by a GETSTATUS ends once enough wall-clock
// time (scaled by timeScale) has passed, which `tick()` notices before every request; its effect
// reaches the flash then, and the next GETSTATUS reports the outcome, as a host polling silicon sees it.
import {performance} from 'node:perf_hooks';
import {parseCommand, writeBlock, type Command, type CommandContext, type Operation} from './dfuse-commands.js';
import {FaultInjector} from './faults.js';
import {DfuRequest, DfuseCommand, DfuState, DfuStatus, RequestType, type DfuStateCode, type DfuStatusCode} from './protocol.js';
import type {ControlResult, ControlSetup, EmulatorProfile} from './types.js';

/** Where the ROM resets its address pointer to, before any SET_ADDRESS. */
export const DEFAULT_POINTER = 0x08000000;
/** What a stuck operation keeps reporting while it never leaves dfuDNBUSY. */
const STUCK_POLL_MS = 10;

/** Counted on the wire, for tests and the benchmark. */
export interface EmulatorStats {
	requests: number;
	/** Data DNLOADs (block >= 2 with data). */
	dataDnloads: number;
	dnloadBytes: number;
	uploads: number;
	uploadBytes: number;
	setAddresses: number;
	/** Sector erase commands. */
	erases: number;
	massErases: number;
	clearStatus: number;
	/** Time the ROM spent busy (erase, program, set address), unscaled ms. */
	deviceMs: number;
}

export const emptyStats = (): EmulatorStats => ({
	requests: 0,
	dataDnloads: 0,
	dnloadBytes: 0,
	uploads: 0,
	uploadBytes: 0,
	setAddresses: 0,
	erases: 0,
	massErases: 0,
	clearStatus: 0,
	deviceMs: 0,
});

interface Busy {
	op: Operation;
	doneAt: number;
	/** The busy time is over (and a non-lost effect was applied). */
	ended: boolean;
	status: DfuStatusCode;
	/** Never ends, whatever the host does (a board wedged in dfuDNBUSY when opened). */
	wedged?: boolean;
}

/** What the state machine needs from the bootloader around it. */
export interface MachineHost {
	readonly faults: FaultInjector;
	readonly timeScale: number;
	readonly stats: EmulatorStats;
	/** The profile as described (descriptor faults applied): wTransferSize addresses the blocks. */
	readonly profile: EmulatorProfile;
	/** The memory context for commands, for the alternate setting selected now. */
	commandContext(setPointer: (address: number) => void): CommandContext;
	/** Queue work for after the current request's answer (resets, vanishing). */
	defer(run: () => void): void;
	/** The chip resets into the application whose vector table is at `address`. */
	leaveToApp(address: number): void;
	/** The cable is pulled (fault injection). */
	vanish(reason: 'fault'): void;
}

export class DfuMachine {
	state: DfuStateCode = DfuState.dfuIDLE;
	status: DfuStatusCode = DfuStatus.OK;
	pointer = DEFAULT_POINTER;
	/** DfuSe command or data block received, to run at the next GETSTATUS (dfuDNLOAD-SYNC). */
	private pending: Command | undefined;
	private busy: Busy | undefined;

	constructor(private readonly host: MachineHost) {}

	/** Power-on / re-enumeration: fresh state; whatever was running is gone. */
	reset(): void {
		this.state = DfuState.dfuIDLE;
		this.status = DfuStatus.OK;
		this.pointer = DEFAULT_POINTER;
		this.pending = undefined;
		this.busy = undefined;
	}

	/** A host opened the device: the openState fault puts the board where the fault says. */
	beginSession(): void {
		switch (this.host.faults.openState) {
			case 'appIDLE':
				this.reset();
				this.state = DfuState.appIDLE;
				break;
			case 'dfuERROR':
				this.reset();
				this.state = DfuState.dfuERROR;
				this.status = DfuStatus.errUNKNOWN;
				break;
			case 'dfuDNBUSY':
				this.reset();
				this.state = DfuState.dfuDNBUSY;
				this.busy = {op: {kind: 'refusal', durationMs: 0, complete: () => DfuStatus.OK}, doneAt: Infinity, ended: false, status: DfuStatus.OK, wedged: true};
				break;
			default:
		}
	}

	/** Apply the effect of an operation whose busy time has ended. Called before every request. */
	tick(now = performance.now()): void {
		const busy = this.busy;
		if (!busy || busy.ended || now < busy.doneAt) return;
		busy.ended = true;
		const stuck = busy.op.stuck;
		if (!stuck || stuck.outcome === 'done' || stuck.outcome === 'partial') busy.status = busy.op.complete();
	}

	/** A request the current state does not allow: stall, and dfuERROR/errSTALLEDPKT as the ROM does. */
	protocolError(status: DfuStatusCode = DfuStatus.errSTALLEDPKT): ControlResult {
		this.state = DfuState.dfuERROR;
		this.status = status;
		this.pending = undefined;
		// Whatever was running is abandoned with it.
		this.busy = undefined;
		return {status: 'stall'};
	}

	request(setup: ControlSetup, data: Uint8Array): ControlResult {
		const dirIn = (setup.requestType & RequestType.IN) !== 0;
		if (this.state === DfuState.appIDLE) return this.inApplication(setup.request, dirIn);
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
				return dirIn ? {status: 'ok', data: Uint8Array.of(this.state)} : this.protocolError();
			case DfuRequest.ABORT:
				return dirIn ? this.protocolError() : this.abort();
			default:
				// DETACH included: the ROM is already in DFU mode and does not implement it.
				return this.protocolError();
		}
	}

	/** appIDLE (the openState fault): only the status requests answer; nothing changes state. */
	private inApplication(request: number, dirIn: boolean): ControlResult {
		if (dirIn && request === DfuRequest.GETSTATUS) return {status: 'ok', data: this.statusBytes(0)};
		if (dirIn && request === DfuRequest.GETSTATE) return {status: 'ok', data: Uint8Array.of(this.state)};
		return {status: 'stall'};
	}

	private dnload(block: number, data: Uint8Array): ControlResult {
		if (this.state !== DfuState.dfuIDLE && this.state !== DfuState.dfuDNLOAD_IDLE) return this.protocolError();
		const {profile} = this.host;
		if (data.length > profile.wTransferSize) return this.protocolError();
		if (data.length === 0) {
			// Leave: manifest at the next GETSTATUS, then jump to the application at the pointer.
			if (this.host.faults.leave === 'stall') return this.protocolError();
			this.state = DfuState.dfuMANIFEST_SYNC;
			return {status: 'ok'};
		}
		if (block === 0) {
			const command = parseCommand(data);
			if (!command) return this.protocolError();
			this.pending = command;
		} else if (block === 1) {
			return this.protocolError();
		} else {
			if (this.host.faults.cutsDownload(data.length)) {
				// The cable is pulled mid-transfer: this block never arrives.
				this.host.vanish('fault');
				return {status: 'disconnected'};
			}
			this.host.stats.dataDnloads++;
			this.host.stats.dnloadBytes += data.length;
			const address = this.pointer + (block - 2) * profile.wTransferSize;
			const copy = data.slice();
			this.pending = (ctx) => writeBlock(ctx, address, copy);
		}
		this.state = DfuState.dfuDNLOAD_SYNC;
		return {status: 'ok'};
	}

	private scaled(ms: number): number {
		return ms * this.host.timeScale;
	}

	private statusBytes(pollMs: number): Uint8Array {
		const poll = Math.min(0xffffff, Math.max(0, Math.ceil(pollMs)));
		return Uint8Array.of(this.status, poll & 0xff, (poll >> 8) & 0xff, (poll >> 16) & 0xff, this.state, 0);
	}

	private start(command: Command, now: number): ControlResult {
		const op = command(this.host.commandContext((address) => (this.pointer = address)));
		const stats = this.host.stats;
		if (op.kind === 'erase') stats.erases++;
		else if (op.kind === 'mass-erase') stats.massErases++;
		else if (op.kind === 'set-address') stats.setAddresses++;
		stats.deviceMs += op.durationMs;
		this.busy = {op, doneAt: now + this.scaled(op.durationMs), ended: false, status: DfuStatus.OK};
		this.state = DfuState.dfuDNBUSY;
		if (op.after) this.host.defer(op.after);
		// The command runs now; this answer is always dfuDNBUSY (dfu-util insists on it).
		return {status: 'ok', data: this.statusBytes(this.scaled(op.reportMs ?? op.durationMs))};
	}

	private getStatus(): ControlResult {
		const now = performance.now();
		if (this.state === DfuState.dfuDNLOAD_SYNC && this.pending) {
			const command = this.pending;
			this.pending = undefined;
			return this.start(command, now);
		}
		if (this.state === DfuState.dfuDNLOAD_SYNC) {
			this.state = DfuState.dfuDNLOAD_IDLE;
		} else if (this.state === DfuState.dfuDNBUSY && this.busy) {
			const busy = this.busy;
			if (!busy.ended) {
				const left = busy.op.reportMs !== undefined ? this.scaled(busy.op.reportMs) : busy.wedged ? this.scaled(STUCK_POLL_MS) : busy.doneAt - now;
				return {status: 'ok', data: this.statusBytes(left)};
			}
			if (busy.op.stuck) return {status: 'ok', data: this.statusBytes(this.scaled(STUCK_POLL_MS))};
			this.busy = undefined;
			this.status = busy.status;
			this.state = busy.status === DfuStatus.OK ? DfuState.dfuDNLOAD_IDLE : DfuState.dfuERROR;
		} else if (this.state === DfuState.dfuMANIFEST_SYNC) {
			return this.manifest();
		} else if (this.state === DfuState.dfuMANIFEST) {
			// A board that manifested but did not reset (the no-reset fault) waits for a reset.
			this.state = DfuState.dfuMANIFEST_WAIT_RESET;
		}
		return {status: 'ok', data: this.statusBytes(0)};
	}

	/**
	 * bitManifestationTolerant is clear and bitWillDetach set: answer dfuMANIFEST, then reset into
	 * the application; the host's next request finds no device.
	 */
	private manifest(): ControlResult {
		if (this.host.faults.leave === 'error') {
			this.state = DfuState.dfuERROR;
			this.status = DfuStatus.errFIRMWARE;
			return {status: 'ok', data: this.statusBytes(0)};
		}
		this.state = DfuState.dfuMANIFEST;
		const data = this.statusBytes(0);
		if (this.host.faults.leave !== 'no-reset') {
			const address = this.pointer;
			this.host.defer(() => this.host.leaveToApp(address));
		}
		return {status: 'ok', data};
	}

	private clearStatus(): ControlResult {
		this.host.stats.clearStatus++;
		if (this.state === DfuState.dfuERROR) {
			this.state = DfuState.dfuIDLE;
			this.status = DfuStatus.OK;
			return {status: 'ok'};
		}
		const busy = this.busy;
		if (this.state === DfuState.dfuDNBUSY && busy?.wedged) return {status: 'ok'};
		if (this.state === DfuState.dfuDNBUSY && busy?.op.stuck && busy.ended) {
			// The stuck H7 gives up on CLRSTATUS: a done operation is in flash, a lost one never will be.
			const {stuck} = busy.op;
			this.busy = undefined;
			if (stuck.outcome === 'failed') {
				this.state = DfuState.dfuERROR;
				this.status = FaultInjector.failedStatus(stuck.op);
			} else {
				this.state = DfuState.dfuIDLE;
				this.status = DfuStatus.OK;
			}
			return {status: 'ok'};
		}
		// ST's DFU code (DFU_ClearStatus) does not stall a CLRSTATUS outside dfuERROR: it enters
		// dfuERROR with errUNKNOWN, so a second CLRSTATUS brings it back to dfuIDLE. Whatever was
		// running is abandoned.
		this.busy = undefined;
		this.pending = undefined;
		this.state = DfuState.dfuERROR;
		this.status = DfuStatus.errUNKNOWN;
		return {status: 'ok'};
	}

	private abort(): ControlResult {
		switch (this.state) {
			case DfuState.dfuIDLE:
			case DfuState.dfuDNLOAD_SYNC:
			case DfuState.dfuDNLOAD_IDLE:
			case DfuState.dfuMANIFEST_SYNC:
			case DfuState.dfuUPLOAD_IDLE:
				this.pending = undefined;
				this.state = DfuState.dfuIDLE;
				this.status = DfuStatus.OK;
				return {status: 'ok'};
			default:
				return this.protocolError();
		}
	}

	private upload(block: number, length: number): ControlResult {
		if (this.state !== DfuState.dfuIDLE && this.state !== DfuState.dfuUPLOAD_IDLE) return this.protocolError();
		const ctx = this.host.commandContext(() => {});
		if (length === 0 || length > this.host.profile.wTransferSize || block === 1) return this.protocolError();
		let data: Uint8Array;
		if (block === 0) {
			data = Uint8Array.of(DfuseCommand.GET_COMMANDS, DfuseCommand.SET_ADDRESS, DfuseCommand.ERASE, DfuseCommand.READ_UNPROTECT).subarray(0, length);
		} else {
			if (ctx.mainLocked) return this.protocolError(DfuStatus.errVENDOR);
			const address = this.pointer + (block - 2) * this.host.profile.wTransferSize;
			const read = ctx.memory.read(address, length);
			if (!read) return this.protocolError(DfuStatus.errADDRESS);
			if (ctx.main) this.host.faults.corruptUpload(address, read);
			this.host.stats.uploads++;
			this.host.stats.uploadBytes += read.length;
			data = read;
		}
		// A short frame ends the upload (DFU 1.1): back to dfuIDLE.
		this.state = data.length < length ? DfuState.dfuIDLE : DfuState.dfuUPLOAD_IDLE;
		return {status: 'ok', data};
	}
}
