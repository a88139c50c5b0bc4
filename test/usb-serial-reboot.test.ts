// A flight controller running firmware on a serial port (a socat PTY with an emulated FC answering
// MSP) is asked to reboot into DFU; it vanishes and the emulated DFU board appears on the real USB
// path (umockdev + libusb). `fcflash-tui flash --device PORT` must go all the way through.
import assert from 'node:assert/strict';
import {appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {test} from 'node:test';
import {betaflightLikeImage, toIntelHex} from '../scripts/synthetic-firmware.js';
import {FakeFc} from './helpers/fake-fc.js';
import {describe, repo, runHarness, skipReason} from './helpers/usb-harness.js';
import {hasTool} from './helpers/tools.js';

const cli = join(repo ?? '', 'dist', 'cli.js');
const socatMissing = hasTool('socat') ? undefined : 'socat is not installed (apt-get install socat)';

test('flash --device PORT reboots the FC over MSP and flashes the DFU board that appears', {skip: skipReason ?? socatMissing, timeout: 120_000}, async () => {
	const dir = mkdtempSync(join(tmpdir(), 'usb-serial-'));
	const controlNote = join(dir, 'control-path');
	// The harness gives its command the hotplug FIFO; the wrapper hands us its path.
	let fc: FakeFc | undefined;
	try {
		fc = await FakeFc.start({
			variant: 'BTFL',
			apiVersion: '1.46',
			onReboot: () => {
				const control = readFileSync(controlNote, 'utf8').trim();
				appendFileSync(control, 'add\n');
			},
		});
		const segments = betaflightLikeImage();
		const hexPath = join(dir, 'bf.hex');
		writeFileSync(hexPath, toIntelHex(segments));
		const wrapper = `printf '%s' "$EMULATED_USB_CONTROL" > '${controlNote}'; exec "$@"`;
		const run = await runHarness(
			['--profile', 'stm32f405', '--time-scale', '0', '--start-unplugged', '--flash-out', join(dir, 'after.bin')],
			['/bin/sh', '-c', wrapper, 'sh', process.execPath, cli, 'flash', hexPath, '--device', fc.hostPath, '--yes', '--json', '--no-keep-settings'],
			90_000,
		);
		// This fake FC does not come back after the flash (its PTY is gone for good): the flash is
		// verified, but without its firmware back on the named port the job is a failure, not "ok".
		assert.equal(run.code, 1, describe(run));
		const events = run.stdout.trim().split('\n').map((line) => JSON.parse(line));
		const phases = [...new Set(events.filter((e) => e.event === 'progress').map((e) => e.phase))];
		// The emulated board is blank: the compare finds nothing to erase (smart flash).
		assert.deepEqual(phases, ['reboot', 'wait', 'compare', 'write', 'verify', 'leave', 'firmware']);
		const result = events.at(-1);
		assert.equal(result.ok, false);
		assert.equal(result.error.hintId, 'no-firmware');
		assert.match(result.error.message, /did not come back as a flight controller/);
		// The FC saw MSP identification and the reboot-into-ROM request.
		assert.equal(fc.reboot?.method, 'msp');
		assert.equal(fc.reboot?.mode, 1);
		assert.ok(existsSync(join(dir, 'after.bin')));
		const flash = readFileSync(join(dir, 'after.bin'));
		for (const s of segments) {
			assert.ok(Buffer.from(s.data).equals(flash.subarray(s.address - 0x08000000, s.address - 0x08000000 + s.data.length)));
		}
	} finally {
		await fc?.close();
		rmSync(dir, {recursive: true, force: true});
	}
});
