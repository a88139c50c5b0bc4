// The bundled CLI (dist/cli.js) as a user or a script runs it: no TTY, simulated boards with instant
// ROM timing, output and exit codes per /work/shared/CONTRACT.md.
import assert from 'node:assert/strict';
import {spawn, type ChildProcess} from 'node:child_process';
import {createHash} from 'node:crypto';
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {fileURLToPath} from 'node:url';
import {betaflightLikeImage, flashBase, fullImage, toIntelHex} from '../scripts/synthetic-firmware.js';
import type {Segment} from '../source/firmware/image.js';

// This file runs as build/test/cli.test.js: the repository root is two levels up.
const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist', 'cli.js');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {version: string};

const KiB = 1024;
const F405_SERIAL = '3276364A3030';
const F722_SERIAL = '206A37813153';

interface Run {
	code: number | null;
	signal: NodeJS.Signals | null;
	stdout: string;
	stderr: string;
	/** stdout lines with the time (ms since spawn) they arrived. */
	lines: Array<{text: string; at: number}>;
}

let dir = '';
let privateTmp = '';

type RunOptions = {timeScale?: number; timeoutMs?: number; onLine?: (text: string, child: ChildProcess) => void};

/** The bundle itself could not be loaded (dist/ being rebuilt by a concurrent `npm run build`). */
const bundleMissing = (r: Run) => r.code !== 0 && /Cannot find module '[^']*[\\/]dist[\\/]/.test(r.stderr);

async function run(args: string[], options: RunOptions = {}): Promise<Run> {
	// Retry only when node could not even load dist/: nothing of ours ran, so nothing is masked.
	for (let attempt = 0; ; attempt++) {
		const r = await runOnce(args, options);
		if (!bundleMissing(r) || attempt >= 20) return r;
		await new Promise((resolve) => setTimeout(resolve, 500));
	}
}

function runOnce(args: string[], options: RunOptions): Promise<Run> {
	return new Promise((resolve, reject) => {
		const started = performance.now();
		const child = spawn(process.execPath, [cli, ...args], {
			cwd: dir,
			// A private TMPDIR keeps the per-board lock files away from other test runs.
			env: {...process.env, FCFLASH_SIM_TIME_SCALE: String(options.timeScale ?? 0), TMPDIR: privateTmp, XDG_STATE_HOME: privateTmp, FORCE_COLOR: '0', NO_COLOR: '1'},
			stdio: ['ignore', 'pipe', 'pipe'],
			timeout: options.timeoutMs ?? 20_000,
		});
		let stdout = '';
		let stderr = '';
		let partial = '';
		const lines: Run['lines'] = [];
		child.stdout.setEncoding('utf8');
		child.stderr.setEncoding('utf8');
		child.stdout.on('data', (chunk: string) => {
			const at = performance.now() - started;
			stdout += chunk;
			partial += chunk;
			const parts = partial.split('\n');
			partial = parts.pop()!;
			for (const text of parts) {
				lines.push({text, at});
				options.onLine?.(text, child);
			}
		});
		child.stderr.on('data', (chunk: string) => (stderr += chunk));
		child.on('error', reject);
		child.on('close', (code, signal) => {
			if (partial) lines.push({text: partial, at: performance.now() - started});
			resolve({code, signal, stdout, stderr, lines});
		});
	});
}

function jsonLines(r: Run): Array<Record<string, any>> {
	return r.lines.filter((l) => l.text.length > 0).map((l) => {
		try {
			return JSON.parse(l.text) as Record<string, any>;
		} catch {
			assert.fail(`stdout line is not JSON: ${JSON.stringify(l.text)}`);
		}
	});
}

const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

function write(name: string, content: string | Uint8Array): string {
	const path = join(dir, name);
	writeFileSync(path, content);
	return path;
}

