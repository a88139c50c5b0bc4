// The DfuSe commands (DNLOAD block 0: set address, erase, mass erase, read unprotect) and data
// writes, as operations the DFU state machine runs. An operation is described when its GETSTATUS
// starts it; its effect on the flash happens when its busy time ends (`complete`), so an operation
// that the host abandons, or that a fault loses, never reaches the flash.
import type {AltMemory} from './flash-memory.js';
import {FaultInjector} from './faults.js';
import {DfuseCommand, DfuStatus, type DfuStatusCode} from './protocol.js';
import type {EmulatorProfile, StuckBusyFault} from './types.js';

/** ROM timings in ms (REFERENCE.md "timing the emulated bootloader must use"). */
const SET_ADDRESS_MS = 1;
const PROGRAM_MS_PER_WORD = 0.016;
const MASS_ERASE_REPORTED_MS = 100;
const DEFAULT_MASS_ERASE_MS = 8000;
/** Quick refusals (protection, bad address) still take the ROM a moment. */
const REFUSAL_MS = 1;

export interface Operation {
	kind: 'set-address' | 'erase' | 'mass-erase' | 'write' | 'unprotect' | 'refusal';
	/** Real duration in unscaled ms. */
	durationMs: number;
	/** Fixed bwPollTimeout (unscaled ms) instead of the time left: the mass-erase quirk. */
	reportMs?: number;
	/** Runs when the busy time ends: applies the effect and gives the final status. */
	complete: () => DfuStatusCode;
	/** Stays in dfuDNBUSY past its end until CLRSTATUS (fault injection). */
	stuck?: StuckBusyFault;
	/** Runs right after the GETSTATUS answer that started it (unprotect: wipe and vanish). */
	after?: () => void;
}

/** What the commands act on: the bootloader's memory and pointer, through the state machine. */
export interface CommandContext {
	readonly profile: EmulatorProfile;
	readonly faults: FaultInjector;
	/** Memory of the selected alternate setting. */
	readonly memory: AltMemory;
	readonly memories: readonly AltMemory[];
	/** Alt 0, the main flash, is selected. */
	readonly main: boolean;
	/** Main flash while RDP is on: the ROM refuses to touch it (errVENDOR). */
	readonly mainLocked: boolean;
	readonly readProtected: boolean;
	setPointer(address: number): void;
	setRdp(protect: boolean): void;
	vanish(reason: 'unprotect'): void;
}

export type Command = (ctx: CommandContext) => Operation;

const refusal = (status: DfuStatusCode, durationMs = REFUSAL_MS, reportMs?: number): Operation => ({kind: 'refusal', durationMs, reportMs, complete: () => status});

/** Decode a command block; undefined for one the ROM does not know (it stalls). */
export function parseCommand(data: Uint8Array): Command | undefined {
	const address = data.length === 5 ? new DataView(data.buffer, data.byteOffset, 5).getUint32(1, true) : undefined;
	switch (data[0]) {
		case DfuseCommand.SET_ADDRESS:
			return address === undefined ? undefined : (ctx) => setAddress(ctx, address);
		case DfuseCommand.ERASE:
			if (data.length === 1) return massErase;
			return address === undefined ? undefined : (ctx) => eraseSector(ctx, address);
		case DfuseCommand.READ_UNPROTECT:
			return data.length === 1 ? unprotect : undefined;
		default:
			return undefined;
	}
}

function setAddress(ctx: CommandContext, address: number): Operation {
	if (!ctx.memory.sectorAt(address)) return refusal(DfuStatus.errTARGET, SET_ADDRESS_MS);
	return {
		kind: 'set-address',
		durationMs: SET_ADDRESS_MS,
		complete: () => {
			ctx.setPointer(address);
			return DfuStatus.OK;
		},
	};
}

function eraseSector(ctx: CommandContext, address: number): Operation {
	const sector = ctx.memory.sectorAt(address);
	if (!sector || !sector.erasable) return refusal(DfuStatus.errTARGET);
	if (ctx.mainLocked) return refusal(DfuStatus.errVENDOR);
	// ST's DFU library points the address pointer at the erased sector (usbd_dfu.c, DFU_CMD_ERASE):
	// a host must set the address again before it writes.
	ctx.setPointer(address);
	const durationMs = ctx.profile.eraseMs(sector.size);
	if (ctx.main && ctx.faults.eraseFails(sector)) return {kind: 'erase', durationMs, complete: () => DfuStatus.errERASE};
	return {
		kind: 'erase',
		durationMs,
		stuck: ctx.main ? ctx.faults.stuck('erase', sector.start, sector.size) : undefined,
		complete: () => {
			if (!(ctx.main && ctx.faults.eraseIgnored(sector))) ctx.memory.erase(sector);
			return DfuStatus.OK;
		},
	};
}

function massErase(ctx: CommandContext): Operation {
	const reportMs = MASS_ERASE_REPORTED_MS;
	if (!ctx.main) return refusal(DfuStatus.errTARGET);
	if (ctx.readProtected) return refusal(DfuStatus.errVENDOR, reportMs, reportMs);
	if (ctx.faults.massEraseFails) return refusal(DfuStatus.errERASE, reportMs, reportMs);
	return {
		kind: 'mass-erase',
		durationMs: ctx.profile.massEraseMs ?? DEFAULT_MASS_ERASE_MS,
		reportMs,
		complete: () => {
			ctx.memory.eraseAll();
			return DfuStatus.OK;
		},
	};
}

function unprotect(ctx: CommandContext): Operation {
	const wipe = () => {
		ctx.memories[0]!.eraseAll();
		ctx.setRdp(false);
		ctx.vanish('unprotect');
	};
	const op = {kind: 'unprotect', durationMs: ctx.profile.massEraseMs ?? DEFAULT_MASS_ERASE_MS, reportMs: MASS_ERASE_REPORTED_MS} as const;
	// Some clones answer dfuDNBUSY until the wipe is over, and reset then.
	if (ctx.faults.unprotectStaysBusy) return {...op, complete: () => (wipe(), DfuStatus.OK)};
	// The ROM answers one GETSTATUS, then regresses RDP (wiping the flash) and resets.
	return {...op, complete: () => DfuStatus.OK, after: wipe};
}

/** A data block for `address` (pointer + (block - 2) * wTransferSize). */
export function writeBlock(ctx: CommandContext, address: number, data: Uint8Array): Operation {
	const durationMs = Math.ceil(data.length / 4) * PROGRAM_MS_PER_WORD;
	if (ctx.mainLocked) return refusal(DfuStatus.errVENDOR);
	if (!ctx.memory.covers(address, data.length, 'writable')) return refusal(DfuStatus.errADDRESS);
	const failAt = ctx.main ? ctx.faults.writeFailsAt : undefined;
	const stuck = ctx.main ? ctx.faults.stuck('write', address, data.length) : undefined;
	// An interrupted program: the first half of the block (whole words) made it.
	const landed = stuck?.outcome === 'partial' ? data.subarray(0, Math.max(4, Math.floor(data.length / 64) * 32)) : data;
	return {
		kind: 'write',
		durationMs,
		stuck,
		complete: () => ctx.memory.program(address, landed, failAt),
	};
}
