import {test} from 'node:test';
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {join} from 'node:path';
import {FirmwareError} from '../source/errors.js';
import {parseHex} from '../source/firmware/hex.js';
import type {Segment} from '../source/firmware/image.js';
import {loadFirmware} from '../source/firmware/load.js';
import {betaflightLikeImage, fullImage, toIntelHex} from '../scripts/synthetic-firmware.js';
import {tempFiles} from './helpers/temp-files.js';
import {rejectsAt} from './helpers/firmware-errors.js';
import {hasTool} from './helpers/tools.js';

// The package is CommonJS (`module.exports = MemoryMap`) while its typings declare a default export.
const MemoryMap = createRequire(import.meta.url)('nrf-intel-hex') as typeof import('nrf-intel-hex').default;

const {dir, write} = tempFiles('fcflash-hex-');

/** One Intel HEX record with a correct checksum. */
function rec(type: number, offset: number, data: number[] = []): string {
	const bytes = [data.length, offset >> 8, offset & 0xff, type, ...data];
	const sum = (0x100 - (bytes.reduce((a, b) => a + b, 0) & 0xff)) & 0xff;
	return ':' + [...bytes, sum].map(b => b.toString(16).toUpperCase().padStart(2, '0')).join('');
}
const eof = ':00000001FF';
const range = (n: number, from = 0) => Array.from({length: n}, (_, i) => (from + i) & 0xff);

const rejects = (path: string, line: number, pattern: RegExp) => rejectsAt(path, `${path}:${line}`, pattern);

function sameSegments(actual: readonly Segment[], expected: readonly Segment[]) {
	assert.deepEqual(
		actual.map(s => [s.address, s.data.length]),
		expected.map(s => [s.address, s.data.length]),
	);
	for (let i = 0; i < expected.length; i++) assert.ok(Buffer.from(actual[i]!.data).equals(Buffer.from(expected[i]!.data)), `segment ${i} bytes`);
}


test('Betaflight-like F405 hex keeps the config-sector gap as two segments', async () => {
	const segments = betaflightLikeImage({target: 'STM32F405'});
	const path = write('bf.hex', toIntelHex(segments, {start: 0x080001c1}));
	const image = await loadFirmware(path);
	assert.equal(image.format, 'hex');
	assert.equal(image.segments.length, 2);
	assert.equal(image.segments[0]!.address, 0x08000000);
	assert.equal(image.segments[0]!.data.length, 0x4000);
	assert.equal(image.segments[1]!.address, 0x08008000);
	// Nothing from the config sector 0x08004000-0x08007FFF is in the image.
	for (const s of image.segments) assert.ok(s.address + s.data.length <= 0x08004000 || s.address >= 0x08008000);
	sameSegments(image.segments, segments);
	assert.equal(image.start, 0x080001c1);
	assert.equal(image.low, 0x08000000);
	assert.equal(image.bytes, 660 * 1024);
	assert.equal(image.ident?.target, 'STM32F405');
	assert.equal(image.ident?.version, '4.5.1');
});

test('CRLF, LF and lower-case hex digits give the same image', () => {
	const segments = betaflightLikeImage({bytes: 64 * 1024, seed: 3});
	const upperCrlf = parseHex('a.hex', Buffer.from(toIntelHex(segments, {eol: '\r\n'})));
	const lowerLf = parseHex('b.hex', Buffer.from(toIntelHex(segments, {eol: '\n', lowercase: true})));
	assert.match(toIntelHex(segments, {lowercase: true}), /^:020000040800f2\r\n/);
	sameSegments(upperCrlf.segments, segments);
	sameSegments(lowerLf.segments, segments);
});

test('type 02 extended segment address and type 03 start segment address', () => {
	const text = [rec(0x02, 0, [0x10, 0x00]), rec(0x00, 0x0010, range(4)), rec(0x03, 0, [0x12, 0x34, 0x56, 0x78]), eof, ''].join('\r\n');
	const image = parseHex('seg.hex', Buffer.from(text));
	assert.equal(image.segments.length, 1);
	assert.equal(image.segments[0]!.address, 0x10010);
	assert.deepEqual([...image.segments[0]!.data], [0, 1, 2, 3]);
	assert.equal(image.start, 0x1234 * 16 + 0x5678);
});

