// The whole app, screen to screen, on the emulated boards and the job layer (no ROM timing),
// through Ink and ink-testing-library.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, mkdtempSync, readFileSync, readdirSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {render} from 'ink-testing-library';
import {App, createApp} from '../source/screens/app.js';
import {makeTheme} from '../source/screens/theme.js';
import type {TuiServices, TuiSettings} from '../source/screens/types.js';
import {startFlashJob} from '../source/jobs/flash-job.js';
import {startBackupJob} from '../source/jobs/backup-job.js';
import {startLeaveJob} from '../source/jobs/leave-job.js';
import {startSettingsBackupJob} from '../source/jobs/settings-job.js';
import {startOnConnectJob} from '../source/jobs/on-connect-job.js';
import {SimulatedSource} from '../source/devices/simulated.js';
import {loadFirmware} from '../source/firmware/load.js';
import {writeDemoFiles} from '../scripts/synthetic-firmware.js';
import {tick, waitFor} from './helpers/ink-frames.js';
import type {FlashRequest, JobListener, StartJob, FlashReport} from '../source/jobs/types.js';

const keys = {up: '\x1b[A', down: '\x1b[B', enter: '\r', esc: '\x1b', space: ' ', ctrlC: '\x03', end: '\x1b[F'};

const demoDir = mkdtempSync(join(tmpdir(), 'fcflash-tui-flow-'));
writeDemoFiles(demoDir);
// Settings backups (a flight controller's flash keeps its settings) go here, not into the home folder.
const dataHome = mkdtempSync(join(tmpdir(), 'fcflash-tui-flow-data-'));
process.env.XDG_DATA_HOME = dataHome;
// Flash on connect logs each board's result to the flash log.
process.env.XDG_STATE_HOME = mkdtempSync(join(tmpdir(), 'fcflash-tui-flow-state-'));

function setup(jobs: Partial<TuiServices['jobs']> = {}, settings: Partial<TuiSettings> = {}, source = () => new SimulatedSource('', {timeScale: 0})) {
	const exits: number[] = [];
	const backups = mkdtempSync(join(tmpdir(), 'fcflash-tui-backups-'));
	const services: TuiServices = {
		openSource: async () => source(),
		loadImage: (path, options) => loadFirmware(path, options),
		jobs: {flash: startFlashJob, backup: startBackupJob, leave: startLeaveJob, ...jobs},
		backupPath: (b) => join(backups, `${b.serialNumber}.bin`),
	};
	const full: TuiSettings = {startDir: demoDir, fullErase: false, verify: true, reboot: true, baud: 115200, ...settings};
	const app = createApp(services, full, {columns: 100, rows: 24}, (code) => exits.push(code));
	const r = render(<App app={app} theme={makeTheme({unicode: true, color: false})} />);
	return {r, exits, app, backups};
}

async function exited(exits: number[]) {
	for (let i = 0; i < 200 && exits.length === 0; i++) await tick(10);
	return exits;
}

test('flow: device list -> firmware -> options -> confirm -> flash -> result -> device list', async () => {
	const {r, exits} = setup({}, {preselect: 'betaflight-4.5.1-STM32F405.hex'});
	const frame = r.lastFrame;
	let f = await waitFor(frame, '2 boards connected');
	assert.match(f, /❯ STM32F405\/F407 \(1 MiB\)  DFU/);
	r.stdin.write('?');
	await waitFor(frame, 'Troubleshooting');
	r.stdin.write(keys.esc);
	await waitFor(frame, 'Choose a board');
	r.stdin.write(keys.enter);
	f = await waitFor(frame, 'Fits this board');
	assert.match(f, /❯ ✔ betaflight-4\.5\.1-STM32F405\.hex/);
	assert.match(f, /Ident: Betaflight \/ STM32F405/);
	r.stdin.write(keys.esc);
	await waitFor(frame, 'Choose a board');
	r.stdin.write(keys.enter);
	await waitFor(frame, 'Fits this board');
	r.stdin.write(keys.enter);
	await waitFor(frame, 'Full chip erase');
	r.stdin.write(keys.enter);
	f = await waitFor(frame, 'Flash this board?');
	assert.match(f, /Erase:  (at most )?\d+ sectors/);
	// Enter on the confirmation goes back, it never flashes.
	r.stdin.write(keys.enter);
	await waitFor(frame, /Full chip erase[\s\S]*Up\/Down move/);
	await tick(50);
	r.stdin.write(keys.enter);
	await waitFor(frame, 'Flash this board?');
	r.stdin.write('y');
	f = await waitFor(frame, 'Flashed successfully', 20000);
	assert.match(f, /Verified:\s+yes/);
	assert.match(f, /Running:\s+BTFL 4\.5\.1 STM32F405, the flashed image/, 'what runs was seen, not assumed');
	r.stdin.write(keys.enter);
	await waitFor(frame, 'Choose a board');
	await waitFor(frame, /BTFL 4\.5\.1 STM32F405/);
	r.stdin.write('q');
	assert.deepEqual(await exited(exits), [0]);
	r.unmount();
});

