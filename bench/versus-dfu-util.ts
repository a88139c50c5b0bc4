// Side by side with dfu-util on the same emulated board at real ROM timing, both through libusb
// (scripts/with-emulated-usb, umockdev), one process tree each:
//   dfu-util -a 0 -s 0x08000000:leave -D image.{bin,dfu}   vs   fcflash-tui flash image.hex --yes
// The Betaflight-like image has a gap (the config sector), so dfu-util gets it as a two-element .dfu.
// Prints wall time, the device-bound time (what the emulated ROM itself spends) and the ratio.
import {spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {betaflightLikeImage, fullImage, toIntelHex} from '../scripts/synthetic-firmware.js';
import {buildDfuFile} from '../source/firmware/dfu-file.js';
import {makeImage} from '../source/firmware/image.js';
import {planFlash} from '../source/dfu/plan.js';
import {parseLayout} from '../source/dfu/layout.js';
import {profiles} from '../source/emulator/profiles.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const harness = join(root, 'scripts', 'with-emulated-usb');
const cli = join(root, 'dist', 'cli.js');

const runs = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function run(command: string[]): number {
	const t = performance.now();
	const r = spawnSync(harness, ['--profile', 'stm32f405', '--time-scale', '1', '--', ...command], {stdio: ['ignore', 'ignore', 'pipe'], timeout: 180_000});
	if (r.status !== 0) throw new Error(`${command.join(' ')} failed (${r.status}): ${r.stderr?.toString().slice(-400)}`);
	return performance.now() - t;
}

function deviceBound(segments: ReturnType<typeof fullImage>) {
	const p = profiles.stm32f405;
	const image = makeImage('x', 'hex', segments, null);
	const plan = planFlash(image, parseLayout(p.layouts[0]!));
	const erase = plan.sectors.reduce((n, s) => n + p.eraseMs(s.size), 0);
	const nonBlank = segments.reduce((n, s) => {
		let bytes = 0;
		for (let o = 0; o < s.data.length; o += 2048) if (!s.data.subarray(o, o + 2048).every((b) => b === 0xff)) bytes += Math.min(2048, s.data.length - o);
		return n + bytes;
	}, 0);
	return erase + (nonBlank / 4) * 0.016;
}

const usable =
	existsSync(harness) &&
	!spawnSync('dfu-util', ['--version'], {stdio: 'ignore'}).error &&
	spawnSync('/usr/bin/python3', ['-c', 'import gi; gi.require_version("UMockdev", "1.0")'], {stdio: 'ignore'}).status === 0;

console.log(`\n## Versus dfu-util through libusb (umockdev), emulated STM32F405 at ROM timing (median of ${runs}, BENCH_RUNS)`);
if (!usable) {
	console.log('skipped: needs dfu-util, umockdev and python3-gi (see README)');
} else {
	const dir = mkdtempSync(join(tmpdir(), 'fcflash-versus-'));
	try {
		const baseline = run(['true']);
		console.log(`harness start-up (subtracted from every figure): ${baseline.toFixed(0)} ms`);
		for (const [name, segments] of [
			['1 MiB', fullImage()],
			['660 KiB Betaflight-like (gap)', betaflightLikeImage()],
		] as const) {
			const hexPath = join(dir, 'image.hex');
			writeFileSync(hexPath, toIntelHex(segments));
			let peerPath: string;
			if (segments.length === 1) {
				peerPath = join(dir, 'image.bin');
				writeFileSync(peerPath, segments[0]!.data);
			} else {
				peerPath = join(dir, 'image.dfu');
				writeFileSync(peerPath, buildDfuFile(segments));
			}
			const bound = deviceBound([...segments]);
			// A DfuSe file carries its own addresses: dfu-util then takes only the ':leave' modifier.
			const where = segments.length === 1 ? '0x08000000:leave' : ':leave';
			// Interleaved runs, medians: the machine's speed drifts less between neighbours.
			const peers: number[] = [];
			const offs: number[] = [];
			const ons: number[] = [];
			for (let i = 0; i < runs; i++) {
				peers.push(run(['dfu-util', '-a', '0', '-s', where, '-D', peerPath]) - baseline);
				offs.push(run([process.execPath, cli, 'flash', hexPath, '--yes', '--no-verify']) - baseline);
				ons.push(run([process.execPath, cli, 'flash', hexPath, '--yes']) - baseline);
			}
			const [peer, off, on] = [median(peers), median(offs), median(ons)];
			const f = (n: number) => `${(n / 1000).toFixed(2)} s`;
			console.log(`${name}: device-bound ${f(bound)}`);
			console.log(`  dfu-util                 ${f(peer)}`);
			console.log(`  fcflash-tui verify off   ${f(off)}  ratio ${(off / peer).toFixed(2)}x (goal <= 0.9x)`);
			console.log(`  fcflash-tui verify on    ${f(on)}  ratio ${(on / peer).toFixed(2)}x (goal <= 1.3x)`);
		}
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
}
