// End to end: the real bundled binary (dist/cli.js --simulate) in tmux, started after a screenful
// of output, driven through a whole flash. On every screen the pane must be exactly the frame the
// app wrote (no stale or duplicated row, nothing missing), also after a resize mid-flash; after
// quitting, the shell's screen is back. Keys sent in one burst end where slow keys end. SIGHUP
// mid-flash: the flash finishes and the process exits with its code.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {writeDemoFiles} from '../scripts/synthetic-firmware.js';
import {hasTool} from './helpers/tools.js';
import {shellQuote, sleep, Tmux} from './helpers/tmux.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
// FCFLASH_E2E_CLI runs these tests against another build (e.g. an older one, to see them fail).
const cli = process.env.FCFLASH_E2E_CLI ?? join(root, 'dist', 'cli.js');
const skip = !hasTool('tmux') ? 'tmux is not installed (CI installs it)' : !existsSync(cli) ? 'dist/cli.js is missing: run npm run build' : false;
const screenful = 'ls -la /usr/bin | head -40; echo READY; sleep 0.3';

function demo() {
	const dir = mkdtempSync(join(tmpdir(), 'fcflash-tui-e2e-'));
	writeDemoFiles(dir);
	return dir;
}

interface Run {
	t: Tmux;
	frames: string;
	dir: string;
}

function launch(columns: number, rows: number, env: Record<string, string>, args = '--simulate', before = screenful, dir = demo()): Run {
	const frames = join(dir, 'frames.txt');
	const t = new Tmux(columns, rows);
	t.start({FCFLASH_SIM_TIME_SCALE: '0', FCFLASH_TUI_FRAMES: frames, ...env}, `${before}; node ${shellQuote(cli)} ${args} --firmware ${shellQuote(dir)}`);
	return {t, frames, dir};
}

/** The shell's screen as it was before the app, with EXIT= below it. */
function assertShellBack(before: string[], after: string[]) {
	const rb = before.indexOf('READY');
	const ra = after.indexOf('READY');
	assert.ok(rb >= 0 && ra >= 0, `READY on both screens:\n${before.join('\n')}\n---\n${after.join('\n')}`);
	assert.deepEqual(after.slice(0, ra + 1), before.slice(rb - ra, rb + 1), 'the screen from before the app is back');
	assert.match(after[ra + 1] ?? '', /^EXIT=/);
	assert.ok(!after.some((l) => l.includes('fcflash-tui –')), 'no frame left on the shell screen');
}

async function fullFlash(columns: number, rows: number, env: Record<string, string>, check: (screen: string[], step: string) => void = () => {}) {
	const {t, frames} = launch(columns, rows, env);
	try {
		const before = (await t.waitFor('READY')).split('\n');
		const step = async (name: string, want: string | RegExp, ms?: number) => {
			await t.waitFor(want, ms);
			const screen = await t.matchesFrame(frames, name);
			check(screen, name);
			assert.match(screen[0]!, /^fcflash-tui /, `${name}: title on the first row`);
			assert.equal(screen.filter((l) => /^fcflash-tui [-–] /.test(l)).length, 1, `${name}: one title`);
			return screen.join('\n');
		};
		let s = await step('device list', '2 boards connected');
		assert.match(s, /(❯|>) STM32F405\/F407 \(1 MiB\)  DFU/);
		t.keys('Enter');
		s = await step('firmware picker', 'Fits this board');
		assert.match(s, /(❯|>) (✔|\+) betaflight-4\.5\.1-STM32F405\.hex/);
		t.keys('Enter');
		s = await step('options', 'Full chip erase');
		t.keys('Enter');
		s = await step('confirmation', 'Flash this board?');
		assert.match(s, /Erase:  (at most )?\d+ sectors/);
		t.keys('y');
		s = await step('result', 'Flashed successfully', 30000);
		assert.match(s, /Verified:\s+yes/);
		t.keys('Enter');
		await step('device list again', /BTFL 4\.5\.1 STM32F405/);
		t.keys('q');
		await t.waitFor('EXIT=0');
		assertShellBack(before, t.lines());
	} finally {
		t.kill();
	}
}

