// The screen writer: what reaches the terminal is exactly the frame, whatever was on the screen
// before, with absolute positions only; the shell's screen comes back; output stays small.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {ScreenWriter, parseRow, enterScreen, leaveScreen} from '../source/screens/screen-writer.js';
import {VirtualTerminal} from './helpers/vt.js';

const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');
const expected = (frame: string, columns: number, rows: number) => {
	const lines = frame.split('\n').slice(0, rows).map((l) => [...strip(l)].slice(0, columns).join('').trimEnd());
	while (lines.length < rows) lines.push('');
	return lines;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function setup(columns = 80, rows = 24, before: string[] = []) {
	const vt = new VirtualTerminal(columns, rows, before);
	let written = '';
	const writer = new ScreenWriter(
		{
			write: (s: string) => {
				written += s;
				vt.write(s);
			},
		},
		{columns, rows, maxFps: 1000},
	);
	return {vt, writer, written: () => written, reset: () => (written = '')};
}

const screenful = Array.from({length: 24}, (_, i) => `-rwxr-xr-x 1 root root ${1000 + i} Nov 24 12:00 /usr/bin/tool-${i}`);

test('screen writer: the first frame after a screenful of output is exact; quitting brings the shell screen back', () => {
	const {vt, writer} = setup(80, 24, screenful);
	writer.start();
	assert.equal(vt.alternate, true);
	assert.equal(vt.cursorHidden, true);
	const frame = 'fcflash-tui – Choose a board\n' + '─'.repeat(80) + '\n\x1b[36m\x1b[1m❯ STM32F405  DFU\x1b[22m\x1b[39m\n    details';
	writer.frame(frame);
	writer.flush();
	assert.deepEqual(vt.lines(), expected(frame, 80, 24));
	writer.stop();
	assert.equal(vt.alternate, false);
	assert.equal(vt.cursorHidden, false);
	assert.deepEqual(vt.lines(), screenful.map((l) => l.trimEnd()));
});

test('screen writer: any sequence of frames shows exactly the latest, with absolute positions only', () => {
	let seed = 7;
	const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
	const words = ['fcflash-tui', 'Erase', '████░░░', '42%', '❯', 'STM32F405', 'x', '', '0x08000000', '…'];
	const styles = ['', '\x1b[36m', '\x1b[1m', '\x1b[33m\x1b[1m', '\x1b[90m'];
	for (const [columns, rows] of [
		[80, 24],
		[60, 20],
		[100, 30],
	] as const) {
		const {vt, writer, written} = setup(columns, rows, screenful);
		writer.start();
		for (let n = 0; n < 200; n++) {
			const height = rnd(rows + 4);
			const lines: string[] = [];
			for (let r = 0; r < height; r++) {
				let line = '';
				const parts = rnd(6);
				for (let p = 0; p < parts; p++) {
					const style = styles[rnd(styles.length)]!;
					line += `${style}${words[rnd(words.length)]}${' '.repeat(rnd(3))}${style ? '\x1b[0m' : ''}`;
				}
				if (rnd(10) === 0) line = 'w'.repeat(columns + rnd(5));
				lines.push(line);
			}
			const frame = lines.join('\n');
			writer.frame(frame);
			writer.flush();
			assert.deepEqual(vt.lines(), expected(frame, columns, rows), `frame ${n} at ${columns}x${rows}`);
		}
		assert.equal(vt.relativeMoves, 0, 'no relative cursor movement');
		assert.doesNotMatch(written(), /\x1b\[\d*[ABEF]/);
		writer.stop();
	}
});

test('screen writer: a progress update writes only the changed cells', () => {
	const {writer, written, reset, vt} = setup();
	writer.start();
	const frame = (pct: number, rate: string) =>
		[
			'fcflash-tui – Flashing',
			'─'.repeat(80),
			'Board: STM32F405/F407 (1 MiB) (SN 3276364A3030)',
			'',
			` \x1b[32m✔ Erase\x1b[39m`,
			` \x1b[36m\x1b[1m▶ Write              ${'█'.repeat(Math.round(pct * 0.4)).padEnd(40, '░')} ${String(pct).padStart(3)}%\x1b[22m\x1b[39m`,
			' · Verify',
			'',
			` ${pct * 10} KiB / 1.00 MiB  ${rate}  ~9.3 s left`,
		].join('\n');
	writer.frame(frame(41, '64.0 KiB/s'));
	writer.flush();
	reset();
	writer.frame(frame(42, '64.1 KiB/s'));
	writer.flush();
	const out = written();
	assert.ok(Buffer.byteLength(out) < 80, `${Buffer.byteLength(out)} bytes: ${JSON.stringify(out)}`);
	assert.deepEqual(vt.lines(), expected(frame(42, '64.1 KiB/s'), 80, 24));
	assert.doesNotMatch(out, /Board:/, 'unchanged rows are not written');
	reset();
	writer.frame(frame(42, '64.1 KiB/s'));
	writer.flush();
	assert.equal(written(), '', 'the same frame writes nothing');
	assert.equal(writer.redraws, 2);
});

test('screen writer: at most maxFps writes in any second, the latest frame wins', async () => {
	let writes = 0;
	const vt = new VirtualTerminal(80, 24);
	const writer = new ScreenWriter({write: (s: string) => (writes++, vt.write(s))}, {columns: 80, rows: 24, maxFps: 10});
	writer.start();
	writes = 0;
	for (let i = 0; i < 50; i++) writer.frame(`frame ${i}`);
	assert.equal(writes, 10, 'ten frames go at once, the rest waits');
	assert.equal(vt.lines()[0], 'frame 9');
	await sleep(400);
	assert.equal(writes, 10, 'not before the second is over');
	await sleep(800);
	assert.equal(writes, 11, 'then the latest frame, once');
	assert.equal(vt.lines()[0], 'frame 49');
	assert.ok(writer.maxRedrawsPerSecond() <= 10);
	writer.stop();
});

test('screen writer: after kill (SIGHUP) nothing is written, not even on stop', () => {
	const {writer, written, reset} = setup();
	writer.start();
	writer.frame('a');
	writer.flush();
	reset();
	writer.kill();
	writer.frame('b');
	writer.flush();
	writer.stop();
	assert.equal(written(), '');
});

test('screen writer: a resize repaints the whole screen at the new size', () => {
	const {writer, vt, written, reset} = setup(80, 24);
	writer.start();
	writer.frame('title\nline two');
	writer.flush();
	reset();
	vt.write('garbage left by the terminal');
	writer.resize(60, 20);
	writer.flush();
	assert.match(written(), /\x1b\[2J/);
	assert.equal(vt.lines()[0], 'title');
	assert.equal(writer.columns, 60);
});

test('screen writer: rows are cells with styles; unknown escapes and wide characters are rewritten whole', () => {
	const row = parseRow('\x1b[36mab\x1b[39mc', 80);
	assert.deepEqual(
		row.cells.map((c) => [c.ch, c.style]),
		[
			['a', '36'],
			['b', '36'],
			['c', ''],
		],
	);
	assert.equal(parseRow('\x1b]8;;x\x07link', 80).opaque !== undefined, true);
	assert.equal(parseRow('日本', 80).opaque !== undefined, true);
	assert.equal(parseRow('abc   ', 80).width, 3, 'trailing blanks are nothing');
	assert.ok(enterScreen.includes('\x1b[?1049h') && leaveScreen.includes('\x1b[?1049l'));
});
