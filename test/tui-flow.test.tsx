// The whole app, screen to screen, on the real engine and the emulated boards (no ROM timing).
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {render} from 'ink-testing-library';
import {App} from '../source/screens/app.js';
import {makeTheme} from '../source/screens/theme.js';
import type {TuiServices, TuiSettings} from '../source/screens/types.js';
import {SimulatedSource} from '../source/devices/simulated.js';
import {loadFirmware} from '../source/firmware/load.js';
import {runFlashThroughJob as runFlashJob} from '../source/tui.js';
import {ReadProtectedError} from '../source/errors.js';
import {writeDemoFiles} from '../scripts/synthetic-firmware.js';
import {tick, waitFor} from './helpers/ink-frames.js';

const keys = {up: '\x1b[A', down: '\x1b[B', enter: '\r', esc: '\x1b', space: ' ', ctrlC: '\x03'};


const demoDir = mkdtempSync(join(tmpdir(), 'fcflash-tui-flow-'));
writeDemoFiles(demoDir);

function setup(overrides: Partial<TuiServices> = {}, settings: Partial<TuiSettings> = {}) {
	const exits: number[] = [];
	const jobs: {unprotect?: boolean}[] = [];
	const services: TuiServices = {
		openSource: async () => new SimulatedSource('', {timeScale: 0}),
		loadImage: (path, options) => loadFirmware(path, options),
		runJob: (source, board, image, options) => {
			jobs.push({unprotect: options.unprotect});
			return runFlashJob(source, board, image, options);
		},
		...overrides,
	};
	const full: TuiSettings = {startDir: demoDir, fullErase: false, verify: true, reboot: true, baud: 115200, ...settings};
	const r = render(<App services={services} settings={full} theme={makeTheme({unicode: true, color: false})} onExit={(code) => exits.push(code)} />);
	return {r, exits, jobs};
}

/** Device list -> the preselected file -> default options -> confirm with y: the flash starts. */
async function startFlashOfFirstBoard(r: {lastFrame: () => string | undefined; stdin: {write: (data: string) => void}}) {
	const frame = r.lastFrame;
	await waitFor(frame, '2 boards connected');
	r.stdin.write(keys.enter);
	await waitFor(frame, 'Fits this board');
	r.stdin.write(keys.enter);
	await waitFor(frame, 'Full chip erase');
	r.stdin.write(keys.enter);
	await waitFor(frame, 'Flash this board?');
	r.stdin.write('y');
}

test('flow: device list -> firmware -> options -> confirm -> flash -> result -> device list', async () => {
	const {r, exits} = setup({}, {preselect: 'betaflight-4.5.1-STM32F405.hex'});
	const frame = r.lastFrame;
	let f = await waitFor(frame, '2 boards connected');
	assert.match(f, /❯ STM32F405\/F407 \(1 MiB\)  DFU/);
	// ? opens the hints from any screen, Esc returns.
	r.stdin.write('?');
	await waitFor(frame, 'Troubleshooting');
	r.stdin.write(keys.esc);
	await waitFor(frame, 'Choose a board');
	r.stdin.write(keys.enter);
	f = await waitFor(frame, 'Fits this board');
	assert.match(f, /❯ betaflight-4\.5\.1-STM32F405\.hex/);
	assert.match(f, /Ident: Betaflight \/ STM32F405/);
	// Esc goes back one screen, Enter comes forward again.
	r.stdin.write(keys.esc);
	await waitFor(frame, 'Choose a board');
	r.stdin.write(keys.enter);
	await waitFor(frame, 'Fits this board');
	r.stdin.write(keys.enter);
	f = await waitFor(frame, 'Full chip erase');
	r.stdin.write(keys.enter);
	f = await waitFor(frame, 'Flash this board?');
	assert.match(f, /Erase:  \d+ sectors/);
	// Enter on the confirmation goes back, it never flashes.
	r.stdin.write(keys.enter);
	await waitFor(frame, 'Full chip erase');
	r.stdin.write(keys.enter);
	await waitFor(frame, 'Flash this board?');
	r.stdin.write('y');
	f = await waitFor(frame, 'Flashed successfully', 20000);
	assert.match(f, /Verified:\s+yes/);
	assert.match(f, /Started:\s+yes/);
	r.stdin.write(keys.enter);
	f = await waitFor(frame, 'Choose a board');
	// The flashed board left DFU and now runs the firmware: the list follows by itself.
	f = await waitFor(frame, /STM32F405 \(S405\)|BTFL 4\.5\.1 STM32F405/);
	r.stdin.write('q');
	for (let i = 0; i < 100 && exits.length === 0; i++) await tick(10);
	assert.deepEqual(exits, [0]);
	r.unmount();
});

