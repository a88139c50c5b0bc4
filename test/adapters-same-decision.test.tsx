// One policy, two front ends. Each case runs the CLI's front end (runCliJob with a JSON reporter, as
// `flash --yes --json` does) and the TUI (the whole app through Ink, driven by keys as a pilot
// would) against the same emulated board, and both must reach the same decision and exit code:
// the target check, the fit check, the lock, read protection, a stop, a hang-up, a refused leave
// and a bad descriptor are decided once, in the job layer.
import assert from 'node:assert/strict';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, describe, it} from 'node:test';
import {Writable} from 'node:stream';
import {render} from 'ink-testing-library';
import {Reporter} from '../source/cli/reporter.js';
import {runCliJob} from '../source/cli/run-job.js';
import type {BoardSource} from '../source/devices/types.js';
import type {Faults, ProfileName} from '../source/emulator/types.js';
import {loadFirmware} from '../source/firmware/load.js';
import {acquireBoardLock} from '../source/jobs/board-lock.js';
import {startBackupJob} from '../source/jobs/backup-job.js';
import {startFlashJob} from '../source/jobs/flash-job.js';
import {startLeaveJob} from '../source/jobs/leave-job.js';
import {App, createApp} from '../source/screens/app.js';
import {makeTheme} from '../source/screens/theme.js';
import type {TuiServices} from '../source/screens/types.js';
import {betaflightLikeImage, fullImage, toIntelHex} from '../scripts/synthetic-firmware.js';
import {tick, waitFor} from './helpers/ink-frames.js';
import {OneBoardSource} from './helpers/job-driver.js';

const dir = mkdtempSync(join(tmpdir(), 'fcflash-adapters-'));
process.env.FCFLASH_LOCK_DIR = dir;
process.env.XDG_STATE_HOME = dir;
after(() => rmSync(dir, {recursive: true, force: true}));

const KiB = 1024;
const files = {
	f405: join(dir, 'betaflight_4.5.1_STM32F405.hex'),
	f7: join(dir, 'betaflight_4.5.1_STM32F7X2.hex'),
	big: join(dir, 'big.hex'),
};
writeFileSync(files.f405, toIntelHex(betaflightLikeImage({target: 'STM32F405', bytes: 300 * KiB})));
writeFileSync(files.f7, toIntelHex(betaflightLikeImage({target: 'STM32F7X2', bytes: 100 * KiB, seed: 5})));
writeFileSync(files.big, toIntelHex(fullImage(1024 * KiB)));

interface Decision {
	exitCode: number;
	hintId: string | null;
	/** The flash holds the image afterwards. */
	written: boolean;
}

interface Case {
	name: string;
	profile?: ProfileName;
	faults?: Faults;
	file: keyof typeof files;
	timeScale?: number;
	/** Before the run (a lock held by "another process"). */
	setup?: (source: OneBoardSource) => Promise<() => void>;
	/** What happens mid-flash: nothing, a stop (Ctrl-C; q then y), or a hang-up (SIGHUP). */
	during?: 'stop' | 'hangup';
	/** TUI: the answer at the confirmation (a wrong target: y does nothing, so the pilot goes back). */
	tuiConfirm?: 'y' | 'y-then-esc';
	/** TUI: the answer to the unprotect question. */
	tuiUnprotect?: 'n';
	expected: Decision;
}

const cases: Case[] = [
	{name: 'wrong target', file: 'f7', tuiConfirm: 'y-then-esc', expected: {exitCode: 2, hintId: 'target-mismatch', written: false}},
	{name: 'too big', profile: 'stm32f411', file: 'big', expected: {exitCode: 2, hintId: 'image-fit', written: false}},
	{
		name: 'locked board',
		file: 'f405',
		setup: (s) => acquireBoardLock(s.board.usbPath!),
		expected: {exitCode: 1, hintId: 'busy', written: false},
	},
	{name: 'read-protected', file: 'f405', faults: {readProtected: true}, tuiUnprotect: 'n', expected: {exitCode: 1, hintId: 'read-protect', written: false}},
	{name: 'interrupted', file: 'f405', timeScale: 0.05, during: 'stop', expected: {exitCode: 130, hintId: 'interrupted', written: false}},
	{name: 'hang-up', file: 'f405', timeScale: 0.05, during: 'hangup', expected: {exitCode: 0, hintId: null, written: true}},
	{name: 'refused leave', file: 'f405', faults: {leave: 'stall'}, expected: {exitCode: 1, hintId: 'still-in-dfu', written: true}},
	{name: 'bad descriptor', file: 'f405', faults: {descriptor: {transferSize: 0}}, expected: {exitCode: 1, hintId: 'bad-descriptor', written: false}},
];

const sink = () => new Writable({write: (_c, _e, cb) => cb()});

async function holds(source: OneBoardSource, file: string): Promise<boolean> {
	const image = await loadFirmware(file);
	return image.segments.every((s) => Buffer.from(source.core.flash.subarray(s.address - 0x08000000, s.address - 0x08000000 + s.data.length)).equals(Buffer.from(s.data)));
}

async function cli(c: Case): Promise<Decision> {
	const source = new OneBoardSource(c.profile ?? 'stm32f405', {faults: c.faults, timeScale: c.timeScale});
	const release = await c.setup?.(source);
	let json = '';
	const stdout = new Writable({write: (chunk, _e, cb) => ((json += chunk), cb())});
	const reporter = new Reporter('json', {stdout, stderr: sink()});
	let fired = false;
	try {
		const code = await runCliJob(reporter, (listener) =>
			startFlashJob({source, interaction: 'none'}, {file: files[c.file], yes: true}, (e) => {
				listener(e);
				if (!fired && c.during && e.type === 'progress' && e.phase === 'write' && e.done > 0) {
					fired = true;
					// What the terminal delivers: Ctrl-C is SIGINT, a dropped SSH session SIGHUP.
					process.emit(c.during === 'stop' ? 'SIGINT' : 'SIGHUP');
				}
			}),
		);
		const result = JSON.parse(json.trim().split('\n').at(-1)!) as {error?: {hintId: string | null}};
		return {exitCode: code, hintId: result.error?.hintId ?? null, written: await holds(source, files[c.file])};
	} finally {
		release?.();
	}
}