const wide = (columns: number) => (screen: string[], step: string) => {
	for (const line of screen) assert.ok([...line].length <= columns, `${step}: line wider than ${columns} columns`);
};
const asciiOnly = (screen: string[], step: string) => {
	const bad = screen.join('\n').match(/[^\x00-\x7f]/);
	assert.equal(bad, null, `${step}: non-ASCII character ${JSON.stringify(bad?.[0])} in\n${screen.join('\n')}`);
};

for (const [columns, rows] of [
	[80, 24],
	[60, 20],
	[100, 30],
] as const) {
	test(`e2e: a whole flash at ${columns}x${rows} after a screenful of output: every screen is exactly the frame; the shell screen comes back`, {skip, timeout: 90_000}, async () => {
		await fullFlash(columns, rows, {TERM: 'screen', LANG: 'C.UTF-8'}, wide(columns));
	});
}

test('e2e: TERM=dumb shows ASCII only', {skip, timeout: 90_000}, async () => {
	await fullFlash(80, 24, {TERM: 'dumb', LANG: 'en_US.UTF-8'}, asciiOnly);
});

test('e2e: a POSIX locale (LANG unset) shows ASCII only', {skip, timeout: 90_000}, async () => {
	await fullFlash(80, 24, {TERM: 'screen'}, asciiOnly);
});

test('e2e: a resize during a flash redraws the whole frame at the new size', {skip, timeout: 90_000}, async () => {
	const {t, frames} = launch(80, 24, {TERM: 'screen', LANG: 'C.UTF-8', FCFLASH_SIM_TIME_SCALE: '0.5'}, '--simulate=stm32f405');
	try {
		await t.waitFor('1 board connected');
		t.keys('Enter');
		await t.waitFor('Fits this board');
		t.keys('End', 'Enter');
		await t.waitFor('Full chip erase');
		t.keys('Enter');
		await t.waitFor('Flash this board?');
		t.keys('y');
		await t.waitFor(/▶ (Compare|Erase|Write)/);
		t.resize(64, 21);
		await sleep(300);
		await t.waitFor(/▶ (Erase|Write)/);
		await t.matchesFrame(frames, 'after shrinking');
		t.resize(90, 26);
		await sleep(300);
		await t.matchesFrame(frames, 'after growing');
		await t.waitFor('Flashed successfully', 60000);
		await t.matchesFrame(frames, 'result after the resizes');
	} finally {
		t.kill();
	}
});

test('e2e: keys sent in one burst end on the same screen and selection as the same keys sent slowly', {skip, timeout: 90_000}, async () => {
	const sequences: string[][] = [
		['Enter', 'Down', 'Down', 'Enter'],
		['Enter', '/', 'F722', 'BSpace', 'BSpace', 'BSpace', 'BSpace', '399', 'BSpace', 'BSpace', 'BSpace', 'Escape', 'End', 'Up', 'Enter'],
		['Down', 'Enter', 'Enter', 'Down', 'Down', 'Space', 'Escape', 'Up', 'Enter'],
	];
	for (const keys of sequences) {
		const screens: string[] = [];
		const dir = demo();
		for (const slow of [false, true]) {
			const {t} = launch(80, 24, {TERM: 'screen', LANG: 'C.UTF-8'}, '--simulate', 'true', dir);
			try {
				await t.waitFor('2 boards connected');
				if (slow) {
					for (const k of keys) {
						t.keys(k);
						await sleep(150);
					}
				} else t.keys(...keys);
				await sleep(1200);
				screens.push(t.capture());
			} finally {
				t.kill();
			}
		}
		assert.equal(screens[0], screens[1], `keys ${keys.join(' ')}: burst (first) and slow (second) differ`);
	}
});

