// End to end: the real bundled binary (dist/cli.js --simulate) in tmux at 80x24, driven with keys
// from the device list through a full flash and back, once with UTF-8 and once with TERM=dumb.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {existsSync, mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {writeDemoFiles} from '../scripts/synthetic-firmware.js';
import {hasTool} from './helpers/tools.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist', 'cli.js');
const hasTmux = hasTool('tmux');
const skip = !hasTmux ? 'tmux is not installed (CI installs it)' : !existsSync(cli) ? 'dist/cli.js is missing: run npm run build' : false;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

class Tmux {
	readonly socket = `fcflash-e2e-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
	tmux(...args: string[]): string {
		return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], {encoding: 'utf8'});
	}
	start(env: Record<string, string>, command: string) {
		// A clean environment: no CI variables (Ink prints only the last frame in CI), our locale/TERM.
		const vars = Object.entries({PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env})
			.map(([k, v]) => `${k}=${shellQuote(v)}`)
			.join(' ');
		this.tmux('new-session', '-d', '-x', '80', '-y', '24', `env -i ${vars} ${command}; echo EXIT=$?; sleep 60`);
	}
	capture(): string {
		return this.tmux('capture-pane', '-p');
	}
	keys(...keys: string[]) {
		this.tmux('send-keys', ...keys);
	}
	async waitFor(want: string | RegExp, ms = 15000): Promise<string> {
		const end = Date.now() + ms;
		for (;;) {
			const screen = this.capture();
			if (typeof want === 'string' ? screen.includes(want) : want.test(screen)) return screen;
			if (Date.now() > end) assert.fail(`timed out waiting for ${String(want)}; screen:\n${screen}`);
			await sleep(50);
		}
	}
	kill() {
		try {
			this.tmux('kill-server');
		} catch {
			// Already gone.
		}
	}
}

async function fullFlash(env: Record<string, string>, check: (screen: string, step: string) => void) {
	const dir = mkdtempSync(join(tmpdir(), 'fcflash-tui-e2e-'));
	writeDemoFiles(dir);
	const t = new Tmux();
	try {
		t.start({FCFLASH_SIM_TIME_SCALE: '0', ...env}, `node ${shellQuote(cli)} --simulate --firmware ${shellQuote(dir)}`);
		const step = async (name: string, want: string | RegExp, ms?: number) => {
			const screen = await t.waitFor(want, ms);
			check(screen, name);
			// Every frame is drawn in place: the title is on the first row, exactly once.
			if (!/EXIT=/.test(screen)) {
				assert.match(screen.split('\n')[0]!, /^fcflash-tui /, `${name}: title on the first row\n${screen}`);
				assert.equal(screen.match(/fcflash-tui [-–] /g)?.length, 1, `${name}: one frame on screen\n${screen}`);
			}
			return screen;
		};
		let s = await step('device list', '2 boards connected');
		assert.match(s, /(❯|>) STM32F405\/F407 \(1 MiB\)  DFU/);
		assert.match(s, /sim:ttyACM1  BTFL 4\.5\.1 STM32F7X2/);
		t.keys('Enter');
		s = await step('firmware picker', 'Fits this board');
		assert.match(s, /(❯|>) betaflight-4\.5\.1-STM32F405\.hex/);
		assert.match(s, /Address 0x08000000-0x080A8FFF, 2 segments/);
		t.keys('Enter');
		s = await step('options', 'Full chip erase');
		assert.match(s, /not relevant: the board is already in DFU/);
		t.keys('Enter');
		s = await step('confirmation', 'Flash this board?');
		assert.match(s, /Erase:  \d+ sectors/);
		t.keys('y');
		s = await step('result', 'Flashed successfully', 30000);
		assert.match(s, /Verified:\s+yes/);
		t.keys('Enter');
		s = await step('device list again', 'Choose a board');
		// The flashed board left DFU and runs Betaflight now.
		s = await step('device list updated', /sim:ttyACM0  BTFL 4\.5\.1 STM32F405/);
		t.keys('q');
		s = await t.waitFor('EXIT=0');
	} finally {
		t.kill();
	}
}

test('e2e: the built binary flashes a simulated board in tmux at 80x24 (UTF-8)', {skip, timeout: 90_000}, async () => {
	await fullFlash({TERM: 'screen', LANG: 'C.UTF-8'}, (screen, step) => {
		for (const line of screen.split('\n')) assert.ok(line.length <= 80, `${step}: line wider than 80 columns`);
	});
});

test('e2e: TERM=dumb shows ASCII only', {skip, timeout: 90_000}, async () => {
	await fullFlash({TERM: 'dumb', LANG: 'en_US.UTF-8'}, (screen, step) => {
		const bad = screen.match(/[^\x00-\x7f]/);
		assert.equal(bad, null, `${step}: non-ASCII character ${JSON.stringify(bad?.[0])} in\n${screen}`);
	});
});

test('e2e: a POSIX locale (LANG unset) shows ASCII only', {skip, timeout: 90_000}, async () => {
	await fullFlash({TERM: 'screen'}, (screen, step) => {
		const bad = screen.match(/[^\x00-\x7f]/);
		assert.equal(bad, null, `${step}: non-ASCII character ${JSON.stringify(bad?.[0])} in\n${screen}`);
	});
});