const keys = {enter: '\r', esc: '\x1b'};

async function tui(c: Case): Promise<Decision> {
	const source = new OneBoardSource(c.profile ?? 'stm32f405', {faults: c.faults, timeScale: c.timeScale});
	const release = await c.setup?.(source);
	const services: TuiServices = {
		openSource: async () => source as BoardSource,
		loadImage: (path, options) => loadFirmware(path, options),
		jobs: {flash: startFlashJob, backup: startBackupJob, leave: startLeaveJob},
		backupPath: () => join(dir, 'unused.bin'),
	};
	const exits: number[] = [];
	const app = createApp(services, {startDir: dir, preselect: files[c.file].split('/').at(-1), fullErase: false, verify: true, reboot: true, baud: 115200}, {columns: 100, rows: 30}, (code) => exits.push(code));
	const r = render(<App app={app} theme={makeTheme({unicode: true, color: false})} />);
	try {
		await waitFor(r.lastFrame, '1 board connected');
		r.stdin.write(keys.enter);
		await waitFor(r.lastFrame, /Firmware for/);
		await waitFor(r.lastFrame, /❯ .*\.hex/);
		await tick(100);
		r.stdin.write(keys.enter);
		await waitFor(r.lastFrame, 'Full chip erase');
		r.stdin.write(keys.enter);
		// The job asks (or, when it refuses before asking, ends): the TUI renders what it decided.
		const question = /Flash this board\?|Flash it anyway\?|Read-protected chip/;
		for (let i = 0; i < 3000 && !question.test(r.lastFrame() ?? '') && !app.store.getState().job?.result; i++) await tick(10);
		if (/Flash this board\?|Flash it anyway\?/.test(r.lastFrame() ?? '')) {
			r.stdin.write('y');
			if (c.tuiConfirm === 'y-then-esc') {
				await tick(200);
				assert.match(r.lastFrame() ?? '', /force/, 'y alone does nothing: the screen asks for the word force');
				r.stdin.write(keys.esc);
			}
		}
		if (c.tuiUnprotect) {
			await waitFor(r.lastFrame, 'Read-protected chip');
			r.stdin.write(c.tuiUnprotect);
		}
		if (c.during) {
			for (let i = 0; i < 2000; i++) {
				const job = app.store.getState().job;
				const p = job?.progress;
				if (p && p.phase === 'write' && p.done > 0) break;
				await tick(5);
			}
			if (c.during === 'stop') {
				r.stdin.write('q');
				await waitFor(r.lastFrame, /Stop/);
				r.stdin.write('y');
			} else {
				// tui-app.ts calls this on SIGHUP (and on EIO from the terminal).
				void app.effects.hangup();
			}
		}
		let result;
		for (let i = 0; i < 3000 && !(result = app.store.getState().job?.result); i++) await tick(10);
		assert.ok(result, `the TUI's job ended; last frame:\n${r.lastFrame()}`);
		return {exitCode: result.exitCode, hintId: result.error?.hintId ?? null, written: await holds(source, files[c.file])};
	} finally {
		r.unmount();
		await app.effects.close();
		release?.();
	}
}

describe('the CLI and the TUI reach the same decision and exit code', () => {
	for (const c of cases) {
		it(c.name, {timeout: 60_000}, async () => {
			const fromCli = await cli(c);
			assert.deepEqual(fromCli, c.expected, 'CLI');
			const fromTui = await tui(c);
			assert.deepEqual(fromTui, c.expected, 'TUI');
		});
	}

	it('no board, several boards: the CLI refuses to guess (exit 3), the TUI lists them and waits for a choice', async () => {
		const none: BoardSource = {list: async () => [], openDfu: async () => assert.fail('nothing to open')};
		const reporter = new Reporter('json', {stdout: sink(), stderr: sink()});
		assert.equal(await runCliJob(reporter, (l) => startFlashJob({source: none, interaction: 'none'}, {file: files.f405, yes: true}, l)), 3);
		const a = new OneBoardSource('stm32f405', {usbPath: '1-1'});
		const b = new OneBoardSource('stm32f405', {usbPath: '1-2', serialNumber: 'OTHER0000001'});
		const two: BoardSource = {list: async () => [...(await a.list()), ...(await b.list())], openDfu: async (board) => (board.id === a.board.id ? a.openDfu() : b.openDfu())};
		assert.equal(await runCliJob(reporter, (l) => startFlashJob({source: two, interaction: 'none'}, {file: files.f405, yes: true}, l)), 3);
		const services: TuiServices = {openSource: async () => two, loadImage: loadFirmware, jobs: {flash: startFlashJob}, backupPath: () => join(dir, 'x.bin')};
		const app = createApp(services, {startDir: dir, fullErase: false, verify: true, reboot: true, baud: 115200}, {columns: 100, rows: 30}, () => {});
		const r = render(<App app={app} theme={makeTheme({unicode: true, color: false})} />);
		try {
			const f = await waitFor(r.lastFrame, '2 boards connected');
			assert.match(f, /1-1[\s\S]*1-2/, 'told apart by USB path');
			assert.equal(app.store.getState().job, undefined, 'nothing started until the pilot chooses');
		} finally {
			r.unmount();
			await app.effects.close();
		}
	});
});
