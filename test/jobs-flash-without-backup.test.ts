// A pilot whose settings backup failed chose, in the TUI, to flash anyway. The backup's clean-up
// (`exit`) restarted the firmware, so its port goes away and comes back: the job waits for it before
// rebooting it into DFU, at a real board's pace too (at time scale 0 the reboot takes no time and
// hides the wait).
import assert from 'node:assert/strict';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, it} from 'node:test';
import {SimulatedSource} from '../source/devices/simulated.js';
import type {SerialBoard} from '../source/devices/types.js';
import {makeImage} from '../source/firmware/image.js';
import {startFlashJob} from '../source/jobs/flash-job.js';
import type {FlashReport} from '../source/jobs/types.js';
import {betaflightLikeImage} from '../scripts/synthetic-firmware.js';
import {drive} from './helpers/job-driver.js';

const state = mkdtempSync(join(tmpdir(), 'fcflash-nobackup-'));
process.env.FCFLASH_LOCK_DIR = state;
process.env.XDG_STATE_HOME = state;
after(() => rmSync(state, {recursive: true, force: true}));

it('go on without a backup: the job waits for the restarted firmware, then reboots it into DFU and flashes', {timeout: 60_000}, async () => {
	// The backups folder cannot be made: a file stands where a folder must go.
	writeFileSync(join(state, 'not-a-folder'), '');
	process.env.XDG_DATA_HOME = join(state, 'not-a-folder', 'data');
	const source = new SimulatedSource('stm32f722:fc', {timeScale: 0.3});
	try {
		const fc = (await source.list()).find((b): b is SerialBoard => b.kind === 'serial')!;
		const img = makeImage('bf-f722.hex', 'hex', betaflightLikeImage({target: 'STM32F7X2', bytes: 48 * 1024, seed: 9, version: '4.5.6'}), null);
		const asked: string[] = [];
		const {result} = await drive<FlashReport>((l) => startFlashJob({source, interaction: 'full'}, {board: fc, image: img, waitMs: 20_000}, l), (q) => {
			asked.push(q.kind);
			return 'yes';
		});
		assert.deepEqual(asked, ['confirm', 'continue-without-backup']);
		assert.equal(result.ok, true, result.error?.message);
		assert.equal(result.data?.verified, true);
		assert.equal(result.data?.firmware?.matchesImage, true, 'the new firmware runs');
		assert.ok(result.data?.warnings.some((w) => /without a settings backup/.test(w.text)));
	} finally {
		await source.close();
	}
});

it('a firmware whose CLI has no `bl`: after the backup it is restarted and rebooted over MSP instead, and flashed with its settings kept', {timeout: 60_000}, async () => {
	process.env.XDG_DATA_HOME = join(state, 'data');
	const source = new SimulatedSource('stm32f722:fc', {timeScale: 0.3, firmwareWithoutBl: true});
	try {
		const fc = (await source.list()).find((b): b is SerialBoard => b.kind === 'serial')!;
		const img = makeImage('bf-f722.hex', 'hex', betaflightLikeImage({target: 'STM32F7X2', bytes: 48 * 1024, seed: 10, version: '4.5.1'}), null);
		const {result, events} = await drive<FlashReport>((l) => startFlashJob({source, interaction: 'none'}, {board: fc, image: img, yes: true, waitMs: 20_000}, l));
		assert.equal(result.ok, true, result.error?.message);
		assert.ok(result.data?.settings?.backup, 'backed up first');
		assert.equal(result.data?.settings?.restored, true, 'and restored after');
		assert.ok(events.some((e) => e.type === 'info' && /`bl` did not reboot it/.test(e.text)), 'says why it reboots another way');
	} finally {
		await source.close();
	}
});