test('flow: a serial FC is flashed through the reboot into DFU', async () => {
	const {r} = setup({}, {});
	const frame = r.lastFrame;
	await waitFor(frame, '2 boards connected');
	r.stdin.write(keys.down);
	await waitFor(frame, '❯ sim:ttyACM1');
	r.stdin.write(keys.enter);
	await waitFor(frame, 'Firmware for STM32F7X2 on sim:ttyACM1');
	r.stdin.write('/');
	r.stdin.write('F722');
	await waitFor(frame, 'Filter: F722_');
	let f = await waitFor(frame, 'Ident: Betaflight / STM32F7X2');
	assert.doesNotMatch(f, /reports/);
	r.stdin.write(keys.enter);
	f = await waitFor(frame, 'No reboot sequence');
	assert.match(f, /Baud rate\s+115200/);
	r.stdin.write(keys.enter);
	f = await waitFor(frame, 'Flash this board?');
	assert.match(f, /reboot it into DFU/);
	r.stdin.write('y');
	f = await waitFor(frame, 'Flashed successfully', 20000);
	r.unmount();
});

test('flow: q during a flash asks first; n goes on, y stops at a block boundary and quits', async () => {
	let release: () => void = () => {};
	const gate = new Promise<void>((r) => (release = r));
	const {r, exits} = setup({
		runJob: async (_source, _board, _image, options) => {
			options.onProgress?.({phase: 'erase', done: 0, total: 100, rate: 0});
			await gate;
			if (options.signal?.aborted) {
				const {CancelledError} = await import('../source/errors.js');
				throw new CancelledError('Interrupted at a block boundary.');
			}
			throw new Error('not reached');
		},
	}, {preselect: 'betaflight-4.5.1-STM32F405.hex'});
	const frame = r.lastFrame;
	await startFlashOfFirstBoard(r);
	await waitFor(frame, /▶ Erase/);
	r.stdin.write('q');
	await waitFor(frame, 'Stop flashing and quit?');
	r.stdin.write('n');
	let f = await waitFor(frame, 'q stop');
	assert.doesNotMatch(f, /Stop flashing and quit\?/);
	assert.deepEqual(exits, []);
	r.stdin.write(keys.ctrlC);
	await waitFor(frame, 'Stop flashing and quit?');
	r.stdin.write('y');
	await waitFor(frame, 'Stopping at the next block boundary');
	assert.deepEqual(exits, [], 'nothing quits before the job has stopped');
	release();
	for (let i = 0; i < 100 && exits.length === 0; i++) await tick(10);
	assert.deepEqual(exits, [130]);
	r.unmount();
});

test('flow: a read-protected chip asks to unprotect (wipe), then flashes with unprotect', async () => {
	const seen: (boolean | undefined)[] = [];
	const {r} = setup({
		runJob: async (source, board, image, options) => {
			seen.push(options.unprotect);
			if (!options.unprotect) throw new ReadProtectedError();
			return runFlashJob(source, board, image, options);
		},
	}, {preselect: 'betaflight-4.5.1-STM32F405.hex'});
	const frame = r.lastFrame;
	await startFlashOfFirstBoard(r);
	let f = await waitFor(frame, 'Read-protected chip');
	assert.match(f, /WIPES\s+THE WHOLE CHIP/);
	// The hints screen shows the read-protection hint first.
	r.stdin.write('?');
	f = await waitFor(frame, 'Troubleshooting');
	assert.ok(f.indexOf('Read protection (RDP)') < f.indexOf('Charging-only cable'));
	r.stdin.write(keys.esc);
	await waitFor(frame, 'Read-protected chip');
	r.stdin.write('y');
	await waitFor(frame, 'Flashed successfully', 20000);
	assert.deepEqual(seen, [false, true]);
	r.unmount();
});

test('flow: a failed flash shows the matching hint, and ? puts it first', async () => {
	const {r} = setup({
		runJob: async () => {
			const {VerifyError} = await import('../source/errors.js');
			throw new VerifyError(0x08004000, 0x12, 0xff);
		},
	}, {preselect: 'betaflight-4.5.1-STM32F405.hex'});
	const frame = r.lastFrame;
	await startFlashOfFirstBoard(r);
	let f = await waitFor(frame, 'Flashing failed');
	assert.match(f, /Verify failed at 0x08004000/);
	assert.match(f, /Verification failed/);
	r.stdin.write('?');
	f = await waitFor(frame, 'Troubleshooting');
	assert.ok(f.indexOf('Verification failed') < f.indexOf('Charging-only cable'));
	r.stdin.write(keys.esc);
	await waitFor(frame, 'Flashing failed');
	r.stdin.write(keys.enter);
	await waitFor(frame, 'Choose a board');
	r.unmount();
});
