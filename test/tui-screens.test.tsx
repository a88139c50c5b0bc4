// Each screen rendered from a state (ink-testing-library): what it says, and that it fits the
// terminal: at 80x24 and 60x20 every line fits the width and the frame the height, text that
// matters wraps instead of being cut, ASCII-only without UTF-8.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {render} from 'ink-testing-library';
import {AppView} from '../source/screens/app.js';
import type {AppState} from '../source/screens/app-state.js';
import {detectTheme, makeTheme, toAscii} from '../source/screens/theme.js';
import type {ConfirmFacts, JobResult} from '../source/jobs/types.js';
import {dfuBoard, image, keys, serialBoard, world, type World} from './helpers/tui-world.js';

const unicode = makeTheme({unicode: true, color: false});
const ascii = makeTheme({unicode: false, color: false});
const sizes = [
	{columns: 80, rows: 24},
	{columns: 60, rows: 20},
];

function frame(state: AppState, theme = unicode): string {
	const r = render(<AppView state={state} theme={theme} />);
	const f = r.lastFrame() ?? '';
	r.unmount();
	return f;
}

/** The frame fits rows x columns; returns it. */
function fits(state: AppState, what: string, theme = unicode): string {
	const f = frame(state, theme);
	const lines = f.split('\n');
	assert.ok(lines.length <= state.size.rows, `${what}: ${lines.length} lines at ${state.size.columns}x${state.size.rows}\n${f}`);
	for (const l of lines) assert.ok([...l].length <= state.size.columns, `${what}: line wider than ${state.size.columns}: ${JSON.stringify(l)}`);
	assert.doesNotMatch(f, /too short for the rest/, `${what}: something was cut\n${f}`);
	return f;
}

/** The frame with every run of blanks (line breaks and indents of wrapped text) as one space. */
const flat = (f: string) => f.replace(/\s+/g, ' ');

const sized = (w: World, size: {columns: number; rows: number}) => {
	w.dispatch({type: 'resize', size});
	return w.state();
};

function facts(over: Partial<ConfirmFacts> = {}): ConfirmFacts {
	return {
		board: dfuBoard,
		file: '/fw/betaflight-4.5.1-STM32F405.hex',
		image: image('/fw/betaflight-4.5.1-STM32F405.hex', 'STM32F405'),
		erase: '5 sectors, 128 KiB (0x08000000-0x0801FFFF); the rest is kept',
		steps: ['write 8 KiB', 'verify', 'start the firmware'],
		warnings: [],
		...over,
	};
}

const result = (over: Partial<JobResult> = {}): JobResult => ({kind: 'flash', ok: true, exitCode: 0, fields: {}, summary: 'ok', cancelled: false, ...over});

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
	assert.equal(toAscii('a…b – c ✔'), 'a...b - c ?');
	for (const g of Object.values(ascii.glyphs)) assert.match(g, /^[\x20-\x7e]+$/);
});

test('device list: boards with their facts; empty says so first and fits 60x20', () => {
	for (const size of sizes) {
		const w = world();
		let f = fits(sized(w, size), 'device list');
		assert.match(f, /3 boards connected/);
		assert.match(f, /❯ STM32F405\/F407 \(1 MiB\)  DFU/);
		assert.match(f, /\/dev\/ttyACM1  BTFL 4\.5\.1 STM32F7X2/);
		const empty = world({boards: []});
		f = fits(sized(empty, size), 'empty device list');
		assert.match(f.split('\n')[2]!, /No board found/);
		assert.match(f, /Charging-only cable/);
		const looking = world();
		looking.dispatch({type: 'boards', boards: []});
	}
	const w = world();
	w.dispatch({type: 'source-error', message: 'libusb failed to start', hint: 'udev'});
	assert.match(frame(w.state()), /Cannot look for boards: libusb failed to start/);
});

