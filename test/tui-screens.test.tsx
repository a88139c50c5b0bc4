// Each TUI screen on its own (ink-testing-library): keys in through stdin, frames out.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtempSync, mkdirSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {render} from 'ink-testing-library';
import type {ReactNode} from 'react';
import {ThemeContext} from '../source/screens/ui.js';
import {detectTheme, makeTheme, toAscii} from '../source/screens/theme.js';
import {fixIncrementalFrame} from '../source/screens/terminal.js';
import {DeviceList} from '../source/screens/device-list.js';
import {FirmwarePicker} from '../source/screens/firmware-picker.js';
import {Options} from '../source/screens/options.js';
import {Confirm, Unprotect} from '../source/screens/confirm.js';
import {Flashing} from '../source/screens/flashing.js';
import {Result} from '../source/screens/result.js';
import {Hints} from '../source/screens/hints.js';
import {makeImage, type FirmwareImage} from '../source/firmware/image.js';
import {FirmwareError} from '../source/errors.js';
import type {Board, BoardSource, DfuBoard, SerialBoard} from '../source/devices/types.js';
import type {HintId} from '../source/hints.js';
import {tick, waitFor} from './helpers/ink-frames.js';

const keys = {up: '\x1b[A', down: '\x1b[B', left: '\x1b[D', enter: '\r', esc: '\x1b', space: ' ', backspace: '\x7f'};
const unicode = makeTheme({unicode: true, color: false});
const ascii = makeTheme({unicode: false, color: false});
const wrap = (node: ReactNode, theme = unicode) => <ThemeContext.Provider value={theme}>{node}</ThemeContext.Provider>;


const f405Layout = '@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg';
const dfuBoard: DfuBoard = {
	kind: 'dfu',
	id: 'SN405',
	vendorId: 0x0483,
	productId: 0xdf11,
	name: 'STM32 BOOTLOADER',
	serialNumber: 'SN405',
	usbPath: '1-1.2',
	chip: 'STM32F405/F407 (1 MiB)',
	flashSize: 1024 * 1024,
	bootloader: '2.2',
	layout: f405Layout,
};
const serialBoard: SerialBoard = {
	kind: 'serial',
	id: 'SN722',
	vendorId: 0x0483,
	productId: 0x5740,
	name: 'STM32 virtual COM port',
	serialNumber: 'SN722',
	port: '/dev/ttyACM0',
	fc: {variant: 'BTFL', version: '4.5.1', target: 'STM32F7X2', board: 'S7X2'},
};
const problemBoard: DfuBoard = {...dfuBoard, id: '1-1.4', serialNumber: undefined, usbPath: '1-1.4', problem: {message: 'Permission denied opening the USB device.', hint: 'udev'}};

class FakeSource implements BoardSource {
	listener?: (b: Board[]) => void;
	constructor(public boards: Board[]) {}
	async list() {
		return this.boards;
	}
	async openDfu(): Promise<never> {
		throw new Error('not here');
	}
	watch(onChange: (b: Board[]) => void) {
		this.listener = onChange;
		onChange(this.boards);
		return () => (this.listener = undefined);
	}
	set(boards: Board[]) {
		this.boards = boards;
		this.listener?.(boards);
	}
}

function image(file: string, bytes = 4096, target?: string, address = 0x08000000): FirmwareImage {
	const data = new Uint8Array(bytes).fill(0x5a);
	if (target) data.set(Buffer.from(`Betaflight / ${target} (S405) 4.5.1 Nov 24 2026 / 12:00:00 (c155f5830) MSP API: 1.46`), 1024);
	return makeImage(file, file.endsWith('.bin') ? 'bin' : 'hex', [{address, data}], null);
}

const ref = <T,>(v: T) => ({current: v});

