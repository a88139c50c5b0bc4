// The engine test rig: an emulated board opened by the engine, with every request on the wire logged
// (and the engine phase it was made in), progress events, disconnects and resets. Shared by the
// engine tests so each looks at what reached the device, not at what the engine says it did.
import assert from 'node:assert/strict';
import {openDfuTarget, type DfuTarget} from '../../source/dfu/target.js';
import type {Phase, Progress} from '../../source/dfu/progress.js';
import {Request} from '../../source/dfu/requests.js';
import {createEmulatedDevice, type ControlSetup, type EmulatedUsbDevice, type EmulatorOptions, type ProfileName} from '../../source/emulator/index.js';
import {makeImage, type FirmwareImage, type Segment} from '../../source/firmware/image.js';

export const FLASH = 0x08000000;
export const KiB = 1024;
export const CONFIG_SECTOR = {start: 0x08004000, end: 0x08008000};

export interface Logged {
	/** bmRequestType */
	type: number;
	request: number;
	value: number;
	length: number;
	status: string;
	data?: Uint8Array;
	/** The engine's phase when the request was made ('open' before the first progress event). */
	phase: Phase | 'open';
}

export interface Rig {
	dev: EmulatedUsbDevice;
	target: DfuTarget;
	log: Logged[];
	/** Progress events in arrival order. */
	progress: Progress[];
	disconnects: string[];
	resets: number[];
	onProgress: (p: Progress) => void;
}

export const CLASS_OUT = 0x21;
export const CLASS_IN = 0xa1;

/** The emulated board, with the request log attached, not yet opened by the engine. */
export function device(profile: ProfileName, options: EmulatorOptions = {}) {
	const dev = createEmulatedDevice(profile, {timeScale: 0, ...options});
	const log: Logged[] = [];
	const disconnects: string[] = [];
	const resets: number[] = [];
	const state = {phase: 'open' as Logged['phase']};
	dev.bootloader.on('request', (setup: ControlSetup, result, data) => {
		log.push({
			type: setup.requestType,
			request: setup.request,
			value: setup.value,
			length: setup.length,
			status: result.status,
			data: data ? data.slice() : undefined,
			phase: state.phase,
		});
	});
	dev.bootloader.on('disconnect', (reason) => disconnects.push(reason));
	dev.bootloader.on('reset-to-app', (address) => resets.push(address));
	return {dev, log, disconnects, resets, state};
}

export async function rig(profile: ProfileName, options: EmulatorOptions = {}): Promise<Rig> {
	const {dev, log, disconnects, resets, state} = device(profile, options);
	const target = await openDfuTarget(dev);
	const progress: Progress[] = [];
	const onProgress = (p: Progress) => {
		state.phase = p.phase;
		progress.push(p);
	};
	return {dev, target, log, progress, disconnects, resets, onProgress};
}

export const isDnload = (e: Logged) => e.type === CLASS_OUT && e.request === Request.DNLOAD;
export const isUpload = (e: Logged) => e.type === CLASS_IN && e.request === Request.UPLOAD;
export const isGetStatus = (e: Logged) => e.type === CLASS_IN && e.request === Request.GETSTATUS;
export const isClearStatus = (e: Logged) => e.type === CLASS_OUT && e.request === Request.CLRSTATUS;
export const isDataDnload = (e: Logged) => isDnload(e) && e.value >= 2 && (e.data?.length ?? 0) > 0;

/** DfuSe commands (DNLOAD block 0) with this command byte; the address when present. */
export function commands(log: Logged[], code: number, phase?: Logged['phase']): Array<number | undefined> {
	return log
		.filter((e) => isDnload(e) && e.value === 0 && e.data?.[0] === code && (phase === undefined || e.phase === phase))
		.map((e) => (e.data!.length === 5 ? new DataView(e.data!.buffer, e.data!.byteOffset, 5).getUint32(1, true) : undefined));
}

export function image(segments: Segment[], file = 'test.hex'): FirmwareImage {
	return makeImage(file, 'hex', segments, null);
}

/** A recognisable pattern that is never 0xFF, so "kept" and "erased" cannot be confused. */
export function pattern(length: number, seed = 0x5a): Uint8Array {
	const out = new Uint8Array(length);
	for (let i = 0; i < length; i++) out[i] = (seed + i * 7) & 0x7f;
	return out;
}

export const flashSize = (profile: ProfileName) => createEmulatedDevice(profile).bootloader.flash.length;

/** First differing offset, or -1. */
export function firstDiff(a: Uint8Array, b: Uint8Array): number {
	const n = Math.min(a.length, b.length);
	for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
	return a.length === b.length ? -1 : n;
}

export function assertFlashHolds(flash: Uint8Array, segments: readonly Segment[], base = FLASH) {
	for (const s of segments) {
		const at = firstDiff(flash.subarray(s.address - base, s.address - base + s.data.length), s.data);
		assert.equal(at, -1, `flash differs from the segment at 0x${(s.address + at).toString(16)}`);
	}
}

export function assertRange(flash: Uint8Array, start: number, end: number, expected: Uint8Array, what: string) {
	const at = firstDiff(flash.subarray(start - FLASH, end - FLASH), expected.subarray(start - FLASH, end - FLASH));
	assert.equal(at, -1, `${what}: byte at 0x${(start + at).toString(16)} changed`);
}

export function phasesInOrder(progress: Progress[]): Phase[] {
	const out: Phase[] = [];
	for (const p of progress) if (out.at(-1) !== p.phase) out.push(p.phase);
	return out;
}