/** The CLI must not hang: every run has finished normally with an exit code. */
function exited(r: Run, code: number) {
	assert.equal(r.signal, null, `killed by ${r.signal} (timeout?)\nstderr: ${r.stderr}`);
	assert.equal(r.code, code, `exit code ${r.code}, expected ${code}\nstdout: ${r.stdout.slice(-2000)}\nstderr: ${r.stderr}`);
}

let f405: {path: string; segments: Segment[]};
let f405small: {path: string; segments: Segment[]};
let f722: {path: string; segments: Segment[]};
let fullBin: {path: string; data: Uint8Array};

before(() => {
	dir = mkdtempSync(join(tmpdir(), 'fcflash-cli-test-'));
	privateTmp = join(dir, 'tmp');
	mkdirSync(privateTmp);
	const a = betaflightLikeImage({target: 'STM32F405', bytes: 300 * KiB});
	f405 = {path: write('bf-STM32F405.hex', toIntelHex(a, {start: flashBase + 0x1c1})), segments: a};
	const b = betaflightLikeImage({target: 'STM32F405', bytes: 100 * KiB, seed: 5, version: '4.5.2'});
	f405small = {path: write('bf-small-STM32F405.hex', toIntelHex(b)), segments: b};
	const c = betaflightLikeImage({target: 'STM32F7X2', bytes: 440 * KiB, seed: 2});
	f722 = {path: write('bf-STM32F722.hex', toIntelHex(c, {start: flashBase + 0x1c1})), segments: c};
	const full = fullImage(1024 * KiB)[0]!.data;
	fullBin = {path: write('full-1MiB.bin', full), data: full};
});

after(() => {
	if (dir) rmSync(dir, {recursive: true, force: true});
});

describe('cli: inspect', () => {
	it('--json prints exactly the contract object', async () => {
		const r = await run(['inspect', f405.path, '--json']);
		exited(r, 0);
		const lines = jsonLines(r);
		assert.equal(lines.length, 1);
		const o = lines[0]!;
		assert.deepEqual(Object.keys(o).sort(), ['bytes', 'event', 'file', 'format', 'ident', 'ok', 'segments', 'start']);
		assert.equal(o.event, 'result');
		assert.equal(o.ok, true);
		assert.equal(o.file, f405.path);
		assert.equal(o.format, 'hex');
		assert.equal(o.bytes, 300 * KiB);
		assert.deepEqual(
			o.segments,
			f405.segments.map((s) => ({address: s.address, length: s.data.length, sha256: sha(s.data)})),
		);
		assert.deepEqual(o.segments.map((s: {address: number}) => s.address), [0x08000000, 0x08008000]);
		assert.equal(o.start, 0x080001c1);
		assert.deepEqual(o.ident, {flavour: 'Betaflight', target: 'STM32F405', version: '4.5.1', date: 'Nov 24 2026'});
		assert.equal(r.stderr, '');
	});

	it('--json on a .bin: one segment at 0x08000000, start and ident null', async () => {
		const r = await run(['inspect', fullBin.path, '--json']);
		exited(r, 0);
		const [o] = jsonLines(r);
		assert.equal(o!.format, 'bin');
		assert.equal(o!.bytes, 1024 * KiB);
		assert.deepEqual(o!.segments, [{address: 0x08000000, length: 1024 * KiB, sha256: sha(fullBin.data)}]);
		assert.equal(o!.start, null);
		assert.equal(o!.ident, null);
	});
});