test('type 04 and type 05 records, and records that touch across a 64 KiB boundary join', () => {
	const text = [
		rec(0x04, 0, [0x08, 0x00]),
		rec(0x00, 0xfff0, range(16)),
		rec(0x04, 0, [0x08, 0x01]),
		rec(0x00, 0x0000, range(16, 16)),
		rec(0x05, 0, [0x08, 0x00, 0x01, 0xc1]),
		eof,
	].join('\n');
	const image = parseHex('lin.hex', Buffer.from(text));
	assert.deepEqual(image.segments.map(s => [s.address, s.data.length]), [[0x0800fff0, 32]]);
	assert.deepEqual([...image.segments[0]!.data], range(32));
	assert.equal(image.start, 0x080001c1);
});

test('records out of order are sorted; identical duplicates are accepted', () => {
	const text = [rec(0x00, 0x0020, range(16, 0x20)), rec(0x00, 0x0000, range(16)), rec(0x00, 0x0010, range(16, 0x10)), rec(0x00, 0x0008, range(8, 8)), eof].join('\n');
	const image = parseHex('order.hex', Buffer.from(text));
	assert.deepEqual(image.segments.map(s => [s.address, s.data.length]), [[0, 48]]);
	assert.deepEqual([...image.segments[0]!.data], range(48));
});

test('a 1 MiB image parses well under 300 ms', t => {
	const segments = fullImage(1024 * 1024);
	const text = Buffer.from(toIntelHex(segments));
	let best = Infinity;
	for (let i = 0; i < 3; i++) {
		const t0 = performance.now();
		const image = parseHex('full.hex', text);
		best = Math.min(best, performance.now() - t0);
		assert.equal(image.bytes, 1024 * 1024);
	}
	t.diagnostic(`1 MiB hex (${text.length} bytes of text): best of 3 parses ${best.toFixed(1)} ms`);
	assert.ok(best < 300, `took ${best} ms`);
});

test('bad checksum names the line', async () => {
	const bad = rec(0x00, 0x0010, range(16)).slice(0, -2) + '00';
	const error = await rejects(write('cs.hex', [rec(0x04, 0, [0x08, 0]), rec(0x00, 0, range(16)), bad, eof].join('\r\n')), 3, /bad checksum/);
	assert.match(error.message, /record says 0x00/);
});

test('a non-hex digit names the line and column', async () => {
	const line = rec(0x00, 0, range(16));
	const broken = line.slice(0, 12) + 'G' + line.slice(13);
	await rejects(write('digit.hex', [rec(0x04, 0, [0x08, 0]), broken, eof].join('\n')), 2, /'G' at column 13 is not a hex digit/);
});

test('a file that ends without an EOF record is truncated', async () => {
	await rejects(write('noeof.hex', [rec(0x04, 0, [0x08, 0]), rec(0x00, 0, range(16)), rec(0x00, 0x10, range(16)), ''].join('\r\n')), 3, /no EOF record.*truncated/);
});

test('a file cut mid-record names the cut line', async () => {
	const text = [rec(0x04, 0, [0x08, 0]), rec(0x00, 0, range(16)), rec(0x00, 0x10, range(16)).slice(0, 21)].join('\r\n');
	await rejects(write('cut.hex', text), 3, /odd number of hex digits|record length/);
});

test('overlapping records with different data name both lines', async () => {
	const text = [rec(0x04, 0, [0x08, 0]), rec(0x00, 0x0000, range(16)), rec(0x00, 0x0010, range(16, 16)), rec(0x00, 0x0008, range(8, 0x80)), eof].join('\n');
	const error = await rejects(write('overlap.hex', text), 4, /overlapping records with different data at 0x08000008/);
	assert.match(error.message, /line 2 has 0x08, line 4 has 0x80/);
});

test('an unknown record type names the line', async () => {
	await rejects(write('type.hex', [rec(0x00, 0, range(4)), rec(0x06, 0, [1, 2]), eof].join('\n')), 2, /unknown record type 0x06/);
});

test('empty and blank files are rejected at line 1', async () => {
	await rejects(write('empty.hex', ''), 1, /empty file/);
	await rejects(write('blank.hex', '\r\n\r\n  \n'), 1, /empty file/);
});

test('a file with only an EOF record has no data', async () => {
	const path = write('only-eof.hex', eof + '\n');
	await assert.rejects(loadFirmware(path), (error: unknown) => error instanceof FirmwareError && error.exitCode === 2 && error.message.includes(path) && /no data/.test(error.message));
});