test('flow: a serial FC is flashed through the reboot into DFU, keeping its name', async () => {
	const {r} = setup();
	const frame = r.lastFrame;
	await waitFor(frame, '2 boards connected');
	r.stdin.write(keys.down);
	await waitFor(frame, '❯ sim:ttyACM1');
	r.stdin.write(keys.enter);
	let f = await waitFor(frame, /Firmware for STM32F7X2 on sim:ttyACM1[\s\S]*Fits|Firmware for STM32F7X2 on sim:ttyACM1[\s\S]*Ident:/);
	assert.match(f, /❯ ✔ betaflight-4\.5\.1-STM32F722\.hex/, 'the file built for the FC is preselected');
	r.stdin.write(keys.enter);
	f = await waitFor(frame, 'No reboot sequence');
	assert.match(f, /Baud rate\s+115200/);
	r.stdin.write(keys.enter);
	f = await waitFor(frame, 'Flash this board?');
	assert.match(f, /reboot it into DFU/);
	r.stdin.write('y');
	f = await waitFor(frame, 'Flashed successfully', 20000);
	// The settings went through the backup and came back; what runs was seen over MSP.
	assert.match(f, /Running:\s+BTFL 4\.5\.1 STM32F7X2, the flashed image/);
	assert.match(f, /Settings:\s+(kept|restored)/);
	const backup = /Backup:\s+(\S+)/.exec(f.replace(/\/\n +/g, '/'))?.[1];
	assert.ok(backup?.startsWith(join(dataHome, 'fcflash-tui', 'backups')) && existsSync(backup), f);
	assert.match(readFileSync(backup!, 'utf8'), /^# version/m);
	r.unmount();
});

test('flow: b on a flight controller saves its settings with the settings job and shows the file', async () => {
	const {r} = setup({'settings-backup': startSettingsBackupJob});
	const frame = r.lastFrame;
	await waitFor(frame, '2 boards connected');
	r.stdin.write(keys.down);
	await waitFor(frame, '❯ sim:ttyACM1');
	r.stdin.write('b');
	const f = await waitFor(frame, 'Saved the settings', 20000);
	const file = /File:\s+(\S+)/.exec(f.replace(/\/\n +/g, '/'))?.[1];
	assert.ok(file && existsSync(file), f);
	assert.match(f, /Firmware:\s+BTFL 4\.5\.1 STM32F7X2/);
	r.stdin.write(keys.enter);
	await waitFor(frame, 'Choose a board');
	r.unmount();
});

test('flow: q then y during a flash stops it; the result says what the board holds, then the app quits with 130', async () => {
	// A flash job that asks, then erases until it is stopped (at a block boundary).
	const flash: StartJob<FlashRequest, FlashReport> = (_context, request, listener: JobListener) => {
		let stop: () => void = () => {};
		const stopped = new Promise<void>((r) => (stop = r));
		let answer: (reply: string) => void = () => {};
		const answered = new Promise<string>((r) => (answer = r));
		const done = (async () => {
			await tick(1);
			listener({type: 'phases', phases: ['erase', 'write', 'verify', 'leave']});
			const f = {board: request.board!, file: request.file!, image: request.image!, erase: '12 sectors', steps: ['write'], warnings: []};
			listener({type: 'question', question: {id: 1, kind: 'confirm', facts: f, requires: 'yes'}});
			await answered;
			listener({type: 'progress', phase: 'erase', done: 1, total: 12, rate: 0});
			await stopped;
			const result = {
				kind: 'flash' as const,
				ok: false,
				exitCode: 130 as const,
				fields: {},
				summary: 'Interrupted at a block boundary. Flash it again to finish.',
				cancelled: true,
				data: {board: request.board!, durationMs: 1, warnings: [], boardState: 'partly-written' as const},
				error: {code: 130 as const, message: 'Interrupted at a block boundary.', hint: null, hintId: 'interrupted' as const},
			};
			listener({type: 'result', result});
			return result;
		})();
		return {kind: 'flash', answer: (_id, reply) => answer(reply), stop: () => stop(), hangup: () => {}, done};
	};
	const {r, exits} = setup({flash}, {preselect: 'full-1MiB.bin'});
	const frame = r.lastFrame;
	await waitFor(frame, '2 boards connected');
	r.stdin.write(keys.enter);
	await waitFor(frame, 'Fits this board');
	r.stdin.write(keys.enter);
	await waitFor(frame, 'Full chip erase');
	r.stdin.write(keys.enter);
	await waitFor(frame, 'Flash this board?');
	r.stdin.write('y');
	await waitFor(frame, /▶ Erase/);
	r.stdin.write('q');
	await waitFor(frame, 'Stop flashing and quit?');
	r.stdin.write('n');
	let f = await waitFor(frame, 'q quit');
	assert.doesNotMatch(f, /Stop flashing and quit\?/);
	r.stdin.write(keys.ctrlC);
	await waitFor(frame, 'y stop, n go on');
	r.stdin.write('y');
	f = await waitFor(frame, 'Flashing was stopped');
	assert.match(f, /partly erased or written/);
	assert.deepEqual(await exited(exits), [130]);
	r.unmount();
});

test('flow: Enter Down Down Enter in one burst reaches the options of the third file', async () => {
	const {r} = setup();
	const frame = r.lastFrame;
	await waitFor(frame, '2 boards connected');
	r.stdin.write(keys.enter + keys.down + keys.down + keys.enter);
	const f = await waitFor(frame, 'Full chip erase');
	assert.match(f, /File:  full-1MiB\.bin/);
	r.unmount();
});

test('flow: b backs up the flash of a DFU board to the file shown; s on a blank board says there is nothing to start', async () => {
	const {r, backups} = setup();
	const frame = r.lastFrame;
	await waitFor(frame, '2 boards connected');
	r.stdin.write('b');
	let f = await waitFor(frame, 'Back up the flash');
	assert.ok(f.includes(backups.slice(0, 20)), f);
	r.stdin.write(keys.enter);
	f = await waitFor(frame, 'Backed up', 20000);
	assert.match(f, /Saved:/);
	const file = readdirFirst(backups);
	assert.ok(file && existsSync(file));
	assert.equal(readFileSync(file).length, 1024 * 1024);
	r.stdin.write(keys.enter);
	await waitFor(frame, 'Choose a board');
	// The emulated board is blank: there is nothing to start, and the job says so.
	r.stdin.write('s');
	await waitFor(frame, 'there is no firmware to start', 20000);
	r.unmount();
});

function readdirFirst(dir: string): string | undefined {
	const name = readdirSync(dir)[0];
	return name ? join(dir, name) : undefined;
}

test('flow: flash on connect from the Options: two F405s flashed, the F722 skipped, stopped with Esc, the summary, back to the device list', async () => {
	const {r, exits} = setup({'on-connect': startOnConnectJob}, {preselect: 'betaflight-4.5.1-STM32F405.hex'}, () => new SimulatedSource('stm32f405,stm32f405,stm32f722', {timeScale: 0, arrivalMs: 300}));
	const frame = r.lastFrame;
	await waitFor(frame, 'board');
	r.stdin.write(keys.enter);
	await waitFor(frame, 'Fits this board');
	r.stdin.write(keys.enter);
	await waitFor(frame, 'Full chip erase');
	r.stdin.write(keys.end);
	await waitFor(frame, '❯ Flash on connect');
	r.stdin.write(keys.enter);
	let f = await waitFor(frame, 'Flash this file onto every board');
	assert.match(f, /Image:\s+Betaflight 4\.5\.1, built for STM32F405/);
	r.stdin.write('y');
	f = await waitFor(frame, /Tried 2: 2 flashed, 0 failed, 0 under way; 1 skipped/, 30000);
	assert.match(f, /skipped: /);
	assert.match(f, /STM32F7/);
	r.stdin.write(keys.esc);
	await waitFor(frame, 'Stop taking boards?');
	r.stdin.write('y');
	f = await waitFor(frame, 'Press Enter to return to the device list', 20000);
	assert.match(f, /Stopped taking boards\. 2 boards tried: 2 flashed, 0 failed, 1 skipped\./);
	r.stdin.write(keys.enter);
	await waitFor(frame, 'Choose a board');
	r.stdin.write('q');
	assert.deepEqual(await exited(exits), [0]);
	r.unmount();
});
