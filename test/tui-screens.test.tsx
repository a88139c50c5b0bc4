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
		assert.match(f, /Not needed: the board is already in DFU/);
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