describe('cli: flash --json', () => {
	it('flashes a simulated F405: every line is JSON, progress then the result', async () => {
		// --rewrite: the plain path, which erases the touched sectors even on the blank emulated board.
		const r = await run(['flash', f405.path, '--simulate=stm32f405', '--yes', '--json', '--rewrite']);
		exited(r, 0);
		const events = jsonLines(r);
		assert.ok(events.length >= 5);
		const progress = events.slice(0, -1);
		for (const p of progress) {
			// Phases the device does not count in bytes (waiting for the firmware) carry their clock.
			assert.deepEqual(Object.keys(p).sort(), p.elapsedMs === undefined ? ['done', 'event', 'phase', 'total'] : ['done', 'elapsedMs', 'event', 'expectedMs', 'phase', 'total']);
			assert.equal(p.event, 'progress');
			assert.ok(Number.isInteger(p.done) && Number.isInteger(p.total) && p.done <= p.total, JSON.stringify(p));
		}
		const order = progress.reduce<string[]>((out, p) => (out.at(-1) === p.phase ? out : [...out, p.phase]), []);
		assert.deepEqual(order, ['erase', 'write', 'verify', 'leave', 'firmware']);
		for (const phase of order) {
			const last = progress.filter((p) => p.phase === phase).at(-1)!;
			assert.equal(last.done, last.total, `${phase} ends complete`);
		}

		const result = events.at(-1)!;
		assert.equal(result.event, 'result');
		assert.equal(result.ok, true);
		assert.deepEqual(result.device, {id: F405_SERIAL, name: 'STM32F405/F407 (1 MiB)', serial: F405_SERIAL, usbPath: 'sim-1'});
		assert.deepEqual(result.image, {
			bytes: 300 * KiB,
			segments: f405.segments.map((s) => ({address: s.address, length: s.data.length, sha256: sha(s.data)})),
		});
		// 0x08008000 + 284 KiB = 0x0804F000: sectors 0, 2, 3, 4, 5, 6.
		assert.deepEqual(result.erase, {mode: 'sectors', sectors: 6, bytes: 3 * 16 * KiB + 64 * KiB + 2 * 128 * KiB, unchanged: 0, blank: 0});
		assert.ok(result.skipped > 0);
		assert.equal(result.written + result.skipped, 300 * KiB);
		assert.equal(result.verified, true);
		assert.ok(Number.isInteger(result.durationMs) && result.durationMs >= 0);
		assert.equal(result.error, undefined);
	});

	it('--full-erase reports a mass erase', async () => {
		const r = await run(['flash', f405small.path, '--simulate=stm32f405', '--yes', '--json', '--full-erase']);
		exited(r, 0);
		const result = jsonLines(r).at(-1)!;
		assert.deepEqual(result.erase, {mode: 'mass', sectors: 12, bytes: 1024 * KiB, unchanged: 0, blank: 0});
	});

	it('failure in JSON: the last line is a result with ok false and the error', async () => {
		const r = await run(['flash', fullBin.path, '--simulate=stm32f411', '--yes', '--json']);
		exited(r, 2);
		const events = jsonLines(r);
		const result = events.at(-1)!;
		assert.equal(result.event, 'result');
		assert.equal(result.ok, false);
		assert.equal(result.error.code, 2);
		assert.match(result.error.message, /0x08080000/);
		assert.equal(typeof result.error.hint, 'string');
		assert.ok(!events.some((e) => e.event === 'progress' && e.phase === 'erase'), 'nothing was erased');
	});
});

