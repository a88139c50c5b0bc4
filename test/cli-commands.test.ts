// The headless commands other than flash/inspect exit codes (test/cli.test.ts covers those): list
// --watch, backup, leave, dfu, help text, plain output without escape codes, JSON lines, and the
// interactive confirmation of flash in a real PTY. Runs the bundled CLI against --simulate boards.
import assert from 'node:assert/strict';
import {spawn, spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {after, before, describe, it} from 'node:test';
import {Reporter} from '../source/cli/reporter.js';
import {diffBoards, watchCommand} from '../source/commands/list.js';
import type {Board, BoardSource, DfuBoard, SerialBoard} from '../source/devices/types.js';
import {betaflightLikeImage, toIntelHex} from '../scripts/synthetic-firmware.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = process.env.FCFLASH_TEST_CLI ?? join(repo, 'dist', 'cli.js');
const env = {...process.env, FCFLASH_SIM_TIME_SCALE: '0', TERM: 'dumb', NO_COLOR: '1'};
const ansi = /\x1b\[|\r/;

/** The flag names declared in source/cli/flags.ts. */
function cliFlagsForTests(): string[] {
	const text = readFileSync(join(repo, 'source', 'cli', 'flags.ts'), 'utf8');
	const block = text.slice(text.indexOf('export const cliFlags = {'), text.indexOf('} as const;'));
	const names = [...block.matchAll(/^\t(\w+): \{type/gm)].map((m) => m[1]!);
	assert.ok(names.length >= 10, 'found the flag table');
	return names;
}

interface Run {
	code: number | null;
	stdout: string;
	stderr: string;
}

function run(args: string[], extraEnv: Record<string, string> = {}, cwd?: string): Run {
	const r = spawnSync(process.execPath, [cli, ...args], {env: {...env, ...extraEnv}, encoding: 'utf8', cwd, timeout: 60_000});
	return {code: r.status, stdout: r.stdout, stderr: r.stderr};
}

function jsonLines(stdout: string): Array<Record<string, any>> {
	const lines = stdout.split('\n').filter((l) => l.length > 0);
	assert.ok(lines.length > 0, 'no output');
	return lines.map((l) => {
		try {
			return JSON.parse(l) as Record<string, any>;
		} catch {
			assert.fail(`stdout line is not JSON: ${l}`);
		}
	});
}

function lastResult(stdout: string): Record<string, any> {
	const lines = jsonLines(stdout);
	const last = lines.at(-1)!;
	assert.equal(last.event, 'result');
	assert.equal(lines.filter((l) => l.event === 'result').length, 1, 'exactly one result object');
	return last;
}

let dir: string;
let hexFile: string;
let f722Hex: string;

before(() => {
	dir = mkdtempSync(join(tmpdir(), 'fcflash-cmds-'));
	hexFile = join(dir, 'betaflight-STM32F405.hex');
	writeFileSync(hexFile, toIntelHex(betaflightLikeImage({target: 'STM32F405', bytes: 200 * 1024})));
	f722Hex = join(dir, 'betaflight-STM32F7X2.hex');
	writeFileSync(f722Hex, toIntelHex(betaflightLikeImage({target: 'STM32F7X2', bytes: 120 * 1024, seed: 3})));
});
after(() => rmSync(dir, {recursive: true, force: true}));

describe('--help', () => {
	it('lists every command and every flag, with examples', () => {
		const r = run(['--help']);
		assert.equal(r.code, 0);
		for (const command of ['flash', 'inspect', 'list', 'backup', 'dfu', 'leave', 'doctor', 'udev-rules']) {
			assert.match(r.stdout, new RegExp(`\\$ fcflash-tui ${command}\\b`), `usage line for ${command}`);
			assert.match(r.stdout, new RegExp(`Examples[\\s\\S]*\\$ fcflash-tui ${command}\\b`), `example for ${command}`);
		}
		for (const flag of cliFlagsForTests()) {
			const kebab = flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
			const shown = flag === 'verify' || flag === 'reboot' || flag === 'keepSettings' ? `--no-${kebab}` : `--${kebab}`;
			assert.ok(r.stdout.includes(shown), `help mentions ${shown}`);
		}
		assert.match(r.stdout, /"read" for backup/);
		assert.doesNotMatch(r.stdout, ansi);
	});

	it('an unknown command is a usage error (exit 2)', () => {
		const r = run(['frobnicate']);
		assert.equal(r.code, 2);
		assert.match(r.stderr, /Unknown command "frobnicate".*--help/);
	});
});

describe('list', () => {
	it('--json prints one result line', () => {
		const r = run(['list', '--simulate', '--json']);
		assert.equal(r.code, 0);
		const result = lastResult(r.stdout);
		assert.deepEqual(
			result.boards.map((b: Board) => b.kind),
			['dfu', 'serial'],
		);
	});

	it('--watch --json prints attach events and stops with exit 0 on SIGINT', async () => {
		const child = spawn(process.execPath, [cli, 'list', '--watch', '--json', '--simulate'], {env, stdio: ['ignore', 'pipe', 'pipe']});
		let out = '';
		child.stdout.setEncoding('utf8');
		const twoLines = new Promise<void>((resolve) => {
			child.stdout.on('data', (d: string) => {
				out += d;
				if (out.split('\n').filter(Boolean).length >= 2) resolve();
			});
		});
		await Promise.race([twoLines, new Promise((_, reject) => setTimeout(() => reject(new Error(`no attach lines: ${out}`)), 20_000))]);
		child.kill('SIGINT');
		const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
		assert.equal(code, 0);
		const lines = jsonLines(out);
		assert.deepEqual(
			lines.slice(0, 2).map((l) => [l.event, l.board.kind, l.board.id]),
			[
				['attach', 'dfu', '3276364A3030'],
				['attach', 'serial', '206A37813153'],
			],
		);
		assert.equal(lines.at(-1)!.event, 'result');
		assert.equal(lines.at(-1)!.ok, true);
	});

	it('--watch without a TTY prints plain attach lines (no escape codes) and exits 0 on SIGINT', async () => {
		const child = spawn(process.execPath, [cli, 'list', '--watch', '--simulate=stm32f411'], {env, stdio: ['ignore', 'pipe', 'pipe']});
		let out = '';
		child.stdout.setEncoding('utf8');
		await new Promise<void>((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error(`no attach line: ${out}`)), 20_000);
			child.stdout.on('data', (d: string) => {
				out += d;
				if (out.includes('attach')) {
					clearTimeout(timer);
					resolve();
				}
			});
		});
		child.kill('SIGINT');
		const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
		assert.equal(code, 0);
		assert.match(out, /^\d\d:\d\d:\d\d attach {2}DFU {5}0483:df11 {2}STM32F411\/F401 \(512 KiB\)/m);
		assert.match(out, /Stopped watching \(1 board\(s\) connected\)/);
		assert.doesNotMatch(out, ansi);
	});
});

describe('watchCommand (in process)', () => {
	const dfu: DfuBoard = {kind: 'dfu', id: 'A', vendorId: 0x0483, productId: 0xdf11, name: 'STM32 BOOTLOADER', chip: 'STM32F405/F407 (1 MiB)'};
	const fc: SerialBoard = {kind: 'serial', id: 'A', vendorId: 0x0483, productId: 0x5740, name: 'STM32 VCP', port: '/dev/ttyACM0'};
	const other: DfuBoard = {...dfu, id: 'B'};

	function capture() {
		let stdout = '';
		const stream = {write: (s: string) => ((stdout += s), true)} as unknown as NodeJS.WritableStream;
		return {streams: {stdout: stream, stderr: stream}, text: () => stdout};
	}

	it('diffBoards: a board changing kind is a detach and an attach', () => {
		const known = new Map([['serial:A', fc as Board]]);
		const d = diffBoards(known, [dfu]);
		assert.deepEqual(d.detached, [fc]);
		assert.deepEqual(d.attached, [dfu]);
	});

	it('reports attach and detach from BoardSource.watch, in order, then the result', async () => {
		let push: (boards: Board[]) => void = () => {};
		let unsubscribed = false;
		const source: BoardSource = {
			list: async () => [],
			openDfu: async () => assert.fail('not used'),
			watch(onChange) {
				push = onChange;
				onChange([fc]);
				return () => {
					unsubscribed = true;
				};
			},
		};
		const c = capture();
		const controller = new AbortController();
		const done = watchCommand(source, new Reporter('json', c.streams), {signal: controller.signal});
		push([]); // the FC reboots ...
		push([dfu, other]); // ... and comes back in DFU, next to a second board
		push([dfu, other]); // no change: no line
		push([other]);
		controller.abort();
		assert.equal(await done, 0);
		assert.ok(unsubscribed);
		const lines = c.text().trim().split('\n').map((l) => JSON.parse(l));
		assert.deepEqual(
			lines.map((l) => (l.event === 'result' ? ['result', l.boards.map((b: Board) => b.id)] : [l.event, l.board.kind, l.board.id])),
			[
				['attach', 'serial', 'A'],
				['detach', 'serial', 'A'],
				['attach', 'dfu', 'A'],
				['attach', 'dfu', 'B'],
				['detach', 'dfu', 'A'],
				['result', ['B']],
			],
		);
	});

	it('polls list() when the source cannot watch', async () => {
		const states: Board[][] = [[dfu], [dfu], [], [other]];
		let calls = 0;
		const controller = new AbortController();
		const source: BoardSource = {
			list: async () => {
				const s = states[Math.min(calls++, states.length - 1)]!;
				if (calls >= states.length) setTimeout(() => controller.abort(), 5);
				return s;
			},
			openDfu: async () => assert.fail('not used'),
		};
		const c = capture();
		assert.equal(await watchCommand(source, new Reporter('plain', c.streams), {signal: controller.signal, pollMs: 1, stderr: c.streams.stderr}), 0);
		const text = c.text();
		assert.match(text, /attach {2}DFU[\s\S]*detach {2}DFU[\s\S]*attach {2}DFU/);
		assert.equal(text.match(/attach/g)?.length, 2);
		assert.doesNotMatch(text, ansi);
	});
});

describe('backup', () => {
	it('the backup of a flashed emulated board equals its flash (the state file), JSON progress phase "read"', () => {
		const state = join(dir, 'backup-state.bin');
		const flashed = run(['flash', hexFile, '--simulate=stm32f405', '--simulate-state', state, '--yes', '--json']);
		assert.equal(flashed.code, 0, flashed.stderr);
		const out = join(dir, 'backup.bin');
		const r = run(['backup', out, '--simulate=stm32f405', '--simulate-state', state, '--json']);
		assert.equal(r.code, 0, r.stderr);
		const lines = jsonLines(r.stdout);
		const result = lastResult(r.stdout);
		assert.ok(lines.slice(0, -1).every((l) => l.event === 'progress' && l.phase === 'read'));
		assert.equal(lines.at(-2)!.done, 1024 * 1024);
		assert.equal(result.ok, true);
		assert.equal(result.address, 0x08000000);
		assert.equal(result.bytes, 1024 * 1024);
		assert.match(result.sha256, /^[0-9a-f]{64}$/);
		const backup = readFileSync(out);
		assert.ok(backup.equals(readFileSync(state)), 'backup bytes equal the emulated flash');
		assert.ok(!existsSync(`${out}.tmp`));
		// The image really is in there (not an all-0xFF file).
		assert.ok(backup.subarray(0, 16).some((b) => b !== 0xff));
	});

	it('plain output: one line per phase and a summary, no escape codes', () => {
		const out = join(dir, 'plain.bin');
		const r = run(['backup', out, '--simulate=stm32f411']);
		assert.equal(r.code, 0, r.stderr);
		assert.doesNotMatch(r.stdout + r.stderr, ansi);
		assert.match(r.stdout, /^Reading the flash\.\.\.$/m);
		assert.match(r.stdout, /Saved 512 KiB of flash from 0x08000000 .* to .*plain\.bin/);
		assert.equal(readFileSync(out).length, 512 * 1024);
	});

	it('reboots a serial flight controller into DFU first (demo F722)', () => {
		const out = join(dir, 'f722.bin');
		const r = run(['backup', out, '--simulate', '--device', 'sim:ttyACM1', '--json']);
		assert.equal(r.code, 0, r.stderr);
		const phases = [...new Set(jsonLines(r.stdout).filter((l) => l.event === 'progress').map((l) => l.phase))];
		assert.deepEqual(phases, ['reboot', 'wait', 'read']);
		assert.equal(readFileSync(out).length, 512 * 1024);
	});

	it('--no-reboot with a serial flight controller: exit 3, nothing written', () => {
		const out = join(dir, 'noreboot.bin');
		const r = run(['backup', out, '--simulate', '--device', '206A37813153', '--no-reboot']);
		assert.equal(r.code, 3);
		assert.match(r.stderr, /reboot into DFU is turned off/);
		assert.ok(!existsSync(out) && !existsSync(`${out}.tmp`));
	});

	it('several boards without --device: exit 3; a new folder is made; a file in the way: exit 2; no file: exit 2', () => {
		assert.equal(run(['backup', join(dir, 'x.bin'), '--simulate']).code, 3);
		assert.ok(!existsSync(join(dir, 'x.bin.tmp')));
		const fresh = run(['backup', join(dir, 'no', 'such', 'x.bin'), '--simulate=stm32f405']);
		assert.equal(fresh.code, 0, fresh.stderr);
		assert.ok(existsSync(join(dir, 'no', 'such', 'x.bin')));
		writeFileSync(join(dir, 'in-the-way'), '');
		const blocked = run(['backup', join(dir, 'in-the-way', 'x.bin'), '--simulate=stm32f405']);
		assert.equal(blocked.code, 2);
		assert.match(blocked.stderr, /in-the-way.*a file is in the way/);
		assert.equal(run(['backup', '--simulate=stm32f405']).code, 2);
	});
});

describe('leave', () => {
	it('starts a flashed board (exit 0, JSON), refuses a blank one (exit 1)', () => {
		const state = join(dir, 'leave-state.bin');
		assert.equal(run(['flash', hexFile, '--simulate=stm32f405', '--simulate-state', state, '--yes']).code, 0);
		const r = run(['leave', '--simulate=stm32f405', '--simulate-state', state, '--json']);
		assert.equal(r.code, 0, r.stderr);
		const result = lastResult(r.stdout);
		assert.equal(result.address, 0x08000000);
		assert.equal(result.device.id, '3276364A3030');
		assert.ok(jsonLines(r.stdout).some((l) => l.event === 'progress' && l.phase === 'leave'));
		const blank = run(['leave', '--simulate=stm32f405']);
		assert.equal(blank.code, 1);
		assert.match(blank.stderr, /blank at 0x08000000.*Flash one first/);
	});

	it('--simulate: picks the DFU board of the demo pair; plain output has no escape codes', () => {
		const state = join(dir, 'leave-demo.bin');
		assert.equal(run(['flash', hexFile, '--simulate=stm32f405', '--simulate-state', state, '--yes']).code, 0);
		const r = run(['leave', '--simulate', '--simulate-state', state]);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /Started the firmware of STM32F405\/F407 \(1 MiB\) \(3276364A3030\) at 0x08000000/);
		assert.doesNotMatch(r.stdout + r.stderr, ansi);
	});

	it('a board that already runs its firmware: exit 0, nothing to do', () => {
		const r = run(['leave', '--simulate', '--device', 'sim:ttyACM1', '--json']);
		assert.equal(r.code, 0);
		assert.equal(lastResult(r.stdout).alreadyRunning, true);
	});
});

