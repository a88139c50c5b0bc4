// DfuSe memory layout strings (the iInterface text of each alternate setting).
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {findSector, layoutRanges, layoutSize, LayoutError, parseLayout} from '../source/dfu/layout.js';

const KiB = 1024;

describe('parseLayout', () => {
	it('parses the F405 main flash', () => {
		const l = parseLayout('@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg');
		assert.equal(l.name, 'Internal Flash');
		assert.equal(l.sectors.length, 12);
		assert.deepEqual(
			l.sectors.map((s) => [s.start, s.size]),
			[
				[0x08000000, 16 * KiB],
				[0x08004000, 16 * KiB],
				[0x08008000, 16 * KiB],
				[0x0800c000, 16 * KiB],
				[0x08010000, 64 * KiB],
				[0x08020000, 128 * KiB],
				[0x08040000, 128 * KiB],
				[0x08060000, 128 * KiB],
				[0x08080000, 128 * KiB],
				[0x080a0000, 128 * KiB],
				[0x080c0000, 128 * KiB],
				[0x080e0000, 128 * KiB],
			],
		);
		assert.ok(l.sectors.every((s) => s.readable && s.erasable && s.writable));
		assert.equal(layoutSize(l), 1024 * KiB);
		assert.deepEqual(layoutRanges(l), [{start: 0x08000000, end: 0x08100000}]);
		assert.equal(findSector(l, 0x08007fff)?.start, 0x08004000);
		assert.equal(findSector(l, 0x08100000), undefined);
	});

	it('parses the other F405 alternate settings (byte units with a space)', () => {
		const ob = parseLayout('@Option Bytes  /0x1FFFC000/01*016 e');
		assert.equal(ob.name, 'Option Bytes');
		assert.deepEqual(ob.sectors, [{start: 0x1fffc000, size: 16, readable: true, erasable: false, writable: true}]);

		const otp = parseLayout('@OTP Memory /0x1FFF7800/01*512 e,01*016 e');
		assert.equal(otp.name, 'OTP Memory');
		assert.deepEqual(otp.sectors.map((s) => [s.start, s.size]), [[0x1fff7800, 512], [0x1fff7a00, 16]]);

		const feature = parseLayout('@Device Feature/0xFFFF0000/01*004 e');
		assert.equal(feature.name, 'Device Feature');
		assert.deepEqual(feature.sectors.map((s) => [s.start, s.size]), [[0xffff0000, 4]]);
	});

	it('parses two address groups in one string', () => {
		const l = parseLayout('@Option Bytes  /0x1FFFC000/01*016 e/0x1FFEC000/01*016 e');
		assert.equal(l.name, 'Option Bytes');
		assert.deepEqual(l.sectors.map((s) => [s.start, s.size]), [[0x1fffc000, 16], [0x1ffec000, 16]]);
		assert.deepEqual(layoutRanges(l), [{start: 0x1ffec000, end: 0x1ffec010}, {start: 0x1fffc000, end: 0x1fffc010}]);
		assert.equal(layoutSize(l), 32);
	});

	it('parses the two-bank F42x layout', () => {
		const l = parseLayout('@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg,04*016Kg,01*064Kg,07*128Kg');
		assert.equal(l.sectors.length, 24);
		assert.equal(layoutSize(l), 2048 * KiB);
		assert.equal(l.sectors[12]!.start, 0x08100000);
		assert.equal(l.sectors[12]!.size, 16 * KiB);
	});

	it('parses M units', () => {
		const l = parseLayout('@Big /0x90000000/02*001Mg');
		assert.deepEqual(l.sectors.map((s) => [s.start, s.size]), [[0x90000000, 1024 * KiB], [0x90100000, 1024 * KiB]]);
	});

	it('maps the type letters to readable/erasable/writable bits', () => {
		const bits = (letter: string) => {
			const [s] = parseLayout(`@X/0x08000000/01*001K${letter}`).sectors;
			return {readable: s!.readable, erasable: s!.erasable, writable: s!.writable};
		};
		assert.deepEqual(bits('a'), {readable: true, erasable: false, writable: false});
		assert.deepEqual(bits('b'), {readable: false, erasable: true, writable: false});
		assert.deepEqual(bits('c'), {readable: true, erasable: true, writable: false});
		assert.deepEqual(bits('d'), {readable: false, erasable: false, writable: true});
		assert.deepEqual(bits('e'), {readable: true, erasable: false, writable: true});
		assert.deepEqual(bits('f'), {readable: false, erasable: true, writable: true});
		assert.deepEqual(bits('g'), {readable: true, erasable: true, writable: true});
	});

	it('accepts the H7 and AT32 strings', () => {
		const h7 = parseLayout('@Internal Flash   /0x08000000/16*128Kg');
		assert.equal(h7.sectors.length, 16);
		assert.equal(layoutSize(h7), 2048 * KiB);
		const at = parseLayout('@Internal Flash  /0x08000000/256*04Kg');
		assert.equal(at.sectors.length, 256);
		assert.equal(at.sectors[255]!.start, 0x08000000 + 255 * 4 * KiB);
	});

	for (const bad of [
		'',
		'Internal Flash /0x08000000/04*016Kg',
		'@Internal Flash',
		'@Internal Flash /0x08000000',
		'@Internal Flash /08000000/04*016Kg',
		'@Internal Flash /0xZZ/04*016Kg',
		'@Internal Flash /0x08000000/04*016Kh',
		'@Internal Flash /0x08000000/04*016Qg',
		'@Internal Flash /0x08000000/*016Kg',
		'@Internal Flash /0x08000000/04*016Kg,',
		'@Internal Flash /0x08000000/',
	]) {
		it(`rejects ${JSON.stringify(bad)}`, () => {
			assert.throws(() => parseLayout(bad), LayoutError);
		});
	}
});