describe('cli: plain output', () => {
	it('has no escape sequences and at most one progress line a second per phase', async () => {
		// A scaled-down ROM timing makes the erase take ~2 s, so the throttle has something to do.
		const big = write('bf-660k-STM32F405.hex', toIntelHex(betaflightLikeImage({bytes: 660 * KiB})));
		const r = await run(['flash', big, '--simulate=stm32f405', '--yes', '--rewrite'], {timeScale: 0.2});
		exited(r, 0);
		assert.ok(!r.stdout.includes('\x1b'), 'no ESC in plain output');
		assert.ok(!r.stdout.includes('\r'), 'no carriage-return redraws');
		const byPhase = new Map<string, number[]>();
		let phase = '';
		for (const {text, at} of r.lines) {
			const title = /^(Erasing|Writing|Verifying|Starting the firmware|Rebooting into DFU|Waiting for the DFU board)\.\.\.$/.exec(text);
			if (title) {
				phase = title[1]!;
				byPhase.set(phase, [at]);
				continue;
			}
			const m = /^ {2}(\w+) (\d+)% /.exec(text);
			if (!m) continue;
			assert.ok(phase, `progress line before any phase title: ${text}`);
			const times = byPhase.get(phase)!;
			// The line that completes a phase may follow at once; any other must wait a second.
			// (800 ms, not 1000: arrival times in this process carry some scheduling jitter.)
			if (m[2] !== '100') assert.ok(at - times.at(-1)! >= 800, `${phase}: "${text}" came ${Math.round(at - times.at(-1)!)} ms after the previous line`);
			times.push(at);
		}
		assert.deepEqual([...byPhase.keys()], ['Erasing', 'Writing', 'Verifying', 'Starting the firmware']);
		const progressLines = r.lines.filter((l) => /^ {2}\w+ \d+% /.test(l.text)).length;
		const seconds = (r.lines.at(-1)!.at) / 1000;
		assert.ok(progressLines <= 4 + Math.ceil(seconds) * 4, `${progressLines} progress lines in ${seconds.toFixed(1)} s`);
		assert.match(r.stdout, /Flashed 660 KiB .*: erased 9 sectors \(752 KiB\), .* verified, firmware started\.\n$/);
		assert.equal(r.stderr, '');
	});
});

describe('cli: exit codes', () => {
	it('a malformed hex file is exit 2, naming the line', async () => {
		const lines = toIntelHex(betaflightLikeImage({bytes: 24 * KiB})).split('\r\n');
		// Line 3 is a data record: break its checksum.
		const bad = lines[2]!;
		lines[2] = bad.slice(0, -2) + ((Number.parseInt(bad.slice(-2), 16) + 1) & 0xff).toString(16).padStart(2, '0').toUpperCase();
		const path = write('bad.hex', lines.join('\r\n'));
		const r = await run(['flash', path, '--simulate=stm32f405', '--yes']);
		exited(r, 2);
		assert.match(r.stderr, /bad\.hex:3\b/);
		assert.match(r.stderr, /checksum/i);
		const i = await run(['inspect', path]);
		exited(i, 2);
		assert.match(i.stderr, /bad\.hex:3\b/);
	});

	it('a missing file is exit 2', async () => {
		const r = await run(['flash', join(dir, 'nope.hex'), '--simulate=stm32f405', '--yes']);
		exited(r, 2);
		assert.match(r.stderr, /nope\.hex/);
		assert.match(r.stderr, /no such file/i);
	});

	it('an image that does not fit is exit 2, naming the address', async () => {
		const r = await run(['flash', fullBin.path, '--simulate=stm32f411', '--yes']);
		exited(r, 2);
		assert.match(r.stderr, /0x08080000/);
		assert.ok(!/Erasing/.test(r.stdout));
	});

	it('no --yes without a terminal is exit 2', async () => {
		const r = await run(['flash', f405.path, '--simulate=stm32f405']);
		exited(r, 2);
		assert.match(r.stderr, /--yes/);
	});

	it('an unknown simulated profile is exit 2', async () => {
		const r = await run(['flash', f405.path, '--simulate=stm32f999', '--yes']);
		exited(r, 2);
		assert.match(r.stderr, /stm32f999/);
		assert.match(r.stderr, /stm32f405/, 'lists the profiles');
	});

	it('the demo boards without --device is exit 3, listing both', async () => {
		const r = await run(['flash', f405.path, '--simulate', '--yes']);
		exited(r, 3);
		assert.match(r.stderr, new RegExp(F405_SERIAL));
		assert.match(r.stderr, new RegExp(F722_SERIAL));
		assert.match(r.stderr, /--device/);
	});

	it('several boards: the hint is about choosing one, not about a missing board', async () => {
		const r = await run(['flash', f405.path, '--simulate', '--yes']);
		exited(r, 3);
		assert.doesNotMatch(r.stderr, /Nothing that looks like a flight controller is connected/);
	});

	it('--device with the F722 serial number reboots the serial FC and flashes it', async () => {
		const r = await run(['flash', f722.path, '--simulate', '--device', F722_SERIAL, '--yes', '--json', '--rewrite']);
		exited(r, 0);
		const events = jsonLines(r);
		const order = events.filter((e) => e.event === 'progress').reduce<string[]>((out, p) => (out.at(-1) === p.phase ? out : [...out, p.phase]), []);
		assert.deepEqual(order, ['backup', 'reboot', 'wait', 'erase', 'write', 'verify', 'leave', 'firmware', 'restore']);
		const result = events.at(-1)!;
		assert.equal(result.ok, true);
		assert.equal(result.device.id, F722_SERIAL);
		assert.equal(result.device.serial, F722_SERIAL);
		assert.equal(result.verified, true);
	});

	it('an image for another target is refused (exit 2) unless --force', async () => {
		const r = await run(['flash', f405.path, '--simulate', '--device', F722_SERIAL, '--yes']);
		exited(r, 2);
		assert.match(r.stderr, /STM32F405/);
		assert.match(r.stderr, /--force/);
		const forced = await run(['flash', f405small.path, '--simulate', '--device', F722_SERIAL, '--yes', '--force', '--json']);
		exited(forced, 0);
	});

	it('a board in DFU is checked by chip family: an F7 image on an F405 is refused unless --force', async () => {
		const r = await run(['flash', f722.path, '--simulate=stm32f405', '--yes']);
		exited(r, 2);
		assert.match(r.stderr, /built for STM32F7X2, but the board in DFU is an STM32F405\/F407 \(1 MiB\)/);
		const forced = await run(['flash', f722.path, '--simulate=stm32f405', '--yes', '--force']);
		exited(forced, 0);
		// The F722's option bytes (0x1FFF0000) tell it from an F411 with the same main flash layout.
		const same = await run(['flash', f722.path, '--simulate=stm32f722', '--yes']);
		exited(same, 0);
	});
});

