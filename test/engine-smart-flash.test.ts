// Smart flash (issue #12): read back the sectors the image touches before erasing, and neither erase
// nor write what already holds its target. The result must be byte-identical to the plain path's
// (erase every touched sector, write it) on every profile, no block may be sent onto flash that is
// not blank (no flash word programmed twice), and the wire must show only what was needed.
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {Command} from '../source/dfu/dfuse.js';
import {flashImage} from '../source/dfu/flash.js';
import type {Sector} from '../source/dfu/layout.js';
import {writeRuns} from '../source/dfu/plan.js';
import {CancelledError, DfuStatusError, VerifyError} from '../source/errors.js';
import {profileNames, type ProfileName} from '../source/emulator/index.js';
import type {FirmwareImage, Segment} from '../source/firmware/image.js';
import {betaflightLikeImage, fullImage, prng} from '../scripts/synthetic-firmware.js';
import {
	CONFIG_SECTOR,
	commands,
	firstDiff,
	FLASH,
	flashSize,
	image,
	isDataDnload,
	isDnload,
	isUpload,
	KiB,
	pattern,
	phasesInOrder,
	rig,
	type Rig,
} from './helpers/engine-rig.js';

/** What erase-then-write leaves: the image's bytes in every touched sector, 0xFF elsewhere in it; the rest as before. */
function expectedFlash(before: Uint8Array, img: FirmwareImage, touched: readonly Sector[]): Uint8Array {
	const out = before.slice();
	for (const s of touched) out.fill(0xff, s.start - FLASH, s.start - FLASH + s.size);
	for (const run of writeRuns(img.segments)) out.set(run.data, run.address - FLASH);
	return out;
}

function touchedSectors(r: Rig, img: FirmwareImage): Sector[] {
	return r.target.flash.sectors.filter((s) => img.segments.some((seg) => seg.address < s.start + s.size && seg.address + seg.data.length > s.start));
}

const eraseSet = (r: Rig) => commands(r.log, Command.ERASE).filter((a): a is number => a !== undefined);

// --- the property: byte-identical to the plain path, no word programmed twice --------------------------

type Scenario = 'same' | 'blank' | 'holes' | 'one-byte' | 'garbage' | 'dirty-outside';
const scenarios: Scenario[] = ['same', 'blank', 'holes', 'one-byte', 'garbage', 'dirty-outside'];

function randomImage(next: () => number, size: number, flashBytes: number, profile: ProfileName, trial: number): Segment[] {
	if (trial === 0 && profile !== 'stm32h743' && profile !== 'at32f435') {
		// Betaflight's shape: the config sector at 0x08004000 is a gap the image never touches.
		return betaflightLikeImage({bytes: 64 * KiB + (next() % (64 * KiB)), seed: trial + 1});
	}
	const segments: Segment[] = [];
	let at = FLASH + (next() % 4) * 16 * KiB + [0, 8, 32, 100, size][next() % 5]!;
	for (let n = 1 + (next() % 3); n > 0 && at < FLASH + flashBytes / 2; n--) {
		const length = 1 + (next() % (48 * KiB));
		const data = new Uint8Array(length);
		for (let i = 0; i < length; i++) data[i] = next() & 0xff;
		// Some whole 0xFF blocks, as real images have (never sent).
		for (let b = 0; b < length; b += size) if (next() % 6 === 0) data.fill(0xff, b, b + size);
		segments.push({address: at, data});
		at += length + [1, 64, 16 * KiB, 40 * KiB][next() % 4]!;
	}
	return segments;
}