describe('dfu', () => {
	it('--simulate reboots the demo F722 into DFU and prints the DFU board', () => {
		const r = run(['dfu', '--simulate', '--json']);
		assert.equal(r.code, 0, r.stderr);
		const lines = jsonLines(r.stdout);
		assert.deepEqual(
			lines.filter((l) => l.event === 'progress').map((l) => `${l.phase}:${l.done}`),
			['reboot:0', 'reboot:1', 'wait:0', 'wait:1'],
		);
		const result = lastResult(r.stdout);
		assert.equal(result.device.port, 'sim:ttyACM1');
		assert.equal(result.dfu.kind, 'dfu');
		assert.equal(result.dfu.id, '206A37813153');
		assert.equal(result.dfu.flashSize, 512 * 1024);
	});

	it('plain: phase lines and the DFU board, no escape codes', () => {
		const r = run(['dfu', '--simulate']);
		assert.equal(r.code, 0, r.stderr);
		assert.doesNotMatch(r.stdout + r.stderr, ansi);
		assert.match(r.stdout, /Rebooting into DFU\.\.\.\nsim:ttyACM1: MSP_SET_REBOOT \(ROM bootloader\)\nWaiting for the DFU board\.\.\.\nsim:ttyACM1 is now in DFU: STM32F722\/F7X2 \(512 KiB\) \(206A37813153, usb sim-2\)\.\n$/);
	});

	it('a board already in DFU: exit 0; no flight controller and no board: exit 3; --no-reboot: exit 2', () => {
		assert.equal(lastResult(run(['dfu', '--simulate', '--device', '3276364A3030', '--json']).stdout).alreadyInDfu, true);
		const none = run(['dfu', '--simulate=stm32f405']);
		assert.equal(none.code, 3);
		assert.match(none.stderr, /No flight controller running firmware is connected/);
		assert.equal(run(['dfu', '--simulate', '--no-reboot']).code, 2);
	});
});