describe('cli: signals', () => {
	/** Sends `signal` once the write phase has made progress. */
	const sendDuringWrite = (signal: NodeJS.Signals) => {
		let sent = false;
		return (text: string, child: ChildProcess) => {
			if (sent || !text.startsWith('{')) return;
			const e = JSON.parse(text) as {event: string; phase?: string; done?: number};
			if (e.event === 'progress' && e.phase === 'write' && (e.done ?? 0) > 0) {
				sent = true;
				child.kill(signal);
			}
		};
	};

	it('SIGINT mid-write stops at a block boundary: exit 130, result code 130', async () => {
		const r = await run(['flash', f405.path, '--simulate=stm32f405', '--yes', '--json'], {timeScale: 0.2, onLine: sendDuringWrite('SIGINT')});
		exited(r, 130);
		const events = jsonLines(r);
		const result = events.at(-1)!;
		assert.equal(result.ok, false);
		assert.equal(result.error.code, 130);
		assert.ok(!events.some((e) => e.phase === 'leave'), 'stopped before starting the firmware');
	});

	it('SIGHUP mid-write finishes the flash and logs the result', async () => {
		const log = join(privateTmp, 'fcflash-tui', 'flash.log');
		rmSync(log, {force: true});
		const r = await run(['flash', f405.path, '--simulate=stm32f405', '--yes', '--json'], {timeScale: 0.2, onLine: sendDuringWrite('SIGHUP')});
		exited(r, 0);
		assert.equal(jsonLines(r).at(-1)!.verified, true);
		assert.ok(existsSync(log), 'result logged after the hang-up');
		const entry = JSON.parse(readFileSync(log, 'utf8').trim().split('\n').at(-1)!.replace(/^\S+ /, '')) as Record<string, unknown>;
		assert.equal(entry.job, 'flash');
		assert.equal(entry.ok, true);
		assert.equal(entry.verified, true);
		assert.equal(entry.reason, 'hangup');
		assert.equal(entry.board, F405_SERIAL);
	});
});

