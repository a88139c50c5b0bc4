// `npm run bench`: speed, memory and start-up figures. Targets live here, not in timed tests.
//  1. HEX parsing (1 MiB contiguous, ~660 KiB Betaflight-like with a gap).
//  2. In-process flash of the emulated F405 at real ROM timing: wall time against the time the
//     device itself needs (erase + programming + set-address + bus), plain and smart, verify off
//     and on; and the H743 stuck-busy recovery (one stuck block per 1 KiB).
//  3. Start-up of the shipped bundle: `--version`, `inspect --json`, and the TUI's first frame.
//  4. Side by side with dfu-util through real libusb (bench/versus-dfu-util.ts), when the umockdev
//     harness and dfu-util are installed.
//  5. Flash on connect: four emulated boards at once against one, through libusb (bench/fleet.ts).
import {execFileSync, spawn} from 'node:child_process';
import {mkdtempSync, writeFileSync, existsSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseFirmware} from '../source/firmware/load.js';
import {makeImage} from '../source/firmware/image.js';
import {betaflightLikeImage, fullImage, toIntelHex} from '../scripts/synthetic-firmware.js';
import {createEmulatedDevice, dataStageMs, type EmulatorStats} from '../source/emulator/index.js';
import {openDfuTarget} from '../source/dfu/target.js';
import {flashImage} from '../source/dfu/flash.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist', 'cli.js');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (n: number) => `${n.toFixed(0)} ms`;

function benchParse() {
	console.log('\n## HEX parsing (median of 7, in-process)');
	for (const [name, segments] of [
		['1 MiB contiguous', fullImage()],
		['660 KiB Betaflight-like, with gap', betaflightLikeImage()],
	] as const) {
		const text = new TextEncoder().encode(toIntelHex(segments));
		const times: number[] = [];
		for (let i = 0; i < 7; i++) {
			const t = performance.now();
			parseFirmware('bench.hex', text);
			times.push(performance.now() - t);
		}
		console.log(`${name.padEnd(36)} ${(text.length / 1024 / 1024).toFixed(2)} MB of text: ${ms(median(times))}`);
	}
}

/** What the emulated ROM itself spent in a run (erase, program, set address) and what its bus carried. */
function deviceBoundMs(stats: EmulatorStats) {
	return stats.deviceMs + dataStageMs(stats.dnloadBytes + stats.uploadBytes);
}

async function benchFlash() {
	console.log('\n## In-process flash, emulated STM32F405 at ROM timing (timeScale 1, bus at full speed, no other USB latency)');
	console.log('Old firmware on the board (every touched sector differs), so both paths erase and write the same sectors.');
	for (const [name, segments] of [
		['1 MiB', fullImage()],
		['660 KiB Betaflight-like', betaflightLikeImage()],
	] as const) {
		for (const verify of [false, true]) {
			for (const rewrite of [true, false]) {
				const image = makeImage('bench', 'hex', [...segments], null);
				const device = createEmulatedDevice('stm32f405', {timeScale: 1, flash: new Uint8Array(1024 * 1024).fill(0x5a)});
				const target = await openDfuTarget(device);
				const t = performance.now();
				const result = await flashImage(target, image, {verify, rewrite});
				const wall = performance.now() - t;
				const bound = deviceBoundMs(device.bootloader.stats);
				console.log(
					`${name.padEnd(24)} ${rewrite ? 'plain' : 'smart'} verify ${verify ? 'on ' : 'off'}: wall ${ms(wall)}, device+bus ${ms(bound)}, ` +
						`overhead ${(wall / bound).toFixed(2)}x, erased ${result.erase.sectors}, written ${result.written} B, skipped ${result.skipped} B`,
				);
			}
		}
	}
	await benchStuckBusy();
}

/**
 * STM32H743 with every 1 KiB block stuck in dfuDNBUSY past its end (the bank-2 pattern, outcome done):
 * each is recovered with CLRSTATUS after two polls past its expected end and read back. Against the
 * same flash without the fault, at two time scales (0.1 is what issue #8 measured: 209.7 s before).
 */
