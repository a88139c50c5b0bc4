// The fault matrix of issue #8, shared by the in-process run (engine-fault-matrix.test.ts) and the
// run through real libusb (usb-fault-matrix.test.ts): the board, the image, its old contents, and
// for each fault what may come out. An outcome is either success with the flash holding the image, or
// a typed error with the given exit code; never a success with anything else in flash.
import type {Faults, ProfileName} from '../../source/emulator/index.js';
import type {HintId} from '../../source/hints.js';
import type {Segment} from '../../source/firmware/image.js';
import {betaflightLikeImage, prng} from '../../scripts/synthetic-firmware.js';

export const KiB = 1024;
export const FLASH = 0x08000000;

export type Mode = 'smart' | 'rewrite' | 'full-erase';
export type FaultPhase = 'open' | 'compare' | 'erase' | 'write' | 'verify' | 'leave';

/** 'ok': success and the flash holds the image; otherwise a typed error with this exit code (and hint). */
export type Expect = 'ok' | {code: number; hint?: HintId};

export interface Board {
	profile: ProfileName;
	segments: Segment[];
	/** The board's flash before the run: old firmware, settings, blank and already-right sectors. */
	before: Uint8Array;
	/** An address in a sector every mode erases, and one in a block every mode writes. */
	eraseAt: number;
	writeAt: number;
	/** A written block in a sector the smart path writes without an erase (H7: the partial case). */
	blankWriteAt: number;
}

function noise(length: number, seed: number): Uint8Array {
	const next = prng(seed);
	return Uint8Array.from({length}, () => next() & 0x7f);
}

/**
 * STM32F405 with a Betaflight-like image (sectors 0, 2, 3, 4, 5; the config sector 1 holds
 * settings). Before: sectors 0 and 4 old firmware (erased by every mode), 2 already right
 * (unchanged), 3 and 5 blank (written without an erase), everything past the image old data.
 */
function f405(): Board {
	const segments = betaflightLikeImage({bytes: 200 * KiB, seed: 11});
	const before = noise(1024 * KiB, 3);
	const put = (start: number, size: number, from: 'image' | 'blank') => {
		if (from === 'blank') return before.fill(0xff, start - FLASH, start - FLASH + size);
		before.fill(0xff, start - FLASH, start - FLASH + size);
		for (const s of segments) {
			const lo = Math.max(s.address, start);
			const hi = Math.min(s.address + s.data.length, start + size);
			if (lo < hi) before.set(s.data.subarray(lo - s.address, hi - s.address), lo - FLASH);
		}
	};
	put(0x08008000, 16 * KiB, 'image');
	put(0x0800c000, 16 * KiB, 'blank');
	put(0x08020000, 128 * KiB, 'blank');
	return {profile: 'stm32f405', segments, before, eraseAt: 0x08010000, writeAt: 0x08010000 + 4 * KiB + 8, blankWriteAt: 0x08020000 + 6 * KiB + 8};
}

/** STM32H743: 32 KiB in bank 1 over old firmware, 160 KiB in bank 2: sector 8 old, sector 9 blank. */
function h743(): Board {
	const next = prng(21);
	const data = (n: number) => Uint8Array.from({length: n}, () => next() & 0xff);
	const segments = [
		{address: FLASH, data: data(32 * KiB)},
		{address: 0x08100000, data: data(160 * KiB)},
	];
	const before = noise(2048 * KiB, 5);
	before.fill(0xff, 0x120000, 0x140000);
	return {profile: 'stm32h743', segments, before, eraseAt: 0x08100000, writeAt: 0x08100000 + 3 * KiB + 100, blankWriteAt: 0x08120000 + 5 * KiB + 100};
}

export const boards = {stm32f405: f405, stm32h743: h743} as const;

