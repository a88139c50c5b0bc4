// Every fault the emulated ROM can inject, decided in one place. The request modules ask this one
// at fixed points (a request arrives, a block is downloaded, an operation starts, data is read)
// and never look at the Faults object themselves.
import type {Sector} from '../dfu/layout.js';
import {DfuStatus, type DfuStatusCode} from './protocol.js';
import type {EmulatorProfile, Faults, StuckBusyFault} from './types.js';

/** What a request-level fault does instead of answering. */
export type RequestFault = 'stall' | 'disconnect' | undefined;

export class FaultInjector {
	private stallFired = false;
	private disconnectFired = false;
	private downloadCutFired = false;
	private downloadedBytes = 0;
	private stuckFired = false;
	private noisyReads = 0;

	constructor(readonly spec: Readonly<Faults>) {}

	// --- descriptors -------------------------------------------------------------------------

	/** The profile as the board describes itself: transfer size and alt 0's layout may be overridden. */
	describe(profile: EmulatorProfile): EmulatorProfile {
		const d = this.spec.descriptor;
		if (!d) return profile;
		return {
			...profile,
			wTransferSize: d.transferSize ?? profile.wTransferSize,
			layouts: d.layout === undefined ? profile.layouts : [d.layout, ...profile.layouts.slice(1)],
		};
	}

	/** Whether the configuration descriptor carries a DFU functional descriptor. */
	get functionalDescriptor(): boolean {
		return this.spec.descriptor?.functional !== false;
	}

	// --- opening -----------------------------------------------------------------------------

	get openState(): Faults['openState'] {
		return this.spec.openState;
	}

	get claimBusy(): boolean {
		return this.spec.claimBusy === true;
	}

	get readProtected(): boolean {
		return this.spec.readProtected === true;
	}

	// --- requests ----------------------------------------------------------------------------

	/** Called for the Nth request of a session (1-based); each of these fires once. */
	request(nth: number): RequestFault {
		if (this.spec.disconnectOnRequest === nth && !this.disconnectFired) {
			this.disconnectFired = true;
			return 'disconnect';
		}
		if (this.spec.stallOnRequest === nth && !this.stallFired) {
			this.stallFired = true;
			return 'stall';
		}
		return undefined;
	}

	/** A data block of this many bytes is on the wire: true when the cable is pulled before it arrives. */
	cutsDownload(bytes: number): boolean {
		const limit = this.spec.disconnectAfterBytes;
		if (limit !== undefined && !this.downloadCutFired && this.downloadedBytes + bytes > limit) {
			this.downloadCutFired = true;
			return true;
		}
		this.downloadedBytes += bytes;
		return false;
	}

	/** Corrupt main-flash UPLOAD data read from `address` in place. */
	corruptUpload(address: number, data: Uint8Array): void {
		const inside = (at: number | undefined) => at !== undefined && at >= address && at < address + data.length;
		const fixed = this.spec.corruptUploadAt;
		if (inside(fixed)) data[fixed! - address]! ^= 0x01;
		const noisy = this.spec.corruptUpload;
		if (noisy && inside(noisy.at) && (noisy.reads === undefined || this.noisyReads < noisy.reads)) {
			// A different bit each time: two reads of a noisy path never agree.
			data[noisy.at - address]! ^= 1 << (this.noisyReads % 8);
			this.noisyReads++;
		}
	}

	// --- operations --------------------------------------------------------------------------

	/** Where a main-flash write fails with errWRITE, if inside it. */
	get writeFailsAt(): number | undefined {
		return this.spec.writeErrorAt;
	}

	eraseFails(sector: Sector): boolean {
		const bad = this.spec.eraseErrorAt;
		return bad !== undefined && bad >= sector.start && bad < sector.start + sector.size;
	}

	eraseIgnored(sector: Sector): boolean {
		const at = this.spec.eraseIgnoredAt;
		return at !== undefined && at >= sector.start && at < sector.start + sector.size;
	}

	get unprotectStaysBusy(): boolean {
		return this.spec.unprotectStaysBusy === true;
	}

	get massEraseFails(): boolean {
		return this.spec.massEraseFails === true;
	}

	/** Whether a main-flash write or erase of [start, start + length) stays in dfuDNBUSY past its end. */
	stuck(op: StuckBusyFault['op'], start: number, length: number): StuckBusyFault | undefined {
		const s = this.spec.stuckBusy;
		if (!s || s.op !== op) return undefined;
		if (s.every) return start + length > s.at ? s : undefined;
		if (this.stuckFired || s.at < start || s.at >= start + length) return undefined;
		this.stuckFired = true;
		return s;
	}

	/** What a stuck operation that failed reports once CLRSTATUS ends it. */
	static failedStatus(op: StuckBusyFault['op']): DfuStatusCode {
		return op === 'write' ? DfuStatus.errWRITE : DfuStatus.errERASE;
	}

	get leave(): Faults['leave'] {
		return this.spec.leave;
	}
}