/** A PTY whose master is closed mid-flash: the app (session leader) gets SIGHUP and EIO. */
const ptyScript = String.raw`
import os, pty, sys, time, select
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
out = b''
deadline = time.time() + 30
while time.time() < deadline and os.environ['MARKER'].encode() not in out:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            out += os.read(fd, 65536)
        except OSError:
            break
    if b'Flash this board?' in out and b'SENT-Y' not in out:
        os.write(fd, b'y'); out += b'SENT-Y'
    if b'Fits this board' in out and b'SENT-1' not in out:
        os.write(fd, b'\r'); out += b'SENT-1'
    if b'Full chip erase' in out and b'SENT-2' not in out:
        os.write(fd, b'\r'); out += b'SENT-2'
    if b'2 boards connected' in out and b'SENT-0' not in out:
        os.write(fd, b'\r'); out += b'SENT-0'
os.close(fd)
_, status = os.waitpid(pid, 0)
print('SIGNAL' if os.WIFSIGNALED(status) else 'EXIT', os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status))
`;

test('e2e: SIGHUP mid-flash (the PTY is closed): the flash finishes, the result is logged, the exit code is the flash\'s', {skip: skip || (!hasTool('python3') && 'python3 is missing'), timeout: 90_000}, () => {
	const dir = demo();
	const script = join(dir, 'hangup-harness.py');
	writeFileSync(script, ptyScript);
	const state = join(dir, 'state');
	const r = spawnSync('python3', [script, process.execPath, cli, '--simulate', '--firmware', dir], {
		env: {MARKER: '▶ Write', PATH: process.env.PATH, HOME: dir, XDG_STATE_HOME: state, TERM: 'xterm', LANG: 'C.UTF-8', FCFLASH_SIM_TIME_SCALE: '0.3'},
		encoding: 'utf8',
		timeout: 80_000,
	});
	assert.equal(r.status, 0, r.stderr);
	assert.equal(r.stdout.trim(), 'EXIT 0', `not 134 (abort) nor a signal: ${r.stdout} ${r.stderr}`);
	const log = readFileSync(join(state, 'fcflash-tui', 'flash.log'), 'utf8');
	assert.match(log, /"job":"flash","ok":true,"exitCode":0,"reason":"hangup".*betaflight-4\.5\.1-STM32F405\.hex/);
});

test('e2e: the UI starts from the code-cached bundle (cache written on the first start, used on the next) and without it', {skip, timeout: 60_000}, async () => {
	assert.ok(existsSync(join(root, 'dist', 'tui-app.cjs')), 'the bundle step builds dist/tui-app.cjs');
	const cache = mkdtempSync(join(tmpdir(), 'fcflash-tui-cache-'));
	const envs: Record<string, string>[] = [{XDG_CACHE_HOME: cache}, {XDG_CACHE_HOME: cache}, {XDG_CACHE_HOME: cache, FCFLASH_NO_CODE_CACHE: '1'}];
	for (const env of envs) {
		const {t} = launch(80, 24, {TERM: 'screen', LANG: 'C.UTF-8', ...env}, '--simulate', 'true');
		try {
			await t.waitFor('2 boards connected');
			await sleep(1800);
			t.keys('q');
			await t.waitFor('EXIT=0');
		} finally {
			t.kill();
		}
		const files = readdirSync(join(cache, 'fcflash-tui'));
		assert.equal(files.filter((f) => f.endsWith('.v8')).length, 1, files.join(' '));
	}
});

/** Where a run keeps its settings backups and flash log: in its demo folder, not the home folder. */
const homes = (dir: string) => ({XDG_DATA_HOME: join(dir, 'data'), XDG_STATE_HOME: join(dir, 'state')});

