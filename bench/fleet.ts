// `npm run bench -- fleet`: flash on connect on a hub. Four emulated STM32F405s at ROM timing
// flashed at once by one `fcflash-tui flash FILE --on-connect --count 4`, against one board alone,
// both through real libusb under the same umockdev harness (scripts/with-emulated-usb):
//  - wall time of the fcflash-tui process, one board and four, and the ratio (goal <= 1.3x: the
//    boards' ROMs work in parallel, so four should take little longer than one);
//  - the CPU that process used, user + sys over its wall time (goal < 100 %, under one core: the
//    bench laptop or Raspberry Pi keeps a core for everything else);
//  - for where the time goes: the CPU of the harness itself (the Python umockdev shim answering
//    every usbdevfs ioctl, and one Node emulator server per board), and the control transfers served.
// The CLI's CPU comes from the shell's `times` (its children's user and sys) around the CLI alone;
// the harness's is the same around the whole harness, less the CLI.
import {spawn, spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {fullImage, toIntelHex} from '../scripts/synthetic-firmware.js';
import {makeImage} from '../source/firmware/image.js';
import {planFlash} from '../source/dfu/plan.js';
import {parseLayout} from '../source/dfu/layout.js';
import {profiles} from '../source/emulator/profiles.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const harness = join(root, 'scripts', 'with-emulated-usb');
const serverJs = join(root, 'build', 'test', 'usb-harness', 'emulator-server.js');
const cli = join(root, 'dist', 'cli.js');
const runs = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** The children's user and sys seconds from `times` (its second line). */
function childTimes(text: string): number {
	const line = text.trim().split('\n').at(-1) ?? '';
	const [user, sys] = [...line.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
	if (user === undefined || sys === undefined) throw new Error(`cannot read times output: ${text}`);
	return (user + sys) * 1000;
}

interface Figures {
	/** The fcflash-tui process: wall and CPU (user + sys), ms. */
	wall: number;
	cpu: number;
	/** Everything under the harness (shim, emulator servers, the CLI), ms of CPU. */
	treeCpu: number;
	transfers: number;
}

/** One harness run with `boards` F405s at ROM timing and one on-connect CLI flashing them all. */
function runFleet(dir: string, hexPath: string, boards: number, flashIn?: string): Promise<Figures> {
	const note = join(dir, `run-${boards}${flashIn ? '-old' : ''}`);
	const command = [process.execPath, cli, 'flash', hexPath, '--on-connect', '--count', String(boards), '--yes', '--json'].map(quote).join(' ');
	// Inside the harness: the CLI alone, timed by the shell.
	const inner = `t0=$(date +%s%N); ${command} > ${quote(`${note}.json`)}; rc=$?; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000 )) > ${quote(`${note}.wall`)}; times > ${quote(`${note}.cli`)}; exit $rc`;
	const boardArgs = Array.from({length: boards}, () => ['--board', `profile=stm32f405${flashIn ? `,flash-in=${flashIn}` : ''}`]).flat();
	const harnessCommand = [harness, '-v', '--server', serverJs, '--node', process.execPath, '--time-scale', '1', ...boardArgs, '--', '/bin/sh', '-c', inner].map(quote).join(' ');
	// Around the harness: everything it ran.
	const outer = `${harnessCommand}; rc=$?; times > ${quote(`${note}.tree`)}; exit $rc`;
	return new Promise((resolve, reject) => {
		const child = spawn('/bin/sh', ['-c', outer], {stdio: ['ignore', 'ignore', 'pipe'], detached: true});
		let stderr = '';
		child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
		const timer = setTimeout(() => {
			try {
				process.kill(-child.pid!, 'SIGKILL');
			} catch {
				// gone already
			}
		}, 300_000);
		child.on('error', reject);
		child.on('close', (code) => {
			clearTimeout(timer);
			try {
				if (code !== 0) throw new Error(`${boards} board(s): exit ${code}\n${stderr.slice(-1500)}`);
				const lines = readFileSync(`${note}.json`, 'utf8').trim().split('\n');
				const result = JSON.parse(lines.at(-1)!) as {ok: boolean; boards: Array<{ok: boolean}>};
				if (!result.ok || result.boards.length !== boards || !result.boards.every((b) => b.ok)) throw new Error(`${boards} board(s) not all flashed: ${lines.at(-1)}`);
				const transfers = [...stderr.matchAll(/\((\d+) control transfers served/g)].reduce((n, m) => n + Number(m[1]), 0);
				resolve({
					wall: Number(readFileSync(`${note}.wall`, 'utf8')) / 1000,
					cpu: childTimes(readFileSync(`${note}.cli`, 'utf8')),
					treeCpu: childTimes(readFileSync(`${note}.tree`, 'utf8')),
					transfers,
				});
			} catch (error) {
				reject(error);
			}
		});
	});
}

/** What one emulated ROM itself spends on the image: sector erases and 16 us per word programmed. */
function deviceBound(segments: ReturnType<typeof fullImage>): number {
	const p = profiles.stm32f405;
	const plan = planFlash(makeImage('x', 'hex', segments, null), parseLayout(p.layouts[0]!));
	const erase = plan.sectors.reduce((n, sector) => n + p.eraseMs(sector.size), 0);
	const bytes = segments.reduce((n, seg) => n + seg.data.length, 0);
	return erase + (bytes / 4) * 0.016;
}

const usable =
	existsSync(harness) &&
	existsSync(serverJs) &&
	existsSync(cli) &&
	spawnSync('/usr/bin/python3', ['-c', 'import gi; gi.require_version("UMockdev", "1.0")'], {stdio: 'ignore'}).status === 0;

console.log(`\n## Flash on connect through libusb (umockdev): 4 emulated STM32F405s at once vs 1, ROM timing, 1 MiB image (median of ${runs}, BENCH_RUNS)`);
if (!usable) {
	console.log('skipped: needs umockdev, gir1.2-umockdev-1.0 and python3-gi (see README), and npm run build');
} else {
	const dir = mkdtempSync(join(tmpdir(), 'fcflash-fleet-'));
	try {
		const segments = fullImage();
		const hexPath = join(dir, 'image.hex');
		writeFileSync(hexPath, toIntelHex(segments));
		// A box of quads holds older firmware: every sector the image touches is erased and written,
		// so the ROMs' own time dominates, as on real boards. Blank boards need no erase, and the
		// harness's per-transfer cost (one shim serving every board) dominates instead.
		const oldPath = join(dir, 'old.bin');
		writeFileSync(oldPath, fullImage(1024 * 1024, 11)[0]!.data);
		for (const [what, flashIn] of [['boards holding older firmware (every sector erased and written)', oldPath], ['blank boards (no erase: bounded by the harness, one shim for every board)', undefined]] as const) {
			console.log(`${what}:`);
			await compare(dir, hexPath, segments, flashIn);
		}
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
}

async function compare(dir: string, hexPath: string, segments: ReturnType<typeof fullImage>, flashIn: string | undefined) {
	const one: Figures[] = [];
	const four: Figures[] = [];
	// Interleaved: the shared machine's speed drifts less between neighbours.
	for (let i = 0; i < runs; i++) {
		one.push(await runFleet(dir, hexPath, 1, flashIn));
		four.push(await runFleet(dir, hexPath, 4, flashIn));
	}
	const summary = (xs: Figures[]) => {
		const m = (pick: (f: Figures) => number) => median(xs.map(pick));
		return {wall: m((f) => f.wall), cpu: m((f) => f.cpu), share: m((f) => f.cpu / f.wall), harness: m((f) => f.treeCpu - f.cpu), transfers: m((f) => f.transfers)};
	};
	const [a, b] = [summary(one), summary(four)];
	const line = (name: string, f: ReturnType<typeof summary>) =>
		`  ${name}  wall ${s(f.wall)}, fcflash-tui CPU ${s(f.cpu)} (${(f.share * 100).toFixed(0)} % of a core); harness CPU ${s(f.harness)}, ` +
		`${f.transfers} control transfers (CPU over transfers, start-up and waits included: ${((f.cpu * 1000) / f.transfers).toFixed(0)} us fcflash-tui, ${((f.harness * 1000) / f.transfers).toFixed(0)} us harness)`;
	const ratio = b.wall / a.wall;
	if (flashIn) console.log(`  device-bound per board (erase + programming): ${s(deviceBound(segments))}`);
	if (runs > 1) console.log(`  each run's wall: 1 board ${one.map((f) => s(f.wall)).join(', ')}; 4 boards ${four.map((f) => s(f.wall)).join(', ')}`);
	console.log(line('1 board alone  ', a));
	console.log(line('4 boards at once', b));
	console.log(`  4 at once vs 1 alone: ${ratio.toFixed(2)}x (goal <= 1.3x: ${ratio <= 1.3 ? 'met' : 'MISSED'})`);
	console.log(`  fcflash-tui CPU flashing 4: ${(b.share * 100).toFixed(0)} % of one core (goal < 100 %: ${b.share < 1 ? 'met' : 'MISSED'})`);
}
