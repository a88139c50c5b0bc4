// fcflash-tui on the real USB path: node-usb 2.x and libusb talk to the emulated bootloader through
// umockdev (scripts/with-emulated-usb), and dfu-util, a client we did not write, reads the result.
import assert from 'node:assert/strict';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {test} from 'node:test';
import {betaflightLikeImage, toIntelHex} from '../scripts/synthetic-firmware.js';
import {describe, here, repo, runHarness, skipReason} from './helpers/usb-harness.js';

const cli = join(repo ?? '', 'dist', 'cli.js');
const flashSize = 1024 * 1024;
const base = 0x08000000;

test('flash through libusb, then dfu-util uploads exactly the image with the config sector untouched', {skip: skipReason, timeout: 120_000}, async () => {
	const dir = mkdtempSync(join(tmpdir(), 'usb-flash-'));
	try {
		const segments = betaflightLikeImage();
		const hexPath = join(dir, 'bf.hex');
		writeFileSync(hexPath, toIntelHex(segments));
		// The board already holds old firmware and settings: 0x5A everywhere.
		const before = Buffer.alloc(flashSize, 0x5a);
		writeFileSync(join(dir, 'before.bin'), before);

		const flash = await runHarness(
			['--profile', 'stm32f405', '--time-scale', '0', '--flash-in', join(dir, 'before.bin'), '--flash-out', join(dir, 'after.bin')],
			[process.execPath, cli, 'flash', hexPath, '--yes', '--json'],
		);
		assert.equal(flash.code, 0, describe(flash));
		const result = JSON.parse(flash.stdout.trim().split('\n').at(-1)!);
		assert.equal(result.ok, true);
		assert.equal(result.verified, true);
		assert.equal(result.erase.mode, 'sectors');

		// dfu-util reads the whole flash back from the board as the flash left it.
		const upload = join(dir, 'upload.bin');
		const read = await runHarness(
			['--profile', 'stm32f405', '--flash-in', join(dir, 'after.bin')],
			['dfu-util', '-a', '0', '-s', `0x08000000:${flashSize}`, '-U', upload],
		);
		assert.equal(read.code, 0, describe(read));
		const flashBytes = readFileSync(upload);
		assert.equal(flashBytes.length, flashSize);
		for (const s of segments) {
			const got = flashBytes.subarray(s.address - base, s.address - base + s.data.length);
			assert.ok(Buffer.from(s.data).equals(got), `segment at 0x${s.address.toString(16)} differs`);
		}
		// The config sector (0x08004000, 16 KiB) is a gap in the image: never erased, still 0x5A.
		assert.ok(flashBytes.subarray(0x4000, 0x8000).every((b) => b === 0x5a), 'config sector was touched');
		// Past the image, inside its last sector, the erase left 0xFF; the sectors after it kept 0x5A.
		const end = segments.at(-1)!.address + segments.at(-1)!.data.length - base;
		assert.equal(flashBytes[end], 0xff);
		assert.ok(flashBytes.subarray(0xc0000).every((b) => b === 0x5a), 'sectors the image does not touch were erased');
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});

test('permission denied on the DFU device: udev/plugdev hint and exit code 4', {skip: skipReason, timeout: 60_000}, async () => {
	const dir = mkdtempSync(join(tmpdir(), 'usb-eacces-'));
	try {
		const hexPath = join(dir, 'bf.hex');
		writeFileSync(hexPath, toIntelHex(betaflightLikeImage()));
		const inject = join(here, 'helpers', 'inject-usb-eacces.js');
		const flash = await runHarness(['--profile', 'stm32f405'], [process.execPath, '--import', inject, cli, 'flash', hexPath, '--yes']);
		assert.equal(flash.code, 4, describe(flash));
		assert.match(flash.stderr, /LIBUSB_ERROR_ACCESS/);
		assert.match(flash.stderr, /udev/);
		assert.match(flash.stderr, /plugdev/);

		// The board is still listed, with the reason, rather than hidden.
		const list = await runHarness(['--profile', 'stm32f405'], [process.execPath, '--import', inject, cli, 'list', '--json']);
		assert.equal(list.code, 0, describe(list));
		const boards = JSON.parse(list.stdout.trim().split('\n').at(-1)!).boards;
		assert.equal(boards.length, 1);
		assert.equal(boards[0].problem.hint, 'udev');
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});