async function benchStuckBusy() {
	console.log('\n## STM32H743, one stuck-busy block per 1 KiB (recovered, read back), in-process');
	const image = makeImage('bench', 'hex', fullImage(839 * 1024, 9), null);
	for (const timeScale of [0.1, 1]) {
		const times: Record<string, number> = {};
		let recoveries = 0;
		let perBlock = '';
		for (const stuck of [false, true]) {
			const device = createEmulatedDevice('stm32h743', {
				timeScale,
				faults: stuck ? {stuckBusy: {at: 0x08000000, op: 'write', outcome: 'done', every: true}} : {},
			});
			const target = await openDfuTarget(device);
			const t = performance.now();
			const result = await flashImage(target, image, {verify: false, leave: false});
			times[stuck ? 'stuck' : 'clean'] = performance.now() - t;
			if (stuck) {
				recoveries = result.recoveries;
				const s = device.bootloader.stats;
				perBlock = `${(s.requests / s.dataDnloads).toFixed(1)} requests per block`;
			}
		}
		console.log(
			`timeScale ${timeScale}: ${recoveries} stuck blocks: ${ms(times.stuck!)} (without the fault ${ms(times.clean!)}; ` +
				`+${((times.stuck! - times.clean!) / Math.max(1, recoveries)).toFixed(2)} ms per stuck block, ${perBlock})`,
		);
	}
}

function timeFirstOutput(args: string[], env: NodeJS.ProcessEnv, until: (out: string) => boolean, bare = false, keepMs = 0): Promise<number> {
	return new Promise((resolve, reject) => {
		const t = performance.now();
		// `script` gives the child a real PTY, as a pilot's terminal would.
		const command = [process.execPath, ...(bare ? [] : [cli]), ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
		// An 80x24 terminal, as over SSH; a PTY without a size has 0 columns.
		const child = spawn('script', ['-qfec', `stty cols 80 rows 24; exec ${command}`, '/dev/null'], {
			env: {...process.env, ...env},
			stdio: ['pipe', 'pipe', 'ignore'],
		});
		let out = '';
		let done = false;
		child.stdout.on('data', (d: Buffer) => {
			out += d.toString();
			if (!done && until(out)) {
				done = true;
				resolve(performance.now() - t);
				setTimeout(() => child.kill('SIGKILL'), keepMs);
			}
		});
		child.on('error', reject);
		child.on('exit', () => {
			if (!done) reject(new Error(`no first frame; output: ${out.slice(0, 200)}`));
		});
	});
}

/** Drive the TUI through a flash of the 1 MiB image in an 80x24 PTY; measure what it writes. */
function flashOutput(dir: string): Promise<{bytes: number; writes: number; ms: number; maxPerSecond: string; maxGapMs: number}> {
	const binFile = join(dir, 'full-1MiB.bin');
	writeFileSync(binFile, new Uint8Array(1024 * 1024).fill(0x5a));
	return new Promise((resolve, reject) => {
		const command = [process.execPath, cli, '--simulate=stm32f405', '--firmware', binFile].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
		const child = spawn('script', ['-qfec', `stty cols 80 rows 24; exec ${command}`, '/dev/null'], {
			env: {...process.env, TERM: 'xterm-256color', LANG: 'C.UTF-8', FCFLASH_SIM_TIME_SCALE: '1', FCFLASH_TUI_BYTES: '1'},
			stdio: ['pipe', 'pipe', 'ignore'],
		});
		let out = '';
		let step = 0;
		let start = 0;
		const times: number[] = [];
		let bytes = 0;
		let elapsed = 0;
		const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error('timed out'))), 90_000);
		child.stdout.on('data', (d: Buffer) => {
			out += d.toString();
			if (step === 4) {
				bytes += d.length;
				// Reads less than 5 ms apart are one write split by the PTY.
				const now = performance.now();
				if (now - (times.at(-1) ?? 0) > 5) times.push(now);
			}
			const send = (when: string, keys: string) => {
				if (out.includes(when)) {
					step++;
					out = '';
					child.stdin.write(keys);
					return true;
				}
				return false;
			};
			if (step === 0) send('1 board connected', '\r');
			else if (step === 1) send('Fits this board', '\r');
			else if (step === 2) send('Full chip erase', '\r');
			else if (step === 3 && send('Flash this board?', 'y')) start = performance.now();
			else if (step === 4 && out.includes('Flashed successfully')) {
				step++;
				elapsed = performance.now() - start;
				child.stdin.write('q');
			} else if (step === 5) {
				// The app's own count (FCFLASH_TUI_BYTES), printed on the shell screen at exit.
				const m = /at most (\d+) in a second/.exec(out);
				if (!m) return;
				clearTimeout(timer);
				const gaps = times.map((t, i) => t - (times[i - 1] ?? start));
				resolve({bytes, writes: times.length, ms: elapsed, maxPerSecond: `${m[1]} (whole session, counted by the app)`, maxGapMs: Math.max(...gaps)});
			}
		});
		child.on('error', reject);
	});
}