describe('flash confirmation in a real PTY', () => {
	const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
	const driver = `
import os, pty, select, sys
answers = [a.encode() for a in sys.argv[1].split(',')]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
buf = b''
seen = 0
while True:
    r, _, _ = select.select([fd], [], [], 60)
    if not r:
        break
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    buf += data
    prompts = buf.count(b'[y/N]') + buf.count(b'[y/s/N]')
    while answers and prompts > seen:
        answer = answers.pop(0)
        os.write(fd, b'\\x03' if answer == b'ctrl-c' else answer + b'\\r')
        seen += 1
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(buf)
sys.exit(os.waitstatus_to_exitcode(status))
`;
	const inPty = (answer: string, state: string) => inPtyFile(answer, state, f722Hex);
	const inPtyFile = (answer: string, state: string, file: string, env: Record<string, string> = {}) =>
		spawnSync(python, ['-c', driver, answer, process.execPath, cli, 'flash', file, '--simulate=stm32f722', '--simulate-state', state], {
			env: {...process.env, FCFLASH_SIM_TIME_SCALE: '0', TERM: 'xterm', ...env},
			encoding: 'utf8',
			timeout: 90_000,
		});

	it('answering n: exit 5 and nothing written (the state file is not created)', () => {
		const state = join(dir, 'pty-n.bin');
		const r = inPty('n', state);
		// A blank chip: nothing that names itself, so no settings to lose and no warning.
		assert.match(r.stdout, /Board: +STM32F722\/F7X2 \(512 KiB\) \(206A37813153\)\r?\nFile: +.*\r?\nRuns: +no firmware that names itself.*\r?\nErase: +at most \d+ sectors.*\r?\nThen: +write .*\r?\nFlash it\? \[y\/N\]/);
		assert.equal(r.status, 5, r.stdout);
		assert.match(r.stdout, /nothing was written/);
		assert.ok(!existsSync(state), 'state file not created');
	});

	it('a board in DFU running another release: the confirmation says what it runs and that the upgrade may reset its settings; the same release: no warning', () => {
		const state = join(dir, 'pty-upgrade.bin');
		const flashed = run(['flash', f722Hex, '--simulate=stm32f722', '--simulate-state', state, '--yes', '--json'], {FCFLASH_SIM_TIME_SCALE: '0'});
		assert.equal(flashed.code, 0, flashed.stderr);
		const upgrade = join(dir, 'betaflight-2026.12.0-STM32F7X2.hex');
		writeFileSync(upgrade, toIntelHex(betaflightLikeImage({target: 'STM32F7X2', bytes: 120 * 1024, seed: 4, version: '2026.12.0'})));
		const r = inPtyFile('n', state, upgrade);
		assert.match(r.stdout, /Runs: +Betaflight 4\.5\.1, built for STM32F7X2\r?\n/);
		assert.match(r.stdout, /warning: It runs Betaflight 4\.5\.1 and the image is Betaflight 2026\.12\.0: the upgrade may reset its settings[\s\S]*answer s: its firmware is started and you are asked again for its serial port[\s\S]*Flash it\? .*\[y\/s\/N\]/);
		assert.equal(r.status, 5, r.stdout);
		const same = join(dir, 'betaflight-4.5.2-STM32F7X2.hex');
		writeFileSync(same, toIntelHex(betaflightLikeImage({target: 'STM32F7X2', bytes: 120 * 1024, seed: 5, version: '4.5.2'})));
		const again = inPtyFile('n', state, same);
		assert.match(again.stdout, /Runs: +Betaflight 4\.5\.1, built for STM32F7X2\r?\n/);
		assert.doesNotMatch(again.stdout, /may reset/);
	});

	it('answering s, then y: its firmware is started, asked again for its serial port, and flashed from it with its settings backed up and restored', () => {
		const state = join(dir, 'pty-serial.bin');
		assert.equal(run(['flash', f722Hex, '--simulate=stm32f722', '--simulate-state', state, '--yes'], {FCFLASH_SIM_TIME_SCALE: '0'}).code, 0);
		const upgrade = join(dir, 'betaflight-2026.12.0-STM32F7X2-s.hex');
		writeFileSync(upgrade, toIntelHex(betaflightLikeImage({target: 'STM32F7X2', bytes: 120 * 1024, seed: 6, version: '2026.12.0'})));
		const data = join(dir, 'xdg-serial');
		const r = inPtyFile('s,y', state, upgrade, {XDG_DATA_HOME: data});
		assert.match(r.stdout, /\[y\/s\/N\][\s\S]*Starting its firmware[\s\S]*Board: .*ttyACM[\s\S]*Flash it\? \[y\/N\]/, 'asked again, for the board on its serial port');
		assert.equal(r.status, 0, r.stdout);
		assert.match(r.stdout, /Starting its firmware, to flash it from its serial port/);
		// The backup is of what it ran (4.5.1), taken over its serial port before the reboot into DFU.
		assert.match(r.stdout, /Settings saved to .*xdg-serial\/fcflash-tui\/backups\/[0-9a-f]{24}\/\d{8}T\d{6}Z-BTFL-4\.5\.1\.txt/);
		assert.ok(r.stdout.indexOf('Settings saved') < r.stdout.indexOf('Rebooting into DFU'), r.stdout);
		assert.match(r.stdout, /nothing to restore|Restored/);
		assert.match(r.stdout, /verified, firmware started\./);
		assert.doesNotMatch(r.stdout, /nothing was written/);
	});

	it('Ctrl-C at the prompt: exit 130 (interrupted, not an error) and nothing written', () => {
		const state = join(dir, 'pty-c.bin');
		const r = inPty('ctrl-c', state);
		assert.equal(r.status, 130, r.stdout);
		assert.match(r.stdout, /Interrupted at the confirmation: nothing was written/);
		assert.doesNotMatch(r.stdout, /Aborted with Ctrl\+C/);
		// Nothing had started: the hint says nothing was written, not that a flash stopped mid-way.
		assert.match(r.stdout, /^hint: Nothing was written\b.*$/m, r.stdout);
		assert.doesNotMatch(r.stdout, /block boundary|flash again to finish/i);
		assert.ok(!existsSync(state), 'state file not created');
	});

	it('answering y: exit 0 and flashed (progress bars on the TTY)', () => {
		const state = join(dir, 'pty-y.bin');
		const r = inPty('y', state);
		assert.equal(r.status, 0, r.stdout);
		assert.match(r.stdout, /Flashed .* verified, firmware started\./);
		assert.match(r.stdout, /\r(Writing|Erasing) +\[[#-]+\]/, 'a progress bar redrawn in place');
		const flash = readFileSync(state);
		assert.equal(flash.length, 512 * 1024);
		assert.ok(flash.subarray(0, 16).some((b) => b !== 0xff));
	});
});

describe('temporary files', () => {
	it('no OUT.tmp is left in the test folder', () => {
		assert.deepEqual(
			readdirSync(dir).filter((f) => f.endsWith('.tmp')),
			[],
		);
	});
});
