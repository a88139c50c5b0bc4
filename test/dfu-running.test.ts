// What a board in DFU runs, read from its flash: the ident is found wherever it sits (across a
// block boundary too), the read stops soon after it, and blank or read-protected flash says so.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readRunningFirmware} from '../source/dfu/running.js';
import {ReadProtectedError} from '../source/errors.js';
import {identString} from '../scripts/synthetic-firmware.js';
import {FLASH, flashSize, isUpload, KiB, pattern, rig} from './helpers/engine-rig.js';

function flashWith(ident: string, at: number): Uint8Array {
	const flash = new Uint8Array(flashSize('stm32f405')).fill(0xff);
	flash.set(pattern(256 * KiB), 0);
	flash.set(Buffer.from(ident + '\0', 'latin1'), at);
	return flash;
}

test('the ident of the firmware on the board, split across two upload blocks, and the read stops after it', async () => {
	const ident = identString('STM32F405', '4.5.6');
	const r = await rig('stm32f405', {flash: flashWith(ident, 100 * KiB - 40)});
	const size = r.target.transferSize;
	const found = await readRunningFirmware(r.target, FLASH, 512 * KiB);
	assert.equal(found.ident?.flavour, 'Betaflight');
	assert.equal(found.ident?.version, '4.5.6');
	assert.equal(found.ident?.target, 'STM32F405');
	assert.equal(found.ident?.raw, ident);
	assert.ok(found.read < 100 * KiB + 2 * size + 256, `read ${found.read} bytes, not the whole range`);
	const blocks = r.log.filter(isUpload).length;
	assert.equal(blocks * size, found.read);
});

test('an ident in the last bytes of the range is found; the range is clipped to the flash', async () => {
	const ident = identString('STM32F405', '2026.12.0');
	const end = flashSize('stm32f405');
	const r = await rig('stm32f405', {flash: flashWith(ident, end - ident.length - 1)});
	const found = await readRunningFirmware(r.target, FLASH + end - 8 * KiB, 64 * KiB);
	assert.equal(found.ident?.version, '2026.12.0');
	assert.equal(found.read, 8 * KiB);
});

test('blank flash or firmware without an ident: null, after reading the whole range', async () => {
	const r = await rig('stm32f405');
	const found = await readRunningFirmware(r.target, FLASH, 64 * KiB);
	assert.equal(found.ident, null);
	assert.equal(found.read, 64 * KiB);
});

test('a read-protected chip: the read throws ReadProtectedError (the job says "not known")', async () => {
	const r = await rig('stm32f405', {faults: {readProtected: true}});
	await assert.rejects(readRunningFirmware(r.target, FLASH, 64 * KiB), ReadProtectedError);
});