/** Old contents for each touched sector by scenario; untouched sectors get noise (they must stay). */
function priorFlash(next: () => number, size: number, bytes: number, img: FirmwareImage, touched: readonly Sector[], pick: (s: Sector) => Scenario): Uint8Array {
	const before = new Uint8Array(bytes);
	for (let i = 0; i < bytes; i++) before[i] = next() & 0xff;
	const target = expectedFlash(before, img, touched);
	for (const s of touched) {
		const lo = s.start - FLASH;
		const hi = lo + s.size;
		const scenario = pick(s);
		if (scenario === 'garbage') continue;
		if (scenario === 'blank') {
			before.fill(0xff, lo, hi);
			continue;
		}
		before.set(target.subarray(lo, hi), lo);
		if (scenario === 'holes') {
			for (let w = lo; w < hi; w += size) if (next() % 3 === 0) before.fill(0xff, w, Math.min(hi, w + size));
		} else if (scenario === 'one-byte') {
			const data = [...Array(hi - lo).keys()].filter((i) => target[lo + i] !== 0xff);
			const i = lo + (data.length ? data[next() % data.length]! : next() % (hi - lo));
			// Clear a set bit (or set one in 0x00): the block is then neither right nor blank.
			const t = target[i]!;
			before[i] = t === 0 ? 0x01 : t & (t - 1);
		} else if (scenario === 'dirty-outside') {
			const outside = [...Array(hi - lo).keys()].filter((i) => target[lo + i] === 0xff);
			if (outside.length) before[lo + outside[next() % outside.length]!] = 0x00;
			else before[lo] = before[lo]! ^ 0x80;
		}
	}
	return before;
}

const mustErase = (s: Scenario) => s === 'one-byte' || s === 'garbage' || s === 'dirty-outside';

describe('smart flash: byte-identical to the plain path on every profile', () => {
	for (const profile of profileNames) {
		it(`${profile}: random images over random old contents`, {timeout: 120_000}, async () => {
			const bytes = flashSize(profile);
			const next = prng(0x5eed + profile.length * 977);
			const seen = {unchanged: 0, blank: 0, erased: 0, scenarios: new Set<Scenario>()};
			for (let trial = 0; trial < 8; trial++) {
				const probe = await rig(profile);
				const size = probe.target.transferSize;
				const img = image(randomImage(next, size, bytes, profile, trial));
				const touched = touchedSectors(probe, img);
				const chosen = new Map(touched.map((s) => [s.start, scenarios[next() % scenarios.length]!]));
				for (const s of chosen.values()) seen.scenarios.add(s);
				const before = priorFlash(next, size, bytes, img, touched, (s) => chosen.get(s.start)!);
				const want = expectedFlash(before, img, touched);
				const what = `${profile} trial ${trial}`;

				const smart = await rig(profile, {flash: before.slice()});
				const result = await flashImage(smart.target, img, {leave: false});
				const plain = await rig(profile, {flash: before.slice()});
				await flashImage(plain.target, img, {leave: false, rewrite: true});

				assert.equal(firstDiff(smart.dev.bootloader.flash, plain.dev.bootloader.flash), -1, `${what}: smart and plain differ`);
				assert.equal(firstDiff(smart.dev.bootloader.flash, want), -1, `${what}: flash is not image + 0xFF in touched sectors, old contents elsewhere`);
				assert.equal(smart.dev.bootloader.memories[0]!.reprogrammedBytes, 0, `${what}: a block was sent onto flash that was not blank`);
				assert.equal(result.verified, true);
				// Exactly the sectors that could not be written in place were erased.
				const erased = touched.filter((s) => mustErase(chosen.get(s.start)!));
				assert.deepEqual(new Set(eraseSet(smart)), new Set(erased.map((s) => s.start)), `${what}: erased sectors`);
				assert.equal(result.erase.sectors, erased.length);
				assert.equal(result.erase.unchanged + result.erase.blank + result.erase.sectors, touched.length);
				seen.unchanged += result.erase.unchanged;
				seen.blank += result.erase.blank;
				seen.erased += result.erase.sectors;
				if (profile !== 'stm32h743' && profile !== 'at32f435' && trial === 0) {
					assert.equal(firstDiff(smart.dev.bootloader.flash.subarray(CONFIG_SECTOR.start - FLASH, CONFIG_SECTOR.end - FLASH), before.subarray(CONFIG_SECTOR.start - FLASH, CONFIG_SECTOR.end - FLASH)), -1, 'config sector kept');
				}
			}
			// The trials met every case the compare decides between.
			assert.equal(seen.scenarios.size, scenarios.length, `scenarios seen: ${[...seen.scenarios].join(', ')}`);
			assert.ok(seen.unchanged > 0 && seen.blank > 0 && seen.erased > 0, JSON.stringify({...seen, scenarios: undefined}));
		});
	}
});