async function benchStartup() {
	console.log('\n## Start-up of the bundled CLI (median of 7, whole process)');
	if (!existsSync(cli)) return console.log('dist/cli.js missing: run npm run build');
	const dir = mkdtempSync(join(tmpdir(), 'fcflash-bench-'));
	const hexFile = join(dir, 'bf.hex');
	writeFileSync(hexFile, toIntelHex(betaflightLikeImage()));
	for (const [name, args] of [
		['--version', ['--version']],
		['inspect --json (660 KiB hex)', ['inspect', hexFile, '--json']],
	] as const) {
		const times: number[] = [];
		for (let i = 0; i < 7; i++) {
			const t = performance.now();
			execFileSync(process.execPath, [cli, ...args], {stdio: 'ignore'});
			times.push(performance.now() - t);
		}
		console.log(`${name.padEnd(36)} ${ms(median(times))}`);
	}
	// The first frame is the device-list screen's title; the boards arrive a moment later, once the
	// board source (deliberately loaded after the first frame) has listed them. The UI keeps V8's
	// code cache (written 1.5 s after a start without one): one start to write it, not counted; the
	// last line is a start that compiles everything (the first start after an install or upgrade).
	await timeFirstOutput(['--simulate'], {TERM: 'xterm-256color', LANG: 'C.UTF-8'}, (o) => o.includes('Choose a board'), false, 2500).catch(() => {});
	for (const [name, until, env] of [
		['TUI first frame (--simulate)', /Choose a board/, {}],
		['TUI boards listed (--simulate)', /STM32F405/, {}],
		['TUI first frame, no code cache', /Choose a board/, {FCFLASH_NO_CODE_CACHE: '1'}],
	] as const) {
		try {
			const times: number[] = [];
			for (let i = 0; i < 7; i++) times.push(await timeFirstOutput(['--simulate', '--firmware', dir], {TERM: 'xterm-256color', LANG: 'C.UTF-8', ...env}, (o) => until.test(o)));
			console.log(`${name.padEnd(36)} ${ms(median(times))}`);
		} catch (error) {
			console.log(`${name}: not measured (${(error as Error).message})`);
		}
	}
	// A whole 1 MiB flash at ROM timing in the same 80x24 PTY: what the terminal receives from the
	// confirmation's y to the result screen, and how often (budget: 16 KiB, <= 10 redraws a second,
	// >= 1 progress update a second).
	try {
		const f = await flashOutput(dir);
		console.log(`${'TUI 1 MiB flash, terminal output'.padEnd(36)} ${(f.bytes / 1024).toFixed(1)} KiB in ${f.writes} writes over ${(f.ms / 1000).toFixed(1)} s`);
		console.log(`${'TUI redraws'.padEnd(36)} at most ${f.maxPerSecond} in any second, longest gap ${ms(f.maxGapMs)}`);
	} catch (error) {
		console.log(`TUI 1 MiB flash: not measured (${(error as Error).message})`);
	}
	// Yardsticks in the same PTY: bare Node, and a bare Ink app bundled the same way as ours.
	const bareInk = join(dir, 'bare-ink.mjs');
	const {build} = await import('esbuild');
	await build({
		stdin: {contents: "import React from 'react'; import {render, Text} from 'ink'; render(React.createElement(Text, null, 'Choose a board'));", resolveDir: root, loader: 'js'},
		bundle: true,
		format: 'esm',
		platform: 'node',
		minify: true,
		outfile: bareInk,
		alias: {'react-devtools-core': join(root, 'build', 'stubs', 'react-devtools-core.js')},
		define: {'process.env.NODE_ENV': '"production"', fetch: 'undefined'},
		banner: {js: "import {createRequire} from 'node:module';const require=createRequire(import.meta.url);"},
		logLevel: 'error',
	});
	for (const [name, args] of [
		['(bare Ink app bundle, same PTY)', [bareInk]],
		['(node -e console.log, same PTY)', ['-e', 'console.log("Choose a board")']],
	] as const) {
		const times: number[] = [];
		for (let i = 0; i < 7; i++) times.push(await timeFirstOutput([...args], {TERM: 'xterm-256color', LANG: 'C.UTF-8'}, (o) => o.includes('Choose a board'), true));
		console.log(`${name.padEnd(36)} ${ms(median(times))}`);
	}
	// The same first frame on arm64 Node under qemu (bench/startup-arm.ts), where qemu is installed.
	await (await import('./startup-arm.js')).benchStartupArm(cli, dir);
}

// `npm run bench -- startup versus` runs only those sections (parse, flash, startup, versus, fleet).
const only = new Set(process.argv.slice(2));
const wanted = (section: string) => only.size === 0 || only.has(section);
await (async () => {
	if (wanted('parse')) benchParse();
	if (wanted('flash')) await benchFlash();
	if (wanted('startup')) await benchStartup();
	const versus = join(dirname(fileURLToPath(import.meta.url)), 'versus-dfu-util.js');
	if (wanted('versus') && existsSync(versus)) await import(versus);
	if (wanted('fleet')) await import('./fleet.js');
})();