test('theme: ASCII for a non-UTF-8 locale or TERM=dumb/linux, no colour with NO_COLOR', () => {
	assert.equal(detectTheme({LANG: 'en_US.UTF-8', TERM: 'xterm'}).unicode, true);
	assert.equal(detectTheme({LANG: 'C', TERM: 'xterm'}).unicode, false);
	assert.equal(detectTheme({TERM: 'xterm'}).unicode, false, 'no locale at all is POSIX, not UTF-8');
	assert.equal(detectTheme({LC_ALL: 'C', LANG: 'en_US.UTF-8', TERM: 'xterm'}).unicode, false, 'LC_ALL wins');
	assert.equal(detectTheme({LC_CTYPE: 'en_GB.utf8', TERM: 'xterm'}).unicode, true);
	assert.equal(detectTheme({LANG: 'en_US.UTF-8', TERM: 'linux'}).unicode, false);
	const dumb = detectTheme({LANG: 'en_US.UTF-8', TERM: 'dumb'});
	assert.equal(dumb.unicode, false);
	assert.equal(dumb.color, false);
	assert.equal(detectTheme({LANG: 'en_US.UTF-8', TERM: 'xterm', NO_COLOR: '1'}).c('error'), undefined);
	assert.equal(detectTheme({LANG: 'en_US.UTF-8', TERM: 'xterm'}).c('error'), 'red');
	assert.equal(toAscii('a…b – c ✔'), 'a...b - c ?');
	for (const g of Object.values(ascii.glyphs)) assert.match(g, /^[\x20-\x7e]+$/);
});

test('terminal: the incremental frame cursor-up covers the whole previous frame', () => {
	assert.equal(fixIncrementalFrame('\x1b[4A\x1b[Gabc'), '\x1b[5A\x1b[Gabc');
	assert.equal(fixIncrementalFrame('\x1b[0Aabc'), '\x1b[0Aabc');
	assert.equal(fixIncrementalFrame('\x1b[2K\x1b[1A\x1b[2K\x1b[Gx'), '\x1b[2K\x1b[1A\x1b[2K\x1b[Gx');
	assert.equal(fixIncrementalFrame('plain'), 'plain');
});

test('device list: boards with their facts, first highlighted, moves, Enter chooses, live updates', async () => {
	const source = new FakeSource([dfuBoard, serialBoard]);
	const chosen: Board[] = [];
	const r = render(wrap(<DeviceList source={source} active screenHint={ref<HintId | undefined>(undefined)} onChoose={(b) => chosen.push(b)} />));
	let f = await waitFor(r.lastFrame, '2 boards connected');
	assert.match(f, /❯ STM32F405\/F407 \(1 MiB\)  DFU/);
	assert.match(f, /bootloader 2\.2, SN SN405, USB 1-1\.2/);
	assert.match(f, /\/dev\/ttyACM0  BTFL 4\.5\.1 STM32F7X2/);
	assert.match(f, /0483:5740, board S7X2/);
	assert.equal(chosen.length, 0, 'nothing is chosen by itself');
	r.stdin.write(keys.down);
	f = await waitFor(r.lastFrame, '❯ /dev/ttyACM0');
	r.stdin.write('k');
	await waitFor(r.lastFrame, '❯ STM32F405');
	r.stdin.write('j');
	await waitFor(r.lastFrame, '❯ /dev/ttyACM0');
	r.stdin.write(keys.enter);
	await tick();
	assert.equal(chosen[0]?.id, 'SN722');
	// Unplug the FC: the list follows without a key.
	source.set([dfuBoard]);
	f = await waitFor(r.lastFrame, '1 board connected');
	assert.doesNotMatch(f, /ttyACM0/);
	r.unmount();
});

test('device list: a single board is highlighted, not chosen', async () => {
	const chosen: Board[] = [];
	const r = render(wrap(<DeviceList source={new FakeSource([dfuBoard])} active screenHint={ref<HintId | undefined>(undefined)} onChoose={(b) => chosen.push(b)} />));
	await waitFor(r.lastFrame, '❯ STM32F405');
	await tick(50);
	assert.equal(chosen.length, 0);
	r.unmount();
});