// --- the cases of issue #12, on the wire -------------------------------------------------------------

/** Flash `img` on a fresh session of the same emulated board (the board is replugged in between). */
async function again(r: Rig, img: FirmwareImage, options: Parameters<typeof flashImage>[2] = {}) {
	r.dev.bootloader.reset();
	const next = await rig('stm32f405', {flash: r.dev.bootloader.flash.slice()});
	const result = await flashImage(next.target, img, {...options, onProgress: next.onProgress});
	return {next, result};
}

const sectorOf = (r: Rig, address: number) => r.target.flash.sectors.find((s) => address >= s.start && address < s.start + s.size)!;
const writtenAddresses = (r: Rig) => {
	// Data DNLOADs land at pointer + (block - 2) * 2048; the pointer is the last set-address.
	const out: number[] = [];
	let pointer = 0;
	for (const e of r.log) {
		if (isDnload(e) && e.value === 0 && e.data?.[0] === Command.SET_ADDRESS) pointer = new DataView(e.data.buffer, e.data.byteOffset).getUint32(1, true);
		else if (isDataDnload(e)) out.push(pointer + (e.value - 2) * 2048);
	}
	return out;
};

describe('smart flash: the cases of issue #12 (STM32F405)', () => {
	const bf = image(betaflightLikeImage({bytes: 660 * KiB}));
	const touched = 9;

	it('the same image flashed again: 0 erases, 0 data DNLOADs, every touched sector unchanged and not read twice', async () => {
		const first = await rig('stm32f405', {flash: pattern(flashSize('stm32f405'))});
		await flashImage(first.target, bf, {leave: false});
		const {next, result} = await again(first, bf);
		assert.deepEqual(result.erase, {mode: 'sectors', sectors: 0, bytes: 0, unchanged: touched, blank: 0});
		assert.equal(result.written, 0);
		assert.equal(result.kept + result.skipped, bf.bytes);
		assert.equal(next.log.filter(isDataDnload).length, 0);
		assert.deepEqual(eraseSet(next), []);
		assert.deepEqual(phasesInOrder(next.progress), ['compare', 'leave'], 'nothing to erase, write or verify');
		// The compare read each touched sector once in full: 752 KiB in 2 KiB blocks.
		assert.equal(next.log.filter((e) => e.phase === 'compare' && isUpload(e)).length, (752 * KiB) / 2048);
		assert.equal(result.verified, true);
	});

	it('onto a blank (mass-erased) chip: 0 erases, each block with data written once, then verified', async () => {
		const r = await rig('stm32f405');
		const result = await flashImage(r.target, bf, {onProgress: r.onProgress});
		assert.deepEqual(result.erase, {mode: 'sectors', sectors: 0, bytes: 0, unchanged: 0, blank: touched});
		assert.deepEqual(eraseSet(r), []);
		const sent = writtenAddresses(r);
		assert.equal(new Set(sent).size, sent.length, 'no block sent twice');
		assert.equal(result.written, sent.length * 2048);
		assert.equal(result.written + result.skipped, bf.bytes);
		assert.deepEqual(phasesInOrder(r.progress), ['compare', 'write', 'verify', 'leave']);
	});

	it('an image that differs from the board in one 128 KiB sector: that sector alone is erased and written', async () => {
		const first = await rig('stm32f405');
		await flashImage(first.target, bf, {leave: false});
		const changed = bf.segments.map((s) => ({address: s.address, data: s.data.slice()}));
		const inside = 0x08060000 + 1000;
		changed[1]!.data[inside - changed[1]!.address] ^= 0x5a;
		const {next, result} = await again(first, image(changed));
		assert.deepEqual(eraseSet(next), [0x08060000]);
		assert.deepEqual(result.erase, {mode: 'sectors', sectors: 1, bytes: 128 * KiB, unchanged: touched - 1, blank: 0});
		assert.ok(writtenAddresses(next).every((a) => sectorOf(next, a).start === 0x08060000), 'only that sector written');
		assert.equal(next.dev.bootloader.flash[inside - FLASH], changed[1]!.data[inside - changed[1]!.address]);
		// The compare found the difference at the first block of that sector.
		assert.equal(next.log.filter((e) => e.phase === 'compare' && isUpload(e)).length, (752 - 128) * KiB / 2048 + 1);
		// Verify read back only the sector that was erased and written.
		assert.equal(next.log.filter((e) => e.phase === 'verify' && isUpload(e)).length, (128 * KiB) / 2048);
	});

	it('a new image, every sector different: every touched sector erased; the compare cost one block each', async () => {
		const r = await rig('stm32f405', {flash: pattern(flashSize('stm32f405'))});
		const img = image(fullImage(1024 * KiB, 77));
		const result = await flashImage(r.target, img, {leave: false, onProgress: r.onProgress});
		assert.equal(result.erase.sectors, 12);
		assert.equal(r.log.filter((e) => e.phase === 'compare' && isUpload(e)).length, 12);
		assert.equal(firstDiff(r.dev.bootloader.flash, img.segments[0]!.data), -1);
	});

	it('blocks that are right or blank: written in place, only the blank ones that should hold data are sent', async () => {
		const data = fullImage(128 * KiB, 5)[0]!.data;
		const before = new Uint8Array(flashSize('stm32f405')).fill(0xff);
		before.set(data.subarray(0, 64 * KiB), 0x20000); // sector 5: first half already right, second half blank
		const r = await rig('stm32f405', {flash: before});
		const result = await flashImage(r.target, image([{address: 0x08020000, data}]), {leave: false});
		assert.deepEqual(result.erase, {mode: 'sectors', sectors: 0, bytes: 0, unchanged: 0, blank: 1});
		assert.deepEqual(writtenAddresses(r), Array.from({length: 32}, (_, i) => 0x08030000 + i * 2048));
		assert.equal(result.kept, 64 * KiB);
		assert.equal(firstDiff(r.dev.bootloader.flash.subarray(0x20000, 0x40000), data), -1);
	});

	it('transfers: at most 3 per written block plus one set-address per run', async () => {
		const r = await rig('stm32f405');
		const result = await flashImage(r.target, bf, {verify: false, leave: false, onProgress: r.onProgress});
		const write = r.log.filter((e) => e.phase === 'write');
		const blocks = write.filter(isDataDnload).length;
		const setAddresses = commands(r.log, Command.SET_ADDRESS, 'write').length;
		assert.equal(blocks * 2048, result.written);
		assert.ok(setAddresses <= bf.segments.length, `${setAddresses} set-address for ${bf.segments.length} runs`);
		assert.ok(write.length <= 3 * blocks + 3 * setAddresses, `${write.length} transfers for ${blocks} blocks`);
	});

	it('a sector another program changes between the compare and the write is caught by verify', async () => {
		// Sector 5 holds the first half of the image, the second half is blank: written in place.
		const data = fullImage(128 * KiB, 8)[0]!.data;
		const full = image([{address: 0x08020000, data}]);
		const before = new Uint8Array(flashSize('stm32f405')).fill(0xff);
		before.set(data.subarray(0, 64 * KiB), 0x20000);
		for (const where of ['in a block about to be written', 'in a block that was right'] as const) {
			const r = await rig('stm32f405', {flash: before.slice()});
			// A byte the image holds as neither 0x00 nor 0xFF, set to its complement.
			const base = where === 'in a block about to be written' ? 0x10000 : 0;
			const offset = data.findIndex((b, i) => i >= base + 10 && b !== 0 && b !== 0xff);
			const at = 0x20000 + offset;
			let tampered = false;
			const result = flashImage(r.target, full, {
				onProgress: (p) => {
					r.onProgress(p);
					if (p.phase === 'write' && !tampered) {
						tampered = true;
						r.dev.bootloader.flash[at] = data[offset]! ^ 0xff;
					}
				},
			});
			await assert.rejects(result, (error: unknown) => {
				assert.ok(error instanceof VerifyError, `${where}: got ${String(error)}`);
				assert.equal(error.address, FLASH + at);
				return true;
			});
			assert.ok(tampered);
			assert.deepEqual(r.disconnects, [], 'no leave after a failed verify');
		}
	});

	it('H7: a block changed after the compare cannot be programmed (errPROG), never a false success', async () => {
		const data = fullImage(8 * KiB, 4)[0]!.data;
		const r = await rig('stm32h743');
		let tampered = false;
		await assert.rejects(
			flashImage(r.target, image([{address: FLASH, data}]), {
				verify: false,
				onProgress: (p) => {
					if (p.phase === 'write' && !tampered) {
						tampered = true;
						r.dev.bootloader.flash[4 * KiB] = 0x00;
					}
				},
			}),
			(error: unknown) => error instanceof DfuStatusError && /errPROG/.test(error.message),
		);
	});

	it('interrupted during the compare: CancelledError, nothing erased or written', async () => {
		const before = pattern(flashSize('stm32f405'));
		const r = await rig('stm32f405', {flash: before.slice()});
		const controller = new AbortController();
		await assert.rejects(
			flashImage(r.target, bf, {
				signal: controller.signal,
				onProgress: (p) => {
					r.onProgress(p);
					if (p.phase === 'compare' && p.done >= 64 * KiB) controller.abort();
				},
			}),
			(error: unknown) => error instanceof CancelledError && /nothing was erased or written/.test(error.message),
		);
		assert.deepEqual(eraseSet(r), []);
		assert.equal(r.log.filter(isDataDnload).length, 0);
		assert.equal(firstDiff(r.dev.bootloader.flash, before), -1, 'flash untouched');
	});

	it('verify reads every block of an erased sector: an erase that did nothing under a skipped 0xFF block is caught', async () => {
		// The image ends its sector with 0xFF blocks, never sent. The board holds the image's data already
		// and old bytes under those blocks; the sector's erase reports OK and does nothing (a lying clone).
		const data = fullImage(128 * KiB, 6)[0]!.data;
		data.fill(0xff, 96 * KiB);
		const before = pattern(flashSize('stm32f405'));
		before.set(data.subarray(0, 96 * KiB), 0x20000);
		const r = await rig('stm32f405', {flash: before, faults: {eraseIgnoredAt: 0x08020000}});
		await assert.rejects(flashImage(r.target, image([{address: 0x08020000, data}]), {leave: false}), (error: unknown) => {
			assert.ok(error instanceof VerifyError, `got ${String(error)}`);
			assert.equal(error.address, 0x08038000, 'the first byte under the skipped 0xFF blocks');
			assert.equal(error.expected, 0xff);
			return true;
		});
		assert.deepEqual(eraseSet(r), [0x08020000]);
	});

	it('rewrite: every touched sector erased and written without a compare (the plain path)', async () => {
		const first = await rig('stm32f405');
		await flashImage(first.target, bf, {leave: false});
		const {next, result} = await again(first, bf, {rewrite: true});
		assert.equal(result.erase.sectors, touched);
		assert.equal(result.erase.unchanged, 0);
		assert.ok(!next.progress.some((p) => p.phase === 'compare'));
		assert.equal(result.kept, 0);
	});

	it('read protection: the probe refuses before the compare reads anything', async () => {
		const r = await rig('stm32f405', {faults: {readProtected: true}});
		await assert.rejects(flashImage(r.target, bf, {onProgress: r.onProgress}), /read-protected/);
		assert.equal(r.progress.filter((p) => p.phase === 'compare').length, 0);
		assert.equal(r.log.filter(isUpload).length, 1, 'only the 4-byte probe');
	});
});
