// --unprotect through real libusb: the read-protected chip wipes itself, resets and leaves the bus;
// the job waits for it to come back (not opening the old device: that once gave "board
// disconnected", or exit 4 with the udev hint, as root) and flashes it.
import assert from 'node:assert/strict';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {test} from 'node:test';
import {betaflightLikeImage, flashBase, toIntelHex} from '../scripts/synthetic-firmware.js';
import {describe, repo, runHarness, skipReason} from './helpers/usb-harness.js';

const cli = join(repo ?? '', 'dist', 'cli.js');

test('flash --unprotect: the chip is wiped, resets, comes back after 1.5 s, and is flashed (exit 0)', {skip: skipReason, timeout: 120_000}, async () => {
	const dir = mkdtempSync(join(tmpdir(), 'usb-unprotect-'));
	try {
		const segments = betaflightLikeImage({bytes: 120 * 1024});
		const hex = join(dir, 'bf.hex');
		writeFileSync(hex, toIntelHex(segments));
		writeFileSync(join(dir, 'before.bin'), Buffer.alloc(1024 * 1024, 0x42));
		const run = await runHarness(
			['--profile', 'stm32f405', '--time-scale', '0.1', '--faults', JSON.stringify({readProtected: true}), '--on-disconnect', 'replug:1500', '--flash-in', join(dir, 'before.bin'), '--flash-out', join(dir, 'after.bin')],
			[process.execPath, cli, 'flash', hex, '--yes', '--json', '--unprotect'],
			100_000,
		);
		assert.equal(run.code, 0, describe(run));
		const events = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
		const result = events.at(-1)!;
		assert.equal(result.ok, true);
		assert.ok(events.some((e) => e.event === 'progress' && e.phase === 'unprotect' && e.expectedMs === 40_000), 'the wait for the board is reported');
		const flash = readFileSync(join(dir, 'after.bin'));
		for (const s of segments) assert.ok(flash.subarray(s.address - flashBase, s.address - flashBase + s.data.length).equals(Buffer.from(s.data)));
		// The unprotect wiped the rest, the old firmware's config sector included.
		assert.ok(flash.subarray(0x4000, 0x8000).every((b) => b === 0xff));
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});
