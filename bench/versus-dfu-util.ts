// Side by side with dfu-util on the same emulated STM32F405 at real ROM timing (bus included), all
// through libusb (scripts/with-emulated-usb, umockdev), one process tree each:
//   dfu-util -a 0 -s 0x08000000:leave -D image.{bin,dfu}
//   fcflash-tui flash image.hex --yes --rewrite      (the plain path: erase and write every touched sector)
//   fcflash-tui flash image.hex --yes                (smart flash: compare first)
// For each case the board starts from the same flash file. One table: wall times (harness start-up
// subtracted), the time the ROM itself was busy in the smart run, its erases and data DNLOADs (the
// emulator's own counters), and the ratios against dfu-util with the goal of issue #12.
import {spawn, spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {betaflightLikeImage, fullImage, toIntelHex} from '../scripts/synthetic-firmware.js';
import {buildDfuFile} from '../source/firmware/dfu-file.js';
import type {Segment} from '../source/firmware/image.js';
import type {EmulatorStats} from '../source/emulator/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const harness = join(root, 'scripts', 'with-emulated-usb');
const cli = join(root, 'dist', 'cli.js');
const FLASH = 0x08000000;
const MiB = 1024 * 1024;

const runs = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Run {
	ms: number;
	stats: EmulatorStats;
	/** Wall time of each JSON progress phase (fcflash-tui only), from the arrival of its first event. */
	phases: Record<string, number>;
}

function run(dir: string, flashIn: string, command: string[]): Promise<Run> {
	const statsPath = join(dir, 'stats.json');
	rmSync(statsPath, {force: true});
	return new Promise((resolve, reject) => {
		const t = performance.now();
		const child = spawn(harness, ['--profile', 'stm32f405', '--time-scale', '1', '--flash-in', flashIn, '--', ...command], {
			stdio: ['ignore', 'pipe', 'pipe'],
			env: {...process.env, FCFLASH_EMULATOR_STATS: statsPath},
		});
		const marks: Array<[string, number]> = [];
		let buffered = '';
		let stderr = '';
		child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
			buffered += chunk;
			for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
				const line = buffered.slice(0, nl);
				buffered = buffered.slice(nl + 1);
				try {
					const e = JSON.parse(line) as {event?: string; phase?: string};
					if (e.event === 'progress' && marks.at(-1)?.[0] !== e.phase) marks.push([e.phase!, performance.now()]);
					if (e.event === 'result') marks.push(['end', performance.now()]);
				} catch {
					// dfu-util's text output
				}
			}
		});
		child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
		const timer = setTimeout(() => child.kill('SIGTERM'), 240_000);
		child.on('close', (code) => {
			clearTimeout(timer);
			if (code !== 0) return reject(new Error(`${command.join(' ')} failed (${code}): ${stderr.slice(-400)}`));
			const phases: Record<string, number> = {};
			for (let i = 0; i + 1 < marks.length; i++) phases[marks[i]![0]] = (phases[marks[i]![0]] ?? 0) + marks[i + 1]![1] - marks[i]![1];
			resolve({ms: performance.now() - t, stats: JSON.parse(readFileSync(statsPath, 'utf8')) as EmulatorStats, phases});
		});
	});
}

/** A flash file: 0xFF, then these segments. */
function flashWith(segments: readonly Segment[], fill = 0xff): Uint8Array {
	const out = new Uint8Array(MiB).fill(fill);
	for (const s of segments) out.set(s.data, s.address - FLASH);
	return out;
}

interface Case {
	name: string;
	image: Segment[];
	before: Uint8Array;
	verify: boolean;
	/** Goal for smart / dfu-util, and what the smart run must show. */
	goal: number;
	erases?: number;
	dnloads?: number;
	/** Also report the compare's share of the flash time. */
	readBack?: boolean;
}

function cases(): Case[] {
	const mib = fullImage(MiB, 7);
	const bf = betaflightLikeImage({bytes: 660 * 1024, seed: 3});
	// The board holds this Betaflight build and its settings; the new build differs in one 128 KiB sector.
	const onBoard = flashWith(bf);
	onBoard.fill(0x5a, 0x4000, 0x8000);
	const newer = bf.map((s) => ({address: s.address, data: s.data.slice()}));
	newer[1]!.data[0x08060000 + 4096 - newer[1]!.address]! ^= 0x5a;
	const other = fullImage(MiB, 8);
	return [
		{name: 'same 1 MiB image again', image: mib, before: flashWith(mib), verify: true, goal: 0.1, erases: 0, dnloads: 0},
		{name: '1 MiB onto a blank chip', image: mib, before: flashWith([]), verify: true, goal: 0.45, erases: 0},
		{name: 'Betaflight, one sector differs', image: newer, before: onBoard, verify: true, goal: 0.2, erases: 1},
		{name: 'new 1 MiB image, verify off', image: mib, before: flashWith(other), verify: false, goal: 0.9},
		{name: 'new 1 MiB image, verify on', image: mib, before: flashWith(other), verify: true, goal: 0.97, readBack: true},
	];
}

