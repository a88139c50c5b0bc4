import {test} from 'node:test';
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import zlib from 'node:zlib';
import {hex32} from '../source/format.js';
import {buildDfuFile, crc32, crc32Table, dfuCrc, parseDfuSegments} from '../source/firmware/dfu-file.js';
import {loadFirmware} from '../source/firmware/load.js';
import {betaflightLikeImage, toIntelHex} from '../scripts/synthetic-firmware.js';
import {tempFiles} from './helpers/temp-files.js';
import {rejectsAt} from './helpers/firmware-errors.js';
import {hasTool} from './helpers/tools.js';

const {write} = tempFiles('fcflash-dfu-');

/** Re-seal a file after editing it, so the CRC check passes and the edited field is what fails. */
function reseal(file: Uint8Array): Uint8Array {
	new DataView(file.buffer, file.byteOffset).setUint32(file.length - 4, dfuCrc(file.subarray(0, file.length - 4)), true);
	return file;
}

const rejects = (path: string, offset: number, pattern: RegExp) => rejectsAt(path, `${path} at offset ${offset}`, pattern);


const small = () => betaflightLikeImage({bytes: 40 * 1024, seed: 21});
// Offsets in a one-target file: prefix 11 bytes, target prefix 274, then the first element.
const firstElement = 11 + 274;

test('CRC-32: table and zlib agree on the check value; the DFU CRC has no final XOR', () => {
	const check = Buffer.from('123456789');
	assert.equal(crc32Table(check), 0xcbf43926);
	assert.equal(crc32(check), 0xcbf43926);
	assert.equal(dfuCrc(check), ~0xcbf43926 >>> 0);
	const random = betaflightLikeImage({bytes: 24 * 1024, seed: 2})[1]!.data;
	assert.equal(crc32Table(random), crc32(random));
	const native = (zlib as {crc32?: (d: Uint8Array) => number}).crc32;
	if (native) assert.equal(crc32Table(random), native(random) >>> 0);
});

test('round trip hex -> image -> dfu -> image keeps segments, gap and ident', async () => {
	const segments = betaflightLikeImage({target: 'STM32F7X2', bytes: 440 * 1024, seed: 2});
	const fromHex = await loadFirmware(write('rt.hex', toIntelHex(segments)));
	const dfu = buildDfuFile(fromHex.segments, {vid: 0x0483, pid: 0xdf11});
	const fromDfu = await loadFirmware(write('rt.dfu', dfu));
	assert.equal(fromDfu.format, 'dfu');
	assert.deepEqual(
		fromDfu.segments.map(s => [s.address, s.data.length]),
		fromHex.segments.map(s => [s.address, s.data.length]),
	);
	for (let i = 0; i < segments.length; i++) assert.ok(Buffer.from(fromDfu.segments[i]!.data).equals(Buffer.from(segments[i]!.data)));
	assert.equal(fromDfu.segments.length, 2);
	assert.equal(fromDfu.bytes, fromHex.bytes);
	assert.deepEqual(fromDfu.ident, fromHex.ident);
	assert.equal(fromDfu.ident?.target, 'STM32F7X2');
	assert.equal(fromDfu.start, null);
	const facts = parseDfuSegments('rt.dfu', dfu);
	assert.deepEqual([facts.vid, facts.pid], [0x0483, 0xdf11]);
});

test('the prefix size field counts prefix + targets; the suffix is the 16 bytes dfu-util expects', () => {
	const file = buildDfuFile(small(), {vid: 0x1234, pid: 0x5678, bcdDevice: 0x2200});
	const view = new DataView(file.buffer);
	assert.equal(Buffer.from(file.subarray(0, 5)).toString(), 'DfuSe');
	assert.equal(view.getUint32(6, true), file.length - 16);
	const s = file.length - 16;
	assert.deepEqual([view.getUint16(s, true), view.getUint16(s + 2, true), view.getUint16(s + 4, true), view.getUint16(s + 6, true)], [0x2200, 0x5678, 0x1234, 0x011a]);
	assert.equal(Buffer.from(file.subarray(s + 8, s + 11)).toString(), 'UFD');
	assert.equal(file[s + 11], 16);
});

test('CRC mismatch names the CRC offset and both values', async () => {
	const file = buildDfuFile(small());
	const stored = new DataView(file.buffer).getUint32(file.length - 4, true);
	file[firstElement + 8 + 100]! ^= 0x01;
	const computed = dfuCrc(file.subarray(0, file.length - 4));
	const error = await rejects(write('crc.dfu', file), file.length - 4, /CRC mismatch/);
	assert.ok(error.message.includes(hex32(stored)) && error.message.includes(hex32(computed)), error.message);
});

test('prefix size field that disagrees with the file size', async () => {
	const file = buildDfuFile(small());
	new DataView(file.buffer).setUint32(6, file.length + 100, true);
	await rejects(write('size.dfu', reseal(file)), 6, /prefix says/);
});

test('an element that runs past its target names the element offset', async () => {
	const file = buildDfuFile(small());
	const view = new DataView(file.buffer);
	view.setUint32(firstElement + 4, view.getUint32(firstElement + 4, true) + 0x100000, true);
	await rejects(write('elem.dfu', reseal(file)), firstElement, /element 0 .* runs past the end of its target/);
});

test('a second element past the end names its own offset', async () => {
	const segments = small();
	const file = buildDfuFile(segments);
	const second = firstElement + 8 + segments[0]!.data.length;
	const view = new DataView(file.buffer);
	view.setUint32(second + 4, view.getUint32(second + 4, true) + 1, true);
	await rejects(write('elem2.dfu', reseal(file)), second, /element 1/);
});

test('a target for another alternate setting (option bytes) is refused', async () => {
	const file = buildDfuFile([{address: 0x1fffc000, data: new Uint8Array(16)}], {alt: 1, name: 'Option Bytes'});
	await rejects(write('alt.dfu', file), 11 + 6, /alternate setting 1 \("Option Bytes"\): only alt 0 \(internal flash\) is supported/);
});

test('not a DfuSe file, a truncated one, and an empty one', async () => {
	await rejects(write('plain.dfu', Buffer.alloc(64, 0x41)), 0, /not a DfuSe file/);
	const file = buildDfuFile(small());
	await rejects(write('cut.dfu', file.subarray(0, file.length - 1000)), file.length - 1000 - 8, /no DFU suffix/);
	await rejects(write('empty.dfu', new Uint8Array(0)), 0, /empty file/);
});

test('a DfuSe file without a .dfu extension is recognised by its prefix', async () => {
	const image = await loadFirmware(write('firmware.img', buildDfuFile(small())));
	assert.equal(image.format, 'dfu');
	assert.equal(image.segments.length, 2);
});

test('peer: dfu-suffix accepts our suffix and writes the identical one', {skip: !hasTool('dfu-suffix') && 'dfu-suffix not on PATH (apt-get install dfu-util)'}, () => {
	const file = buildDfuFile(small(), {vid: 0x0483, pid: 0xdf11, bcdDevice: 0xffff});
	const path = write('peer.dfu', file);
	const out = execFileSync('dfu-suffix', ['-c', path], {encoding: 'utf8'});
	assert.match(out, /CRC:\s+0x/);
	const bare = write('peer-bare.dfu', file.subarray(0, file.length - 16));
	execFileSync('dfu-suffix', ['-v', '0483', '-p', 'df11', '-d', 'ffff', '-S', '011a', '-a', bare], {stdio: 'ignore'});
	assert.ok(readFileSync(bare).equals(Buffer.from(file)));
});
