// `npm run bench`: speed, memory and start-up figures. Targets live here, not in timed tests.
//  1. HEX parsing (1 MiB contiguous, ~660 KiB Betaflight-like with a gap).
//  2. In-process flash of the emulated F405 at real ROM timing: wall time against the time the
//     device itself needs (erase + programming + set-address), verify off and on.
//  3. Start-up of the shipped bundle: `--version`, `inspect --json`, and the TUI's first frame.
//  4. Side by side with dfu-util through real libusb (bench/versus-dfu-util.ts), when the umockdev
//     harness and dfu-util are installed.
import {execFileSync, spawn} from 'node:child_process';
import {mkdtempSync, writeFileSync, existsSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseFirmware} from '../source/firmware/load.js';
import {makeImage, type FirmwareImage} from '../source/firmware/image.js';
import {betaflightLikeImage, fullImage, toIntelHex} from '../scripts/synthetic-firmware.js';
import {createEmulatedDevice, profiles} from '../source/emulator/index.js';
import {openDfuTarget} from '../source/dfu/target.js';
import {flashImage} from '../source/dfu/flash.js';
import {planFlash} from '../source/dfu/plan.js';
import {parseLayout} from '../source/dfu/layout.js';

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

/** What the emulated ROM itself spends: erase per sector, 16 us per word, 1 ms per set-address. */
function deviceBoundMs(image: FirmwareImage, written: number, verify: boolean) {
	const p = profiles.stm32f405;
	const plan = planFlash(image, parseLayout(p.layouts[0]!));
	const erase = plan.sectors.reduce((n, s) => n + p.eraseMs(s.size), 0);
	const program = (written / 4) * 0.016;
	const addresses = image.segments.length * (verify ? 3 : 2) + 1;
	return erase + program + addresses;
}

async function benchFlash() {
	console.log('\n## In-process flash, emulated STM32F405 at ROM timing (timeScale 1, no USB latency)');
	for (const [name, segments] of [
		['1 MiB', fullImage()],
		['660 KiB Betaflight-like', betaflightLikeImage()],
	] as const) {
		for (const verify of [false, true]) {
			const image = makeImage('bench', 'hex', [...segments], null);
			const device = createEmulatedDevice('stm32f405', {timeScale: 1});
			const target = await openDfuTarget(device);
			const t = performance.now();
			const result = await flashImage(target, image, {verify});
			const wall = performance.now() - t;
			const bound = deviceBoundMs(image, result.written, verify);
			console.log(
				`${name.padEnd(24)} verify ${verify ? 'on ' : 'off'}: wall ${ms(wall)}, device-bound ${ms(bound)}, ` +
					`overhead ${(wall / bound).toFixed(2)}x, written ${result.written} B, skipped ${result.skipped} B`,
			);
		}
	}
}

function timeFirstOutput(args: string[], env: NodeJS.ProcessEnv, until: (out: string) => boolean): Promise<number> {
	return new Promise((resolve, reject) => {
		const t = performance.now();
		// `script` gives the child a real PTY, as a pilot's terminal would.
		const child = spawn('script', ['-qfec', [process.execPath, cli, ...args].map((a) => `'${a}'`).join(' '), '/dev/null'], {
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
				child.kill('SIGKILL');
			}
		});
		child.on('error', reject);
		child.on('exit', () => {
			if (!done) reject(new Error(`no first frame; output: ${out.slice(0, 200)}`));
		});
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
	try {
		const times: number[] = [];
		for (let i = 0; i < 7; i++) {
			times.push(await timeFirstOutput(['--simulate', '--firmware', dir], {TERM: 'xterm-256color', LANG: 'C.UTF-8'}, (o) => /STM32F405|F405/.test(o)));
		}
		console.log(`${'TUI first frame (--simulate)'.padEnd(36)} ${ms(median(times))}`);
	} catch (error) {
		console.log(`TUI first frame: not measured (${(error as Error).message})`);
	}
}

await (async () => {
	benchParse();
	await benchFlash();
	await benchStartup();
	const versus = join(dirname(fileURLToPath(import.meta.url)), 'versus-dfu-util.js');
	if (existsSync(versus)) await import(versus);
})();