describe('cli: --simulate-state', () => {
	it('saves the flash, keeps untouched sectors on the next run, refuses a wrong size', async () => {
		const state = join(dir, 'f405-state.bin');
		const first = await run(['flash', f405.path, '--simulate=stm32f405', '--simulate-state', state, '--yes', '--json']);
		exited(first, 0);
		assert.ok(existsSync(state), 'state saved');
		assert.equal(statSync(state).size, 1024 * KiB);
		let flash = readFileSync(state);
		for (const s of f405.segments) {
			assert.ok(flash.subarray(s.address - flashBase, s.address - flashBase + s.data.length).equals(Buffer.from(s.data)), `state holds 0x${s.address.toString(16)}`);
		}

		// Second image: 100 KiB, touching sectors 0, 2, 3, 4 only; sectors 5 and 6 keep the first image.
		const second = await run(['flash', f405small.path, '--simulate=stm32f405', '--simulate-state', state, '--yes', '--no-verify', '--json']);
		exited(second, 0);
		const result = jsonLines(second).at(-1)!;
		assert.equal(result.verified, false);
		assert.deepEqual(result.erase, {mode: 'sectors', sectors: 4, bytes: 3 * 16 * KiB + 64 * KiB, unchanged: 0, blank: 0});
		flash = readFileSync(state);
		for (const s of f405small.segments) {
			assert.ok(flash.subarray(s.address - flashBase, s.address - flashBase + s.data.length).equals(Buffer.from(s.data)));
		}
		const code1 = f405.segments[1]!;
		const kept = code1.data.subarray(0x08020000 - code1.address);
		assert.ok(flash.subarray(0x20000, 0x20000 + kept.length).equals(Buffer.from(kept)), 'sectors 5-6 keep the first image');
		assert.ok(flash.subarray(0x4000, 0x8000).every((b) => b === 0xff), 'config sector never written');
		// The rest of sector 4 past the second image was erased.
		assert.ok(flash.subarray(0x0801d000 - flashBase, 0x20000).every((b) => b === 0xff));

		const wrong = write('wrong-size.bin', new Uint8Array(512 * KiB).fill(0xff));
		const bad = await run(['flash', f405small.path, '--simulate=stm32f405', '--simulate-state', wrong, '--yes']);
		exited(bad, 2);
		assert.match(bad.stderr, /wrong-size\.bin/);
		assert.equal(statSync(wrong).size, 512 * KiB, 'the wrong-size file is left alone');
	});

	it('a refusal that wrote nothing does not create the state file', async () => {
		const state = join(dir, 'f411-state.bin');
		const r = await run(['flash', fullBin.path, '--simulate=stm32f411', '--simulate-state', state, '--yes']);
		exited(r, 2);
		assert.equal(existsSync(state), false);
	});
});

describe('cli: help and version', () => {
	const commands = ['flash', 'inspect', 'list', 'backup', 'dfu', 'leave', 'doctor', 'udev-rules'];

	it('--help lists every command', async () => {
		const r = await run(['--help']);
		exited(r, 0);
		for (const c of commands) assert.match(r.stdout, new RegExp(`fcflash-tui ${c}\\b`), `help lists ${c}`);
		assert.match(r.stdout, /--simulate/);
		assert.match(r.stdout, /Exit codes/);
	});

	it('every command in --help is implemented', async () => {
		const missing: string[] = [];
		for (const c of ['list', 'backup', 'dfu', 'leave', 'doctor', 'udev-rules']) {
			const args = c === 'backup' ? [c, join(dir, 'backup.bin'), '--simulate=stm32f405', '--yes'] : c === 'doctor' || c === 'udev-rules' ? [c] : [c, '--simulate=stm32f405', '--yes'];
			const r = await run(args);
			assert.equal(r.signal, null, `${c} hung`);
			if (/Unknown command/i.test(r.stderr)) missing.push(c);
		}
		assert.deepEqual(missing, []);
	});

	it('--version prints the package version', async () => {
		const r = await run(['--version']);
		exited(r, 0);
		assert.equal(r.stdout.trim(), pkg.version);
	});
});