/** What the flash must hold after a successful run: the image on 0xFF in every touched sector, the old bytes elsewhere. */
export function expectedFlash(board: Board, sectors: ReadonlyArray<{start: number; size: number}>): Uint8Array {
	const out = board.before.slice();
	for (const s of sectors) {
		if (board.segments.some((g) => g.address < s.start + s.size && g.address + g.data.length > s.start)) out.fill(0xff, s.start - FLASH, s.start - FLASH + s.size);
	}
	for (const g of board.segments) out.set(g.data, g.address - FLASH);
	return out;
}

export interface FaultCase {
	name: string;
	phase: FaultPhase;
	profile: ProfileName;
	faults: (b: Board) => Faults;
	/** Default: every mode; the verify legs default to on and off. */
	modes?: Mode[];
	verify?: boolean[];
	expect: Expect | ((mode: Mode, verify: boolean) => Expect);
}

const failed = (hint?: HintId): Expect => ({code: 1, hint});

/** Address-based faults: the same Faults JSON works in-process and through the umockdev harness. */
export const addressedCases: FaultCase[] = [
	// open
	{name: 'claim busy', phase: 'open', profile: 'stm32f405', faults: () => ({claimBusy: true}), expect: failed('busy')},
	{name: 'appIDLE at open', phase: 'open', profile: 'stm32f405', faults: () => ({openState: 'appIDLE'}), expect: failed('boot-button')},
	{name: 'dfuERROR at open', phase: 'open', profile: 'stm32f405', faults: () => ({openState: 'dfuERROR'}), expect: 'ok'},
	{name: 'dfuDNBUSY at open', phase: 'open', profile: 'stm32f405', faults: () => ({openState: 'dfuDNBUSY'}), expect: failed('stuck-busy')},
	{name: 'transfer size 0', phase: 'open', profile: 'stm32f405', faults: () => ({descriptor: {transferSize: 0}}), expect: failed('bad-descriptor')},
	{name: 'transfer size 1', phase: 'open', profile: 'stm32f405', faults: () => ({descriptor: {transferSize: 1}}), expect: failed('bad-descriptor')},
	{name: 'transfer size 8192', phase: 'open', profile: 'stm32f405', faults: () => ({descriptor: {transferSize: 8192}}), expect: failed('bad-descriptor')},
	{name: 'no functional descriptor', phase: 'open', profile: 'stm32f405', faults: () => ({descriptor: {functional: false}}), expect: failed('bad-descriptor')},
	{name: 'no writable sector', phase: 'open', profile: 'stm32f405', faults: () => ({descriptor: {layout: '@Internal Flash  /0x08000000/04*016Ka,01*064Ka,07*128Ka'}}), expect: failed('bad-descriptor')},
	{name: 'read protected', phase: 'open', profile: 'stm32f405', faults: () => ({readProtected: true}), expect: failed('read-protect')},
	// compare (the read path is noisy: a glitch is read again or makes a sector be erased)
	{name: 'intermittent corrupt read', phase: 'compare', profile: 'stm32f405', faults: (b) => ({corruptUpload: {at: b.blankWriteAt + 2 * KiB, reads: 1}}), expect: 'ok'},
	{
		name: 'noisy read path',
		phase: 'compare',
		profile: 'stm32f405',
		faults: (b) => ({corruptUpload: {at: b.blankWriteAt}}),
		// Every read differs: verify cannot pass; without verify the flash itself is right.
		expect: (_mode, verify) => (verify ? failed('verify-failed') : 'ok'),
	},
	// erase
	{name: 'erase error', phase: 'erase', profile: 'stm32f405', faults: (b) => ({eraseErrorAt: b.eraseAt}), modes: ['smart', 'rewrite'], expect: failed()},
	{name: 'mass erase refused (fallback)', phase: 'erase', profile: 'stm32f405', faults: () => ({massEraseFails: true}), modes: ['full-erase'], expect: 'ok'},
	...(['done', 'lost', 'failed'] as const).map(
		(outcome): FaultCase => ({name: `F405 erase stuck busy (${outcome})`, phase: 'erase', profile: 'stm32f405', modes: ['smart', 'rewrite'], faults: (b) => ({stuckBusy: {at: b.eraseAt, op: 'erase', outcome}}), expect: failed('stuck-busy')}),
	),
	...(['done', 'lost'] as const).map(
		(outcome): FaultCase => ({name: `H7 erase stuck busy (${outcome})`, phase: 'erase', profile: 'stm32h743', modes: ['smart', 'rewrite'], faults: (b) => ({stuckBusy: {at: b.eraseAt, op: 'erase', outcome}}), expect: 'ok'}),
	),
	{name: 'H7 erase stuck busy (failed)', phase: 'erase', profile: 'stm32h743', modes: ['smart', 'rewrite'], faults: (b) => ({stuckBusy: {at: b.eraseAt, op: 'erase', outcome: 'failed'}}), expect: failed()},
	// A lying erase (OK, nothing erased) can only be caught by reading back: verify on only.
	{name: 'erase ignored', phase: 'erase', profile: 'stm32f405', modes: ['smart', 'rewrite'], verify: [true], faults: (b) => ({eraseIgnoredAt: b.eraseAt}), expect: failed('verify-failed')},
	// write
	{name: 'write error', phase: 'write', profile: 'stm32f405', faults: (b) => ({writeErrorAt: b.writeAt}), expect: failed()},
	{name: 'disconnect mid-write', phase: 'write', profile: 'stm32f405', faults: () => ({disconnectAfterBytes: 40 * KiB}), expect: failed('device-gone')},
	...(['done', 'lost', 'partial', 'failed'] as const).map(
		(outcome): FaultCase => ({name: `F405 write stuck busy (${outcome})`, phase: 'write', profile: 'stm32f405', faults: (b) => ({stuckBusy: {at: b.writeAt, op: 'write', outcome}}), expect: failed('stuck-busy')}),
	),
	...(['done', 'lost', 'partial'] as const).map(
		(outcome): FaultCase => ({name: `H7 write stuck busy (${outcome})`, phase: 'write', profile: 'stm32h743', faults: (b) => ({stuckBusy: {at: b.blankWriteAt, op: 'write', outcome}}), expect: 'ok'}),
	),
	{name: 'H7 write stuck busy (failed)', phase: 'write', profile: 'stm32h743', faults: (b) => ({stuckBusy: {at: b.writeAt, op: 'write', outcome: 'failed'}}), expect: failed()},
	{name: 'H7 every write stuck busy (done)', phase: 'write', profile: 'stm32h743', faults: (b) => ({stuckBusy: {at: b.eraseAt, op: 'write', outcome: 'done', every: true}}), expect: 'ok'},
	// verify
	{name: 'intermittent corrupt read (verify)', phase: 'verify', profile: 'stm32f405', verify: [true], faults: (b) => ({corruptUpload: {at: b.writeAt, reads: 2}}), expect: 'ok'},
	{name: 'a bit stuck on the read path', phase: 'verify', profile: 'stm32f405', faults: (b) => ({corruptUploadAt: b.writeAt}), expect: (_mode, verify) => (verify ? failed('verify-failed') : 'ok')},
	// leave
	{name: 'leave stalls', phase: 'leave', profile: 'stm32f405', faults: () => ({leave: 'stall'}), expect: failed('still-in-dfu')},
	{name: 'leave answers dfuERROR', phase: 'leave', profile: 'stm32f405', faults: () => ({leave: 'error'}), expect: failed('still-in-dfu')},
	{name: 'leave manifests but never resets', phase: 'leave', profile: 'stm32f405', faults: () => ({leave: 'no-reset'}), expect: failed('still-in-dfu')},
];

/** Whether the flash may be checked against the image: a run that failed may have changed anything in touched sectors. */
export function expectationFor(c: FaultCase, mode: Mode, verify: boolean): Expect {
	return typeof c.expect === 'function' ? c.expect(mode, verify) : c.expect;
}