test('device list: empty says so with the first hints; a board with a problem shows why', async () => {
	const source = new FakeSource([]);
	const hint = ref<HintId | undefined>(undefined);
	const r = render(wrap(<DeviceList source={source} active screenHint={hint} onChoose={() => {}} />));
	const f = await waitFor(r.lastFrame, 'No board found');
	assert.match(f, /Charging-only cable/);
	assert.match(f, /USB permission/);
	assert.equal(hint.current, 'no-device');
	source.set([problemBoard]);
	const g = await waitFor(r.lastFrame, 'Permission denied opening the USB device.');
	assert.match(g, /1 board connected/);
	r.stdin.write(keys.enter);
	await waitFor(r.lastFrame, 'This board cannot be used');
	assert.equal(hint.current, 'udev');
	r.unmount();
});

test('device list: waits for the board source without blocking the first frame', () => {
	const r = render(wrap(<DeviceList active screenHint={ref<HintId | undefined>(undefined)} onChoose={() => {}} />));
	assert.match(r.lastFrame() ?? '', /Looking for boards/);
	r.unmount();
});

function pickerDir() {
	const dir = mkdtempSync(join(tmpdir(), 'fcflash-tui-picker-'));
	mkdirSync(join(dir, 'older'));
	writeFileSync(join(dir, 'older', 'betaflight-4.4.0-STM32F405.hex'), 'x');
	writeFileSync(join(dir, 'betaflight-4.5.1-STM32F405.hex'), 'x'.repeat(100));
	writeFileSync(join(dir, 'inav-7.1.0-MATEKF405.hex'), 'x');
	writeFileSync(join(dir, 'broken.hex'), 'x');
	writeFileSync(join(dir, 'huge.bin'), 'x');
	writeFileSync(join(dir, 'notes.txt'), 'not firmware');
	return dir;
}

function fakeLoader(loaded: string[] = []) {
	return async (path: string, options: {address?: number}) => {
		loaded.push(path);
		if (path.endsWith('broken.hex')) throw new FirmwareError(path, 'bad checksum (expected 0x3C)', {line: 12});
		if (path.endsWith('huge.bin')) return image(path, 2 * 1024 * 1024, undefined, options.address);
		if (path.includes('F405')) return image(path, 8192, 'STM32F405');
		return image(path, 8192, 'MATEKF405');
	};
}