const usable =
	existsSync(harness) &&
	existsSync(cli) &&
	!spawnSync('dfu-util', ['--version'], {stdio: 'ignore'}).error &&
	spawnSync('/usr/bin/python3', ['-c', 'import gi; gi.require_version("UMockdev", "1.0")'], {stdio: 'ignore'}).status === 0;

console.log(`\n## Versus dfu-util through libusb (umockdev), emulated STM32F405 at ROM timing, bus at full speed (median of ${runs}, BENCH_RUNS)`);
if (!usable) {
	console.log('skipped: needs dfu-util, umockdev, python3-gi and dist/cli.js (npm run build)');
} else {
	const dir = mkdtempSync(join(tmpdir(), 'fcflash-versus-'));
	try {
		const blank = join(dir, 'blank.bin');
		writeFileSync(blank, new Uint8Array(MiB).fill(0xff));
		const starts: number[] = [];
		for (let i = 0; i < 3; i++) starts.push((await run(dir, blank, ['true'])).ms);
		const baseline = median(starts);
		console.log(`harness start-up (subtracted from every figure): ${baseline.toFixed(0)} ms`);
		const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
		const rows: string[][] = [['case', 'dfu-util', 'plain (--rewrite)', 'this path', 'device', 'erases', 'DNLOADs', 'plain/dfu-util', 'this/dfu-util', 'goal', '']];
		const notes: string[] = [];
		for (const c of cases()) {
			const hexPath = join(dir, 'image.hex');
			writeFileSync(hexPath, toIntelHex(c.image));
			const peerPath = join(dir, c.image.length === 1 ? 'image.bin' : 'image.dfu');
			writeFileSync(peerPath, c.image.length === 1 ? c.image[0]!.data : buildDfuFile(c.image));
			const before = join(dir, 'before.bin');
			writeFileSync(before, c.before);
			// A DfuSe file carries its own addresses: dfu-util then takes only the ':leave' modifier.
			const where = c.image.length === 1 ? `0x${FLASH.toString(16)}:leave` : ':leave';
			const verify = c.verify ? [] : ['--no-verify'];
			const peers: number[] = [];
			const plains: number[] = [];
			const smarts: Run[] = [];
			// Interleaved runs, medians: the machine's speed drifts less between neighbours.
			for (let i = 0; i < runs; i++) {
				peers.push((await run(dir, before, ['dfu-util', '-a', '0', '-s', where, '-D', peerPath])).ms - baseline);
				plains.push((await run(dir, before, [process.execPath, cli, 'flash', hexPath, '--yes', '--json', '--rewrite', ...verify])).ms - baseline);
				smarts.push(await run(dir, before, [process.execPath, cli, 'flash', hexPath, '--yes', '--json', ...verify]));
			}
			const peer = median(peers);
			const plain = median(plains);
			const smart = [...smarts].sort((a, b) => a.ms - b.ms)[Math.floor(smarts.length / 2)]!;
			const mine = smart.ms - baseline;
			const ratio = mine / peer;
			const held = ratio <= c.goal && (c.erases === undefined || smart.stats.erases === c.erases) && (c.dnloads === undefined || smart.stats.dataDnloads === c.dnloads);
			rows.push([
				c.name,
				s(peer),
				s(plain),
				s(mine),
				s(smart.stats.deviceMs),
				String(smart.stats.erases),
				String(smart.stats.dataDnloads),
				`${(plain / peer).toFixed(2)}x`,
				`${ratio.toFixed(2)}x`,
				`<= ${c.goal.toFixed(2)}x${c.erases !== undefined ? `, ${c.erases} erases` : ''}${c.dnloads !== undefined ? `, ${c.dnloads} DNLOADs` : ''}`,
				held ? 'met' : 'MISSED',
			]);
			if (c.readBack) {
				const compare = smart.phases.compare ?? 0;
				notes.push(`read-back (compare) in "${c.name}": ${compare.toFixed(0)} ms, ${((100 * compare) / mine).toFixed(2)} % of the flash time (goal <= 1 %) ${compare / mine <= 0.01 ? 'met' : 'MISSED'}`);
			}
		}
		const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
		for (const [i, r] of rows.entries()) {
			console.log(r.map((cell, k) => (k === 0 ? cell.padEnd(widths[k]!) : cell.padStart(widths[k]!))).join('  '));
			if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
		}
		for (const n of notes) console.log(n);
		console.log('device = time the emulated ROM was busy (erase, program, set address) in the smart run; erases and DNLOADs are its counters.');
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
}