test('picker: every row shows target and version; scroll position; errors wrap', () => {
	for (const size of sizes) {
		const w = world();
		w.type(keys.enter);
		const f = fits(sized(w, size), 'picker');
		assert.match(f, /❯ ✔ betaflight-4\.5\.1-STM32F405\.hex\s+STM32F405 4\.5\.1/);
		assert.match(f, /MATEKF399 4\.5\.1/);
		assert.match(f, /Fits this board/);
		assert.match(f, /1-\d+ of \d+|^/m);
	}
	const w = world({size: {columns: 60, rows: 20}});
	w.type(keys.enter + keys.end);
	w.dispatch({
		type: 'facts',
		file: {path: '/fw/inav-8.0.0-MATEKF399.hex', key: '100:1000'},
		facts: {state: 'error', message: 'inav-8.0.0-MATEKF399.hex:1234: bad checksum (expected 0x3C, the line says 0x3D); the file is damaged', hint: 'bad-file'},
	});
	const f = fits(w.state(), 'picker error');
	assert.match(f, /bad checksum \(expected\s+0x3C, the line says/);
	assert.match(f, /the file is damaged/, 'the end of the error is shown, wrapped');
});

test('options: help wraps at 60 columns; not-needed rows say why', () => {
	for (const size of sizes) {
		const w = world();
		w.type(keys.enter + keys.enter);
		const f = fits(sized(w, size), 'options');
		assert.match(f, /❯ Full chip erase\s+\[ \]/);
		assert.match(f, /settings are\s+kept/);
		assert.match(f, /No reboot sequence\s+–/);
		assert.match(f, /Not needed: the board is in DFU/);
	}
});

test('confirm: the Erase line wraps; a wrong target says what the image is for and asks for force', () => {
	for (const size of sizes) {
		const w = world();
		w.type(keys.enter + keys.enter + keys.enter);
		w.job({type: 'question', question: {id: 1, kind: 'confirm', facts: facts(), requires: 'yes'}});
		let f = fits(sized(w, size), 'confirm');
		assert.match(f, /Erase:  5 sectors, 128 KiB/);
		assert.match(f, /the rest\s+is kept/);
		assert.match(f, /Press y to flash/);
		assert.doesNotMatch(f, /Runs:/, 'a board whose firmware was not read has no Runs line');
		const r = world();
		r.type(keys.enter + keys.enter + keys.enter);
		r.job({type: 'question', question: {id: 1, kind: 'confirm', facts: facts({runs: 'Betaflight 4.5.1, built for STM32F405'}), requires: 'yes'}});
		assert.match(fits(sized(r, size), 'confirm runs'), /\nRuns: +Betaflight 4\.5\.1, built for STM32F405\s*\n(?:.*\n)?Erase:/);
		const m = world();
		m.type(keys.enter + keys.enter + keys.enter);
		m.job({type: 'question', question: {id: 1, kind: 'confirm', facts: facts({mismatch: 'Built for MATEKF405, but the flight controller reports STM32F7X2.'}), requires: 'force'}});
		m.type('for');
		f = fits(sized(m, size), 'confirm force');
		assert.match(f, /built for another board/);
		assert.match(f, /Built for MATEKF405, but the flight\s+controller\s+reports\s+STM32F7X2/);
		assert.match(f, /Type force and\s+press\s+Enter/);
		assert.match(f, /> for_/);
		assert.doesNotMatch(f, /Press y/);
	}
});

test('progress: phases and bar; elapsed time for a phase the board does not report; the stop question is whole', () => {
	for (const size of sizes) {
		const w = world();
		w.type(keys.down + keys.enter + keys.enter + keys.enter);
		w.job({type: 'phases', phases: ['reboot', 'wait', 'erase', 'write', 'verify', 'leave']});
		w.job({type: 'question', question: {id: 1, kind: 'confirm', facts: facts({board: serialBoard}), requires: 'yes'}});
		w.type('y');
		w.job({type: 'progress', phase: 'erase', done: 0, total: 1, rate: 0, elapsedMs: 4100, expectedMs: 8000});
		let f = fits(sized(w, size), 'progress');
		assert.match(f, /✔ Reboot into DFU/);
		assert.match(f, /▶ Erase\s+█+░+\s+51%/);
		assert.match(f, /4 s of about 8 s/);
		w.type('q');
		f = fits(w.state(), 'stop question');
		assert.match(f, /Stop flashing and quit\?/);
		assert.match(f, /y stop, n go on/);
		const a = fits(w.state(), 'progress ascii', ascii);
		assert.match(a, /^[\x00-\x7f]*$/);
	}
});

test('result: a stopped flash says what the board holds and what to do', () => {
	for (const size of sizes) {
		const w = world();
		w.type(keys.enter + keys.enter + keys.enter);
		w.job({type: 'question', question: {id: 1, kind: 'confirm', facts: facts(), requires: 'yes'}});
		w.type('y');
		w.job({type: 'progress', phase: 'write', done: 10, total: 100, rate: 0});
		w.job({
			type: 'result',
			result: result({ok: false, cancelled: true, exitCode: 130, data: {boardState: 'partly-written'}, error: {code: 130, message: 'Interrupted at a block boundary.', hint: null, hintId: 'interrupted'}}),
		});
		const f = fits(sized(w, size), 'stopped');
		assert.match(f, /Flashing was stopped/);
		assert.match(f, /partly erased or written/);
		assert.match(f, /Flash it\s+again/);
	}
	const ok = world();
	ok.type(keys.enter + keys.enter + keys.enter);
	ok.job({type: 'question', question: {id: 1, kind: 'confirm', facts: facts(), requires: 'yes'}});
	ok.type('y');
	ok.job({
		type: 'result',
		result: result({data: {board: dfuBoard, erase: {mode: 'sectors', sectors: 12, bytes: 1048576, unchanged: 0, blank: 0}, written: 1048576, verified: true, left: true, durationMs: 15500, warnings: [], boardState: 'running'}}),
	});
	const f = frame(ok.state());
	assert.match(f, /Flashed successfully in 15\.5 s/);
	assert.match(f, /Verified:\s+yes/);
});

test('hints: the context hint first, whole lines, no line starts with a stray space', () => {
	const w = world({boards: []});
	w.type('?');
	const f = fits(sized(w, {columns: 60, rows: 20}), 'hints');
	const first = f.indexOf('No board found');
	assert.ok(first > 0 && first < f.indexOf('Charging-only cable'), f);
	for (const l of f.split('\n')) assert.doesNotMatch(l, /^ (?! )/, `stray space: ${JSON.stringify(l)}`);
});

test('too small: below 60x20 the app says so', () => {
	const w = world();
	const f = frame(sized(w, {columns: 50, rows: 14}));
	assert.match(f, /needs at least\s+60x20/);
});

test('no CLI flags on the screens: the hints and the result say what to press, not which flag to pass', () => {
	const w = world();
	w.type(keys.enter + keys.enter + keys.enter);
	w.job({type: 'question', question: {id: 1, kind: 'confirm', facts: facts({mismatch: 'Built for MATEKF405.'}), requires: 'force'}});
	w.type(keys.esc);
	w.job({type: 'result', result: result({ok: false, exitCode: 2, error: {code: 2, message: 'Built for MATEKF405. Nothing was written. Type force to flash it anyway.', hint: null, hintId: 'target-mismatch'}})});
	let f = fits(w.state(), 'options with the refusal');
	assert.match(f, /Firmware target differs/);
	w.type('?');
	f = frame(w.state());
	assert.match(f, /type force and press Enter/);
	assert.doesNotMatch(f, /--force/);
	const p = world();
	p.type(keys.enter + keys.enter + keys.enter + 'y');
	p.job({type: 'question', question: {id: 1, kind: 'confirm', facts: facts(), requires: 'yes'}});
	p.job({type: 'result', result: result({ok: false, exitCode: 1, data: {boardState: 'untouched'}, error: {code: 1, message: 'The chip is read-protected.', hint: null, hintId: 'read-protect'}})});
	f = frame(sized(p, {columns: 80, rows: 30}));
	assert.match(f, /Read protection/);
	assert.doesNotMatch(f, /--unprotect/);
});

const rejectedLines = Array.from({length: 30}, (_, i) => ({line: `set d_min_axis_${i} = ${20 + i}`, message: 'Invalid name'}));

function keptSettingsFlash(size: {columns: number; rows: number}) {
	const w = world({size});
	w.type(keys.down + keys.enter + keys.enter + keys.enter);
	w.job({type: 'phases', phases: ['backup', 'reboot', 'wait', 'erase', 'write', 'verify', 'leave', 'firmware', 'restore']});
	w.job({type: 'question', question: {id: 1, kind: 'confirm', facts: facts({board: serialBoard}), requires: 'yes'}});
	w.type('y');
	const warnings = rejectedLines.map((r) => ({text: `Not restored: ${r.line} (${r.message})`, hint: 'settings-rejected' as const}));
	for (const warning of warnings.slice(0, 3)) w.job({type: 'warning', warning});
	w.job({
		type: 'result',
		result: result({
			data: {
				board: serialBoard,
				erase: {mode: 'sectors', sectors: 4, bytes: 393216, unchanged: 2, blank: 0},
				written: 450000,
				verified: true,
				left: true,
				durationMs: 21300,
				warnings,
				boardState: 'running',
				firmware: {variant: 'BTFL', version: '2025.12.0', target: 'STM32F7X2', matchesImage: true},
				settings: {backup: '/home/pilot/.local/share/fcflash-tui/backups/3276364A3030/20261201T120000Z-BTFL-4.5.1.txt', restored: true, applied: 42, rejected: rejectedLines, remaining: ['set gyro_lpf1_static_hz = 250']},
			},
		}),
	});
	return w;
}

test('options: "Keep settings (backup and restore)" on for a flight controller; for a board in DFU it says why it does not apply', () => {
	for (const size of sizes) {
		const w = world();
		w.type(keys.down + keys.enter + keys.enter);
		let f = fits(sized(w, size), 'options of a flight controller');
		assert.match(f, /Keep settings \(backup and restore\)\s+\[x\]/);
		w.type(keys.down.repeat(4));
		f = fits(w.state(), 'keep settings highlighted');
		assert.match(f, /❯ Keep settings/);
		assert.match(f, /backed up over its CLI before the\s+flash\s+and restored/);
		const d = world();
		d.type(keys.enter + keys.end + keys.up + keys.enter);
		f = fits(sized(d, size), 'options of a board in DFU (.bin)');
		assert.match(f, /Keep settings \(backup and restore\)\s+–/);
		assert.match(flat(f), /no settings to read/);
	}
});

test('confirm: a flight controller\'s steps include the backup and the restore; a board in DFU is told its settings cannot be backed up', () => {
	for (const size of sizes) {
		const w = world();
		w.type(keys.down + keys.enter + keys.enter + keys.enter);
		w.job({type: 'question', question: {id: 1, kind: 'confirm', facts: facts({board: serialBoard, steps: ['back up its settings', 'reboot it into DFU', 'write 440 KiB', 'verify', 'start the firmware', 'check it runs the new firmware', 'restore its settings']}), requires: 'yes'}});
		let f = fits(sized(w, size), 'confirm FC');
		assert.match(f, /Then:\s+back up its settings, reboot it into DFU,/);
		assert.match(f, /restore its\s+settings/);
		const d = world();
		d.type(keys.enter + keys.enter + keys.enter);
		d.job({type: 'question', question: {id: 1, kind: 'confirm', facts: facts({warnings: [{text: 'The board is in DFU, so its settings cannot be backed up first: if the image is another version than it runs, they may be reset.'}]}), requires: 'yes'}});
		f = fits(sized(d, size), 'confirm DFU');
		assert.match(f, /settings\s+cannot\s+be\s+backed\s+up\s+first/);
	}
});

test('result: what runs now, the restore summary and the backup; the refused lines are one key away, in a list that scrolls', () => {
	for (const size of sizes) {
		const w = keptSettingsFlash(size);
		let f = fits(w.state(), 'result with settings');
		assert.match(f, /Running:\s+BTFL 2025\.12\.0 STM32F7X2, the flashed image/);
		assert.match(f, /Settings:\s+restored: 42 lines applied, 30 refused by\s+(the\s+)?firmware/);
		assert.match(f, /1 still\s+differs/);
		assert.match(f, /Backup:    \/home\/pilot\/\.local\/share\/fcflash-tui\/backups\/(3276364A3030\/)?\n {11}(3276364A3030\/)?20261201T120000Z-BTFL-4\.5\.1\.txt\n/, 'the path breaks after a slash');
		assert.match(f, /r refused lines/);
		assert.doesNotMatch(f, /Not restored: set d_min/, 'not repeated as warnings');
		w.type('r');
		f = fits(w.state(), 'refused lines');
		assert.match(f, /Settings not restored/);
		assert.match(f, /set d_min_axis_0 = 20 — Invalid name/);
		assert.match(f, /more below/);
		assert.match(f, /Backup: \/home\/pilot\//);
		const a = fits(w.state(), 'refused lines ascii', ascii);
		assert.match(a, /set d_min_axis_1 = 21 - Invalid name/);
		w.type(keys.pagedown);
		assert.match(fits(w.state(), 'refused lines, a page down'), /5 above \(Up\)[\s\S]*set d_min_axis_5 = 25 — Invalid name/);
		w.type(keys.end);
		f = fits(w.state(), 'refused lines, end');
		assert.match(f, /Still different after the restore/);
		assert.match(f, /set gyro_lpf1_static_hz = 250/);
		assert.match(f, /30 above/);
		w.type(keys.esc);
		assert.match(fits(w.state(), 'back on the result'), /Flashed successfully in 21\.3 s/);
	}
});

test('result: a failure after the backup names the backup; a settings backup shows its file', () => {
	for (const size of sizes) {
		const w = world();
		w.type(keys.down + keys.enter + keys.enter + keys.enter);
		w.job({type: 'question', question: {id: 1, kind: 'confirm', facts: facts({board: serialBoard}), requires: 'yes'}});
		w.type('y');
		w.job({
			type: 'result',
			result: result({
				ok: false,
				exitCode: 1,
				data: {board: serialBoard, durationMs: 1, warnings: [], boardState: 'running', firmware: {matchesImage: false}, settings: {backup: '/b/3276/20261201T120000Z-BTFL-4.5.1.txt', restored: false, applied: 0, rejected: [], remaining: []}},
				error: {code: 1, message: 'The image is on the board and its firmware was started, but /dev/ttyACM1 did not come back as a flight controller within 15 s.', hint: null, hintId: 'no-firmware'},
			}),
		});
		const f = fits(sized(w, size), 'firmware did not come back');
		assert.match(f, /Flashing failed/);
		assert.match(f, /did not\s+come\s+back as a\s+flight\s+controller/);
		assert.match(f, /Backup:\s+\/b\/3276\/20261201T120000Z-BTFL-4\.5\.1\.txt/);
		assert.match(f, /The new firmware did not come back/);
		const b = world({available: {'settings-backup': true}, size});
		b.type(keys.down + 'b');
		b.job({type: 'phases', phases: ['backup']});
		b.job({type: 'result', result: result({kind: 'settings-backup', summary: 'Saved', data: {file: '/home/pilot/.local/share/fcflash-tui/backups/3276364A3030/20261201T120000Z-BTFL-4.5.1.txt', board: {variant: 'BTFL', version: '4.5.1', target: 'STM32F7X2', mcuId: '3276364A3030'}, lines: 57, text: ''}})});
		const s = fits(b.state(), 'settings backup result');
		assert.match(s, /Saved the settings/);
		assert.match(s.replace(/\/\n +/g, '/'), /File: {6}\/home\/pilot\/\.local\/share\/fcflash-tui\/backups\/3276364A3030\/20261201T120000Z-BTFL-4\.5\.1\.txt\n/, 'the whole path, broken after a slash');
		assert.match(s, /57 lines/);
		assert.match(s, /BTFL 4\.5\.1 STM32F7X2/);
	}
});

test('question: a failed settings backup asks to go on without one, saying why once', () => {
	for (const size of sizes) {
		const w = world();
		w.type(keys.down + keys.enter + keys.enter + keys.enter);
		w.job({type: 'question', question: {id: 1, kind: 'confirm', facts: facts({board: serialBoard}), requires: 'yes'}});
		w.type('y');
		w.job({type: 'question', question: {id: 2, kind: 'continue-without-backup', reason: 'The settings backup of /dev/ttyACM1 failed: no CLI prompt after 3 s. Nothing was flashed.'}});
		const f = fits(sized(w, size), 'continue without backup');
		assert.equal(f.match(/The settings backup/g)?.length, 1, f);
		assert.match(f, /Press y to flash without a backup/);
	}
});

test('progress: waiting for the board shows the time left, what to do and the key that cancels', () => {
	for (const size of sizes) {
		const w = world({size});
		w.type(keys.down + keys.enter + keys.enter + keys.enter);
		w.job({type: 'phases', phases: ['backup', 'reboot', 'wait', 'erase', 'write', 'verify', 'leave', 'firmware', 'restore']});
		w.job({type: 'question', question: {id: 1, kind: 'confirm', facts: facts({board: serialBoard}), requires: 'yes'}});
		w.type('y');
		w.job({type: 'info', text: 'Settings saved to /home/pilot/.local/share/fcflash-tui/backups/3276364A3030/20261201T120000Z-BTFL-4.5.1.txt'});
		w.job({type: 'progress', phase: 'wait', done: 0, total: 1, rate: 0, elapsedMs: 12_400, expectedMs: 60_000});
		w.job({type: 'warning', warning: {text: 'No DFU board yet: hold the BOOT button and plug the board in again (still waiting).', hint: 'boot-button'}});
		let f = fits(w.state(), 'waiting for DFU');
		assert.match(flat(f), /Waiting for the board in DFU: 48 s left \(of 60 s\)/);
		assert.match(flat(f), /hold the BOOT button and plug the board in again/);
		assert.match(f, /Esc cancel/);
		w.type(keys.esc);
		f = fits(w.state(), 'waiting, stop question');
		assert.match(flat(f), /Stop\? Nothing has been written yet\. y stop, n go on/);
		w.type('n');
		w.job({type: 'progress', phase: 'write', done: 100, total: 1000, rate: 0});
		f = fits(w.state(), 'writing after the wait');
		assert.doesNotMatch(f, /hold the BOOT button/, 'the wait is over');
		assert.doesNotMatch(f, /left \(of/);
		w.job({type: 'progress', phase: 'firmware', done: 0, total: 1, rate: 0, elapsedMs: 3000, expectedMs: 15_000});
		f = fits(w.state(), 'waiting for the firmware');
		assert.match(flat(f), /Waiting for the flight controller to come back: 12 s left \(of 15 s\)/);
		const u = world({size});
		u.type(keys.enter + keys.enter + keys.enter);
		u.job({type: 'phases', phases: ['erase', 'write', 'verify', 'leave']});
		u.job({type: 'question', question: {id: 1, kind: 'confirm', facts: facts(), requires: 'yes'}});
		u.type('y');
		u.job({type: 'progress', phase: 'unprotect', done: 0, total: 1, rate: 0, elapsedMs: 2500, expectedMs: 40_000});
		f = fits(u.state(), 'unprotect');
		assert.match(f, /▶ Unprotect/);
		assert.match(flat(f), /Waiting for the chip to come back after the unprotect: 38 s left \(of 40 s\)/);
	}
});

const f405 = (n: number) => ({...dfuBoard, id: `3276364A30${String(n).padStart(2, '0')}`, serialNumber: `3276364A30${String(n).padStart(2, '0')}`, usbPath: `1-1.${n}`});
const fleetId = (n: number) => `3276364A30${String(n).padStart(2, '0')}@1-1.${n}`;

/** The fleet screen with 12 boards: 9 flashed, 1 writing, 1 failed, 1 skipped. */
function fleetOf12(size: {columns: number; rows: number}) {
	const w = world({size});
	w.type(keys.enter + keys.enter + keys.end + keys.enter);
	w.job({type: 'question', question: {id: 1, kind: 'confirm-fleet', file: '/fw/betaflight-4.5.1-STM32F405.hex', image: image('/fw/betaflight-4.5.1-STM32F405.hex', 'STM32F405')}});
	let f = fits(w.state(), 'confirm fleet');
	assert.match(flat(f), /every board that is plugged in/);
	w.type('y');
	const ev = (n: number, event: import('../source/jobs/types.js').JobEvent) => w.job({type: 'fleet', boardId: fleetId(n), board: f405(n), event});
	for (let n = 1; n <= 9; n++) {
		ev(n, {type: 'phases', phases: ['erase', 'write', 'verify', 'leave']});
		ev(n, {type: 'result', result: result({data: {board: f405(n), durationMs: 2100 + n, verified: true, left: true, warnings: [], boardState: 'running', firmware: null, settings: null}})});
	}
	ev(10, {type: 'phases', phases: ['erase', 'write', 'verify', 'leave']});
	ev(10, {type: 'progress', phase: 'write', done: 300 * 1024, total: 600 * 1024, rate: 60000});
	ev(11, {type: 'result', result: result({ok: false, exitCode: 1, data: {boardState: 'partly-written'}, error: {code: 1, message: 'The board left the bus at 0x08020000 while writing.', hint: null, hintId: 'device-gone'}})});
	w.job({type: 'board-skipped', boardId: '206A37813153@1-1.12', board: {...dfuBoard, id: '206A37813153', serialNumber: '206A37813153', usbPath: '1-1.12', chip: 'STM32F7x2 (512 KiB)'}, reason: 'The image is built for STM32F405, but the board is an STM32F7x2.'});
	f = fits(w.state(), 'fleet of 12');
	return {w, f};
}

test('fleet: a row per board (id, name, phase, progress, result or skip reason), the counts, scrolling at 80x24 and 60x20', () => {
	for (const size of sizes) {
		let {w, f} = fleetOf12(size);
		assert.match(f, /Flash on connect/);
		assert.match(flat(f), /Tried 11: 9 flashed, 1 failed, 1 under way; 1 skipped/);
		assert.match(f, /❯ ✔ 3276364A3001@1-1\.1\s+STM32F405\s+flashed in 2\.1 s/);
		assert.match(f, /more below/);
		assert.match(flat(f), /Esc stop taking boards/);
		// The last rows: scroll there.
		w.type(keys.end);
		f = fits(w.state(), 'fleet, end');
		assert.match(f, /more above/);
		assert.match(f, /▶ 3276364A3010@1-1\.10\s+STM32F405\s+Write\s+[█░]+\s+50%/);
		assert.match(f, /✘ 3276364A3011@1-1\.11\s+STM32F405\s+FAILED/);
		assert.match(f, /❯ – 206A37813153@1-1\.12\s+STM32F7x2\s+skipped/);
		// The highlighted board's whole story under the list.
		assert.match(flat(f), /The image is built for STM32F405, but the board is an STM32F7x2\./);
		w.type(keys.up);
		f = fits(w.state(), 'fleet, the failed board');
		assert.match(flat(f), /The board left the bus at 0x08020000 while writing\./);
		const a = fits(w.state(), 'fleet ascii', ascii);
		assert.match(a, /^[\x00-\x7f]*$/);
		({w} = fleetOf12(size));
		w.type(keys.esc);
		f = fits(w.state(), 'fleet, stop question');
		assert.match(flat(f), /Stop taking boards\? The flashes under way finish first\. y stop, n go on/);
		w.type('y');
		f = fits(w.state(), 'fleet, stopping');
		assert.match(flat(f), /Not taking new boards: 1 flash under way finishes first/);
		assert.match(flat(f), /Esc stop the flashes under way/);
		w.job({type: 'fleet', boardId: fleetId(10), board: f405(10), event: {type: 'result', result: result({data: {board: f405(10), durationMs: 5000, verified: true, left: true, warnings: [], boardState: 'running'}})}});
		w.job({
			type: 'result',
			result: result({kind: 'on-connect', ok: false, cancelled: true, exitCode: 130, summary: 'x', error: {code: 130, message: 'Stopped taking boards. 11 boards tried: 10 flashed, 1 failed, 1 skipped.\n  a: ok', hint: 'No flash was cut short.', hintId: 'interrupted'}}),
		});
		f = fits(w.state(), 'fleet, the end');
		assert.match(flat(f), /Stopped taking boards\. 11 boards tried: 10 flashed, 1 failed, 1 skipped\./);
		assert.doesNotMatch(f, /a: ok/, 'the per-board lines are the rows');
		assert.match(f, /Enter device list/);
	}
});