test('firmware picker: folders and firmware files, facts of the highlighted file, errors with file:line', async () => {
	const dir = pickerDir();
	const loaded: string[] = [];
	const chosen: string[] = [];
	const r = render(
		wrap(
			<FirmwarePicker
				startDir={dir}
				board={dfuBoard}
				active
				textEntry={ref(false)}
				screenHint={ref<HintId | undefined>(undefined)}
				loadImage={fakeLoader(loaded)}
				onChoose={(file) => chosen.push(file)}
				onBack={() => {}}
				parseDelayMs={0}
			/>,
		),
	);
	let f = await waitFor(r.lastFrame, 'Ident: Betaflight / STM32F405');
	assert.match(f, /older\//);
	assert.doesNotMatch(f, /notes\.txt/);
	assert.match(f, /❯ betaflight-4\.5\.1-STM32F405\.hex/, 'the first file is highlighted');
	assert.match(f, /Address 0x08000000-0x08001FFF, 1 segment/);
	assert.match(f, /Fits this board/);
	r.stdin.write(keys.down);
	f = await waitFor(r.lastFrame, 'broken.hex:12: bad checksum');
	r.stdin.write(keys.enter);
	await waitFor(r.lastFrame, 'Cannot use this file');
	assert.equal(chosen.length, 0);
	r.stdin.write(keys.down);
	f = await waitFor(r.lastFrame, 'Does not fit this board: 0x08100000 is outside its 1.00 MiB flash.');
	r.stdin.write(keys.enter);
	await waitFor(r.lastFrame, 'pick another file');
	assert.equal(chosen.length, 0);
	// Parsed once and cached.
	r.stdin.write(keys.up);
	r.stdin.write(keys.down);
	await tick(60);
	assert.equal(loaded.filter((p) => p.endsWith('huge.bin')).length, 1);
	r.unmount();
});

test('firmware picker: / filters, Esc leaves the filter, Backspace/Left go up, Enter opens folders', async () => {
	const dir = pickerDir();
	const chosen: string[] = [];
	let back = 0;
	const textEntry = ref(false);
	const r = render(
		wrap(
			<FirmwarePicker
				startDir={dir}
				board={serialBoard}
				active
				textEntry={textEntry}
				screenHint={ref<HintId | undefined>(undefined)}
				loadImage={fakeLoader()}
				onChoose={(file) => chosen.push(file)}
				onBack={() => back++}
				parseDelayMs={0}
			/>,
		),
	);
	await waitFor(r.lastFrame, 'Press / to filter');
	// Typing without `/` does not filter: j/k move.
	r.stdin.write('/');
	await waitFor(r.lastFrame, 'Filter: _');
	assert.equal(textEntry.current, true);
	r.stdin.write('inav');
	let f = await waitFor(r.lastFrame, 'Filter: inav_');
	assert.doesNotMatch(f, /betaflight-4\.5\.1/);
	assert.match(f, /❯ inav-7\.1\.0-MATEKF405\.hex/);
	f = await waitFor(r.lastFrame, 'flight controller reports STM32F7X2');
	r.stdin.write(keys.esc);
	f = await waitFor(r.lastFrame, 'Press / to filter');
	assert.match(f, /betaflight-4\.5\.1/);
	assert.equal(textEntry.current, false);
	assert.equal(back, 0, 'Esc in the filter only leaves the filter');
	// Into a folder and back up with Backspace, then Left.
	for (let i = 0; i < 8; i++) r.stdin.write(keys.up);
	await waitFor(r.lastFrame, '❯ ../');
	r.stdin.write(keys.down);
	await waitFor(r.lastFrame, '❯ older/');
	r.stdin.write(keys.enter);
	f = await waitFor(r.lastFrame, 'betaflight-4.4.0');
	r.stdin.write(keys.backspace);
	f = await waitFor(r.lastFrame, '❯ older/');
	r.stdin.write(keys.enter);
	await waitFor(r.lastFrame, 'betaflight-4.4.0');
	r.stdin.write(keys.left);
	await waitFor(r.lastFrame, '❯ older/');
	r.stdin.write(keys.esc);
	await tick();
	assert.equal(back, 1);
	r.unmount();
});

test('firmware picker: --firmware FILE preselects it so Enter accepts it', async () => {
	const dir = pickerDir();
	const chosen: string[] = [];
	const r = render(
		wrap(
			<FirmwarePicker
				startDir={dir}
				preselect="inav-7.1.0-MATEKF405.hex"
				board={dfuBoard}
				active
				textEntry={ref(false)}
				screenHint={ref<HintId | undefined>(undefined)}
				loadImage={fakeLoader()}
				onChoose={(file) => chosen.push(file)}
				onBack={() => {}}
			/>,
		),
	);
	await waitFor(r.lastFrame, '❯ inav-7.1.0-MATEKF405.hex');
	r.stdin.write(keys.enter);
	for (let i = 0; i < 50 && chosen.length === 0; i++) await tick(10);
	assert.equal(chosen[0], join(dir, 'inav-7.1.0-MATEKF405.hex'));
	r.unmount();
});

test('options: Space toggles, DFU boards show reboot/baud as not relevant, address only for .bin', async () => {
	let choices = {fullErase: false, verify: true, reboot: true, baud: 115200, address: '0x08000000'};
	const next: FirmwareImage[] = [];
	let back = 0;
	const view = (board: Board, img: FirmwareImage) => (
		<Options
			board={board}
			file={img.file}
			image={img}
			choices={choices}
			active
			setChoices={(c) => (choices = {...choices, ...c})}
			loadImage={async (p, o) => image(p, 4096, undefined, o.address)}
			onNext={(i) => next.push(i)}
			onBack={() => back++}
		/>
	);
	const hex = image('/fw/a.hex');
	const r = render(wrap(view(dfuBoard, hex)));
	let f = r.lastFrame() ?? '';
	assert.match(f, /❯ Full chip erase\s+\[ \]/);
	assert.match(f, /settings are kept/);
	assert.match(f, /Verify\s+\[x\]/);
	assert.match(f, /No reboot sequence\s+–/);
	assert.match(f, /not relevant: the board is already in DFU/);
	assert.doesNotMatch(f, /Address/);
	r.stdin.write(keys.space);
	await tick();
	assert.equal(choices.fullErase, true);
	r.rerender(wrap(view(dfuBoard, hex)));
	f = r.lastFrame() ?? '';
	assert.match(f, /Full chip erase\s+\[x\]/);
	assert.match(f, /settings \(PIDs, rates, modes\) are LOST/);
	r.stdin.write(keys.down);
	r.stdin.write(keys.space);
	await tick();
	assert.equal(choices.verify, false);
	r.stdin.write(keys.down); // reboot/baud are skipped for a DFU board
	r.stdin.write(keys.space);
	await tick();
	assert.equal(choices.reboot, true);
	r.stdin.write(keys.enter);
	await tick();
	assert.equal(next.length, 1);
	r.stdin.write(keys.esc);
	await tick();
	assert.equal(back, 1);
	r.unmount();

	// A serial FC: reboot and baud apply; a .bin has an editable address.
	choices = {fullErase: false, verify: true, reboot: true, baud: 115200, address: '0x08000000'};
	const bin = image('/fw/a.bin');
	const s = render(wrap(view(serialBoard, bin)));
	f = s.lastFrame() ?? '';
	assert.match(f, /No reboot sequence\s+\[ \]/);
	assert.match(f, /Baud rate\s+115200/);
	assert.match(f, /Address \(\.bin\)\s+0x08000000/);
	for (let i = 0; i < 3; i++) s.stdin.write(keys.down);
	s.stdin.write(keys.space);
	await tick();
	assert.equal(choices.baud, 230400);
	s.stdin.write(keys.down);
	for (let i = 0; i < 4; i++) s.stdin.write(keys.backspace);
	s.stdin.write('8000');
	await tick();
	assert.equal(choices.address, '0x08008000');
	s.rerender(wrap(view(serialBoard, bin)));
	s.stdin.write(keys.enter);
	for (let i = 0; i < 50 && next.length < 2; i++) await tick(10);
	assert.equal(next[1]?.low, 0x08008000, 'the .bin is reloaded at the new address');
	s.unmount();
});

test('confirmation: names board, file and erase; only y flashes, Enter and n go back', async () => {
	let yes = 0;
	let no = 0;
	const img = image('/fw/betaflight.hex', 100 * 1024, 'STM32F405');
	const r = render(
		wrap(<Confirm board={dfuBoard} file={img.file} image={img} choices={{fullErase: false, verify: true, reboot: true, baud: 115200, address: ''}} active onYes={() => yes++} onNo={() => no++} />),
	);
	const f = r.lastFrame() ?? '';
	assert.match(f, /Board:  STM32F405\/F407 \(1 MiB\) \(SN SN405\)/);
	assert.match(f, /File:   betaflight\.hex/);
	assert.match(f, /Erase:  5 sectors, 128 KiB \(0x08000000-0x0801FFFF\); the rest is kept/);
	r.stdin.write(keys.enter);
	r.stdin.write('n');
	r.stdin.write(keys.space);
	await tick();
	assert.deepEqual([yes, no], [0, 2]);
	r.stdin.write('y');
	await tick();
	assert.equal(yes, 1);
	r.unmount();
	const full = render(
		wrap(<Confirm board={dfuBoard} file={img.file} image={img} choices={{fullErase: true, verify: true, reboot: true, baud: 115200, address: ''}} active onYes={() => {}} onNo={() => {}} />),
	);
	assert.match(full.lastFrame() ?? '', /Erase:  the WHOLE chip \(1\.00 MiB\): settings are lost/);
	full.unmount();
	const u = render(wrap(<Unprotect board={dfuBoard} active onYes={() => yes++} onNo={() => no++} />));
	assert.match(u.lastFrame() ?? '', /read-protected/);
	assert.match(u.lastFrame() ?? '', /WIPES\s+THE WHOLE CHIP/);
	u.stdin.write(keys.enter);
	await tick();
	assert.equal(no, 3);
	u.unmount();
});

test('flashing: phases, bar, bytes/rate/ETA; the stop question', () => {
	const view = {phases: ['reboot', 'wait', 'erase', 'write', 'verify', 'leave'] as const, finished: ['reboot', 'wait', 'erase'] as const, current: 'write' as const, percent: 42, stats: '430 KiB / 1.00 MiB  64.0 KiB/s  ~9.3 s left', running: true, stopping: false, readProtected: false};
	const r = render(wrap(<Flashing view={{...view, phases: [...view.phases], finished: [...view.finished]}} board={serialBoard} file="/fw/x.hex" quitAsk={false} />, ascii));
	const f = r.lastFrame() ?? '';
	assert.match(f, /\+ Reboot into DFU/);
	assert.match(f, /\+ Wait for DFU/);
	assert.match(f, /> Write\s+#+\.+\s+42%/);
	assert.match(f, /- Verify/);
	assert.match(f, /430 KiB \/ 1\.00 MiB  64\.0 KiB\/s  ~9\.3 s left/);
	assert.match(f, /^[\x00-\x7f]*$/, 'ASCII only');
	r.rerender(wrap(<Flashing view={{...view, phases: [...view.phases], finished: [...view.finished]}} board={serialBoard} file="/fw/x.hex" quitAsk />, ascii));
	assert.match(r.lastFrame() ?? '', /Stop flashing and quit\?/);
	r.unmount();
});

test('result: success facts; failure with the matching hint; Enter returns', async () => {
	let done = 0;
	const result = {erase: {mode: 'sectors' as const, sectors: 12, bytes: 1024 * 1024, unchanged: 0, blank: 0}, written: 1024 * 1024, skipped: 0, kept: 0, verified: true, left: true, recoveries: 0, durationMs: 15500, board: dfuBoard, target: {} as never};
	const r = render(wrap(<Result outcome={{ok: true, result}} board={dfuBoard} file="/fw/full.bin" active onDone={() => done++} />));
	const f = r.lastFrame() ?? '';
	assert.match(f, /Flashed successfully in 15\.5 s/);
	assert.match(f, /Written:\s+1\.00 MiB/);
	assert.match(f, /Verified:\s+yes/);
	r.stdin.write(keys.enter);
	await tick();
	assert.equal(done, 1);
	r.unmount();
	const fail = render(
		wrap(<Result outcome={{ok: false, message: 'Verify failed at 0x08004000: expected 0x12, read 0xff.', hint: 'verify-failed', exitCode: 1, cancelled: false}} board={dfuBoard} file="/fw/full.bin" active onDone={() => {}} />),
	);
	const g = fail.lastFrame() ?? '';
	assert.match(g, /Flashing failed/);
	assert.match(g, /Verify failed at 0x08004000/);
	assert.match(g, /Verification failed/);
	assert.match(g, /Full\s+chip\s+erase/);
	fail.unmount();
});

test('hints: the context hint first, then the general list; Esc returns', async () => {
	let back = 0;
	const r = render(wrap(<Hints context={['read-protect']} active onBack={() => back++} />));
	const f = r.lastFrame() ?? '';
	const first = f.indexOf('Read protection (RDP)');
	assert.ok(first > 0, f);
	assert.ok(first < f.indexOf('Charging-only cable'), 'context before the general hints');
	r.stdin.write(keys.down);
	await tick();
	assert.doesNotMatch(r.lastFrame() ?? '', /Read protection \(RDP\)\n/);
	r.stdin.write(keys.esc);
	await tick();
	assert.equal(back, 1);
	r.unmount();
});