test('binary data in a .hex: a renamed .bin and NUL bytes inside a line', async () => {
	const bin = fullImage(4096)[0]!.data;
	await rejects(write('renamed.hex', bin), 1, /binary data/);
	const text = Buffer.from([rec(0x04, 0, [0x08, 0]), rec(0x00, 0, range(16)), rec(0x00, 0x10, range(16)), eof].join('\r\n'));
	const at = text.indexOf(rec(0x00, 0x10, range(16))) + 10;
	const withNul = Buffer.concat([text.subarray(0, at), Buffer.from([0, 0, 0]), text.subarray(at)]);
	await rejects(write('nul.hex', withNul), 3, /binary data \(byte 0x00\)/);
});

test('data after the EOF record is rejected; blank lines after it are not', async () => {
	await rejects(write('after.hex', [rec(0x00, 0, range(4)), eof, rec(0x00, 4, range(4))].join('\n')), 3, /after the EOF record on line 2/);
	const ok = parseHex('tail.hex', Buffer.from([rec(0x00, 0, range(4)), eof, '', '', ''].join('\r\n')));
	assert.equal(ok.bytes, 4);
});

test('peer: nrf-intel-hex reads our writer the same, and we read its writer the same', () => {
	const segments = betaflightLikeImage({bytes: 48 * 1024, seed: 5});
	const theirs = MemoryMap.fromHex(toIntelHex(segments));
	assert.deepEqual([...theirs.keys()], segments.map(s => s.address));
	for (const s of segments) assert.ok(Buffer.from(theirs.get(s.address)!).equals(Buffer.from(s.data)));
	const map = new MemoryMap(segments.map(s => [s.address, s.data] as [number, Uint8Array]));
	sameSegments(parseHex('nrf.hex', Buffer.from(map.asHexString())).segments, segments);
});

test('peer: srec_cat reads our hex and writes one we read back the same', {skip: !hasTool('srec_cat') && 'srec_cat not on PATH (apt-get install srecord)'}, () => {
	const segments = betaflightLikeImage({bytes: 96 * 1024, seed: 9});
	const ours = write('srec-in.hex', toIntelHex(segments));
	// srec_cat re-encodes with 32-byte records; reading its output checks our reader against a peer writer.
	const theirs = join(dir, 'srec-out.hex');
	execFileSync('srec_cat', [ours, '-Intel', '-o', theirs, '-Intel', '-Output_Block_Size=32']);
	sameSegments(parseHex(theirs, readFileSync(theirs)).segments, segments);
	// Its binary of each segment matches our bytes: checks our writer against a peer reader.
	for (const [i, s] of segments.entries()) {
		const bin = join(dir, `srec-${i}.bin`);
		execFileSync('srec_cat', [ours, '-Intel', '-crop', String(s.address), String(s.address + s.data.length), '-offset', String(-s.address), '-o', bin, '-Binary']);
		assert.ok(readFileSync(bin).equals(Buffer.from(s.data)), `segment ${i}`);
	}
});

test('peer: arm-none-eabi-objcopy hex output parses to the same bytes', {skip: !hasTool('arm-none-eabi-objcopy') && 'arm-none-eabi-objcopy not on PATH (apt-get install binutils-arm-none-eabi)'}, () => {
	const data = fullImage(200 * 1024, 11)[0]!.data;
	const bin = write('objcopy-in.bin', data);
	const hex = join(dir, 'objcopy-out.hex');
	execFileSync('arm-none-eabi-objcopy', ['-I', 'binary', '-O', 'ihex', '--change-addresses', '0x08000000', bin, hex]);
	const image = parseHex(hex, readFileSync(hex));
	sameSegments(image.segments, [{address: 0x08000000, data}]);
	// And objcopy reads our gapped hex into the same bytes (gap filled with 0xFF for the comparison).
	const segments = betaflightLikeImage({bytes: 64 * 1024, seed: 4});
	const ours = write('objcopy-gap.hex', toIntelHex(segments));
	const flat = join(dir, 'objcopy-gap.bin');
	execFileSync('arm-none-eabi-objcopy', ['-I', 'ihex', '-O', 'binary', '--gap-fill', '0xff', ours, flat]);
	const expected = Buffer.alloc(0x8000 + segments[1]!.data.length, 0xff);
	for (const s of segments) expected.set(s.data, s.address - 0x08000000);
	assert.ok(readFileSync(flat).equals(expected));
});
