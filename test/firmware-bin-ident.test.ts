import {test} from 'node:test';
import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import {execFileSync} from 'node:child_process';
import {chmodSync, readFileSync, readdirSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {FirmwareError, UsageError} from '../source/errors.js';
import {parseBin} from '../source/firmware/bin.js';
import {findIdent, parseIdent} from '../source/firmware/ident.js';
import {makeImage} from '../source/firmware/image.js';
import {describeImage, loadFirmware, parseFirmware} from '../source/firmware/load.js';
import {betaflightLikeImage, fullImage, identString, toIntelHex} from '../scripts/synthetic-firmware.js';
import {tempFiles} from './helpers/temp-files.js';

const {dir, write} = tempFiles('fcflash-bin-');

function isBadFile(path: string, pattern: RegExp) {
	return (error: unknown) => {
		assert.ok(error instanceof FirmwareError, String(error));
		assert.equal(error.exitCode, 2);
		assert.ok(error.message.includes(path), error.message);
		assert.match(error.message, pattern);
		return true;
	};
}

test('.bin goes to 0x08000000 by default, or to --address', async () => {
	const data = fullImage(4096)[0]!.data;
	const path = write('fw.bin', data);
	const image = await loadFirmware(path);
	assert.equal(image.format, 'bin');
	assert.deepEqual(image.segments.map(s => [s.address, s.data.length]), [[0x08000000, 4096]]);
	assert.equal(image.start, null);
	const moved = await loadFirmware(path, {address: 0x08008000});
	assert.equal(moved.low, 0x08008000);
	assert.equal(moved.high, 0x08009000);
});

test('an empty .bin is an error naming the file', async () => {
	const path = write('empty.bin', new Uint8Array(0));
	await assert.rejects(loadFirmware(path), isBadFile(path, /empty file/));
});

test('--address for a .hex or .dfu is a usage error', async () => {
	const path = write('fw.hex', toIntelHex(betaflightLikeImage({bytes: 32 * 1024})));
	await assert.rejects(loadFirmware(path, {address: 0x08000000}), (error: unknown) => {
		assert.ok(error instanceof UsageError);
		assert.equal(error.exitCode, 2);
		assert.match(error.message, /--address only applies to \.bin files/);
		return true;
	});
	assert.throws(() => parseBin('x.bin', new Uint8Array(4), -1), UsageError);
});

test('missing file, directory and unreadable file name the path (exit 2)', async () => {
	const missing = join(dir, 'nope.hex');
	await assert.rejects(loadFirmware(missing), isBadFile(missing, /no such file/));
	await assert.rejects(loadFirmware(dir), isBadFile(dir, /directory/));
	if (process.getuid?.() !== 0) {
		const locked = write('locked.bin', new Uint8Array(8));
		chmodSync(locked, 0o000);
		await assert.rejects(loadFirmware(locked), isBadFile(locked, /permission denied/));
	}
});

test('unknown extension: sniffed as hex by ":", refused when it looks like nothing', async () => {
	const hex = await loadFirmware(write('firmware.txt', '\r\n' + toIntelHex(betaflightLikeImage({bytes: 32 * 1024}))));
	assert.equal(hex.format, 'hex');
	const path = write('firmware.img', new Uint8Array([1, 2, 3]));
	await assert.rejects(loadFirmware(path), isBadFile(path, /unknown file type/));
	assert.equal(parseFirmware('FW.HEX', Buffer.from(':0400000001020304F2\n:00000001FF\n')).format, 'hex');
});

test('makeImage sorts, joins touching segments, keeps gaps, drops empty ones, refuses overlaps', () => {
	const image = makeImage('m.bin', 'bin', [
		{address: 0x20, data: new Uint8Array([3])},
		{address: 0x10, data: new Uint8Array([1, 1])},
		{address: 0x12, data: new Uint8Array([2])},
		{address: 0x18, data: new Uint8Array(0)},
	], null);
	assert.deepEqual(image.segments.map(s => [s.address, [...s.data]]), [[0x10, [1, 1, 2]], [0x20, [3]]]);
	assert.deepEqual([image.bytes, image.low, image.high], [4, 0x10, 0x21]);
	assert.throws(() => makeImage('o.bin', 'bin', [{address: 0, data: new Uint8Array(4)}, {address: 2, data: new Uint8Array(4)}], null), isBadFile('o.bin', /overlaps at 0x00000002/));
	assert.throws(() => makeImage('z.bin', 'bin', [{address: 0, data: new Uint8Array(0)}], null), isBadFile('z.bin', /no data/));
});

test('describeImage gives the inspect JSON facts', async () => {
	const segments = betaflightLikeImage({bytes: 64 * 1024, seed: 8});
	const path = write('desc.hex', toIntelHex(segments, {start: 0x080001c1}));
	const facts = describeImage(await loadFirmware(path));
	assert.deepEqual(facts, {
		file: path,
		format: 'hex',
		bytes: 64 * 1024,
		segments: segments.map(s => ({address: s.address, length: s.data.length, sha256: createHash('sha256').update(s.data).digest('hex')})),
		start: 0x080001c1,
		ident: {flavour: 'Betaflight', target: 'STM32F405', version: '4.5.1', date: 'Nov 24 2026'},
	});
	assert.doesNotThrow(() => JSON.parse(JSON.stringify(facts)));
});

test('ident: Betaflight, Cleanflight and both INAV shapes; absent gives null', () => {
	assert.deepEqual(parseIdent(identString('STM32F405')), {
		flavour: 'Betaflight',
		target: 'STM32F405',
		version: '4.5.1',
		date: 'Nov 24 2026',
		revision: 'c155f5830',
		raw: 'Betaflight / STM32F405 (S405) 4.5.1 Nov 24 2026 / 12:00:00 (c155f5830) MSP API: 1.46',
	});
	assert.equal(parseIdent('Cleanflight / SPRACINGF3 (SRF3) 2.5.0 Mar  3 2020 / 10:00:00 (abc1234) MSP API: 1.40')?.date, 'Mar 3 2020');
	assert.deepEqual(parseIdent('INAV 7.1.2 (abcdef12) MATEKF405'), {flavour: 'INAV', target: 'MATEKF405', version: '7.1.2', date: '', revision: 'abcdef12', raw: 'INAV 7.1.2 (abcdef12) MATEKF405'});
	assert.equal(parseIdent('INAV/MATEKF722SE 8.0.0 Jan 10 2025 / 09:08:07 (0badc0de)')?.target, 'MATEKF722SE');
	assert.equal(parseIdent('INAV/MATEKF722SE 8.0.0 Jan 10 2025 / 09:08:07 (0badc0de)')?.revision, '0badc0de');
	assert.equal(parseIdent('Betaflight rocks'), null);
});

test('findIdent searches the image bytes, ignores bare flavour names, stops at NUL', () => {
	const data = new Uint8Array(64 * 1024).fill(0x5a);
	const text = Buffer.from('Betaflight\0 junk INAV\0' + identString('STM32H743', '4.6.0') + '\0Betaflight', 'latin1');
	data.set(text, 40000);
	const ident = findIdent([{address: 0x08000000, data: new Uint8Array(16)}, {address: 0x08010000, data}]);
	assert.equal(ident?.target, 'STM32H743');
	assert.equal(ident?.version, '4.6.0');
	assert.equal(findIdent([{address: 0, data: new Uint8Array(1024)}]), null);
	assert.equal(parseBin('x.bin', data).ident?.target, 'STM32H743');
});

test('synthetic generator: deterministic, gap, erased 2 KiB blocks, ident inside the code', () => {
	const a = betaflightLikeImage({seed: 4});
	const b = betaflightLikeImage({seed: 4});
	assert.ok(Buffer.from(a[1]!.data).equals(Buffer.from(b[1]!.data)));
	assert.ok(!Buffer.from(a[1]!.data).equals(Buffer.from(betaflightLikeImage({seed: 5})[1]!.data)));
	assert.deepEqual(a.map(s => s.address), [0x08000000, 0x08008000]);
	assert.equal(a[0]!.data.length + a[1]!.data.length, 660 * 1024);
	const code = a[1]!.data;
	let erased = 0;
	for (let at = 0; at + 2048 <= code.length; at += 2048) if (code.subarray(at, at + 2048).every(v => v === 0xff)) erased++;
	assert.ok(erased >= 10, `${erased} erased blocks`);
	assert.equal(findIdent(a)?.target, 'STM32F405');
	const full = fullImage();
	assert.deepEqual(full.map(s => [s.address, s.data.length]), [[0x08000000, 1024 * 1024]]);
});

test('synthetic generator CLI writes the demo files', async () => {
	const script = fileURLToPath(new URL('../scripts/synthetic-firmware.js', import.meta.url));
	const out = join(dir, 'demo');
	execFileSync(process.execPath, [script, out]);
	assert.deepEqual(readdirSync(out).sort(), ['betaflight-4.5.1-STM32F405.hex', 'betaflight-4.5.1-STM32F722.hex', 'full-1MiB.bin']);
	const f405 = await loadFirmware(join(out, 'betaflight-4.5.1-STM32F405.hex'));
	assert.equal(f405.ident?.target, 'STM32F405');
	assert.equal(f405.segments.length, 2);
	const f722 = await loadFirmware(join(out, 'betaflight-4.5.1-STM32F722.hex'));
	assert.equal(f722.ident?.target, 'STM32F7X2');
	assert.ok(f722.high <= 0x08080000, 'fits 512 KiB');
	assert.equal(readFileSync(join(out, 'full-1MiB.bin')).length, 1024 * 1024);
});