test('e2e: flash on connect at 80x24 after a screenful: two F405s flashed as they arrive, the F722 skipped; every screen is the frame; stopped with Esc, the summary, back to the device list', {skip, timeout: 120_000}, async () => {
	const dir = demo();
	const {t, frames} = launch(80, 24, {TERM: 'screen', LANG: 'C.UTF-8', ...homes(dir)}, '--simulate=stm32f405,stm32f405,stm32f722 --simulate-arrival 1500', screenful, dir);
	try {
		const before = (await t.waitFor('READY')).split('\n');
		const step = async (name: string, want: string | RegExp, ms?: number) => {
			await t.waitFor(want, ms);
			const screen = await t.matchesFrame(frames, name);
			assert.equal(screen.filter((l) => /^fcflash-tui [-–] /.test(l)).length, 1, `${name}: one title`);
			for (const line of screen) assert.ok([...line].length <= 80, `${name}: line wider than 80 columns`);
			return screen.join('\n');
		};
		await step('device list', '1 board connected');
		t.keys('Enter');
		await step('firmware picker', 'Fits this board');
		t.keys('Enter');
		await step('options', 'Full chip erase');
		t.keys('End');
		let s = await step('options, the flash on connect row', '❯ Flash on connect');
		assert.match(s, /Enter flash on connect/);
		t.keys('Enter');
		s = await step('confirmation', 'Flash this file onto every board');
		assert.match(s, /Image:\s+Betaflight 4\.5\.1, built for STM32F405/);
		t.keys('y');
		s = await step('fleet, two flashed, one skipped', /Tried 2: 2 flashed, 0 failed, 0 under way; 1 skipped/, 60_000);
		const rows = s.split('\n').filter((l) => /^(❯| ) [✔▶✘–] /.test(l));
		assert.equal(rows.length, 3, s);
		assert.equal(rows.filter((l) => /STM32F405\s+flashed in /.test(l)).length, 2, s);
		assert.match(rows.find((l) => /skipped/.test(l)) ?? '', /STM32F7\S*\s+skipped: /);
		t.keys('Escape');
		s = await step('fleet, stop question', 'Stop taking boards?');
		t.keys('y');
		s = await step('fleet, the summary', 'Press Enter to return to the device list', 30_000);
		assert.match(s, /Stopped taking boards\. 2 boards tried: 2 flashed, 0 failed, 1 skipped\./);
		t.keys('Enter');
		await step('device list again', 'Choose a board');
		t.keys('q');
		await t.waitFor('EXIT=0');
		assertShellBack(before, t.lines());
		const log = readFileSync(join(dir, 'state', 'fcflash-tui', 'flash.log'), 'utf8');
		assert.equal(log.split('\n').filter((l) => /"reason":"on-connect","ok":true/.test(l)).length, 2, log);
	} finally {
		t.kill();
	}
});

test('e2e: a keep-settings flash of the demo F722 at 80x24: the result shows what runs now, the settings and the backup file', {skip, timeout: 90_000}, async () => {
	const dir = demo();
	const {t, frames} = launch(80, 24, {TERM: 'screen', LANG: 'C.UTF-8', ...homes(dir)}, '--simulate', screenful, dir);
	try {
		await t.waitFor('2 boards connected');
		t.keys('Down', 'Enter');
		await t.waitFor(/❯ ✔ betaflight-4\.5\.1-STM32F722\.hex/);
		t.keys('Enter');
		await t.waitFor('Keep settings');
		let s = (await t.matchesFrame(frames, 'options')).join('\n');
		assert.match(s, /Keep settings \(backup and restore\)\s+\[x\]/);
		t.keys('Enter');
		await t.waitFor('Flash this board?');
		s = (await t.matchesFrame(frames, 'confirmation')).join('\n');
		assert.match(s, /back up its settings/);
		t.keys('y');
		await t.waitFor('Flashed successfully', 60_000);
		s = (await t.matchesFrame(frames, 'result')).join('\n');
		assert.match(s, /Running:\s+BTFL 4\.5\.1 STM32F7X2, the flashed image/);
		assert.match(s, /Settings:\s+(kept|restored)/);
		const backup = /Backup:\s+(\S+)/.exec(s.replace(/\/\n +/g, '/'))?.[1];
		assert.ok(backup?.startsWith(join(dir, 'data', 'fcflash-tui', 'backups')) && existsSync(backup), s);
		t.keys('Enter');
		await t.waitFor('Choose a board');
		t.keys('q');
		await t.waitFor('EXIT=0');
	} finally {
		t.kill();
	}
});
