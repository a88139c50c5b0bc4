// The Raspberry Pi in the test suite (#13): the packed tarball, installed with `npm install -g` as a
// pilot would, started by 64-bit (arm64) and 32-bit (armv7l) ARM Node 20 under qemu-user
// (scripts/arm-node.sh): --version, the usb and serialport prebuilts, list --simulate, inspect,
// and a flash through the real libusb path under umockdev (scripts/with-emulated-usb, serving the
// 32-bit usbdevfs layouts too), read back by x86 dfu-util from the same emulated board.
// Skipped, with the packages to install, where qemu-user-static or the arm64/armhf libraries are
// missing; .ci/run installs them and sets FCFLASH_REQUIRE_ARM=1, which turns a skip into a failure.
import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {before, describe, test, type TestContext} from 'node:test';
import {betaflightLikeImage, toIntelHex} from '../scripts/synthetic-firmware.js';
import {buildDfuFile} from '../source/firmware/dfu-file.js';
import {armNode, armRequired, installPacked, pathWith, type Installed, type PiArch} from './helpers/arm-node.js';
import {tempFiles} from './helpers/temp-files.js';
import {describe as describeRun, runCommand, runHarness, skipReason} from './helpers/usb-harness.js';

const base = 0x0800_0000;
const flashSize = 1024 * 1024;
const segments = betaflightLikeImage();
const files = tempFiles('u-arm-pi-');
const hexPath = files.write('bf.hex', toIntelHex(segments));
// A .dfu's suffix CRC takes zlib.crc32 where Node has it (20.15+) and the table otherwise, which is
// the path armv7l's Node 20.11 takes.
const dfuPath = files.write('bf.dfu', buildDfuFile(segments));
const expectedSegments = segments.map((s) => ({address: s.address, length: s.data.length, sha256: createHash('sha256').update(s.data).digest('hex')}));

// What the installed package loads on each: process.arch, and the prebuilds folder of usb and
// serialport (node-gyp-build picks armv7 over armv6 in linux-arm by the CPU it runs on).
const pis: Array<{arch: PiArch; processArch: string; prebuilds: RegExp}> = [
	{arch: 'arm64', processArch: 'arm64', prebuilds: /\/prebuilds\/linux-arm64\/[^/]*armv8[^/]*\.node$/},
	{arch: 'armv7l', processArch: 'arm', prebuilds: /\/prebuilds\/linux-arm\/[^/]*armv7[^/]*\.node$/},
];
const setups = new Map(pis.map((p) => [p.arch, armNode(p.arch)]));

let installed: Installed | undefined;
let installError: Error | undefined;
before(
	async () => {
		if (![...setups.values()].some((s) => s.bin)) return;
		try {
			installed = await installPacked(files.dir);
		} catch (error) {
			if (armRequired) throw error;
			installError = error as Error;
		}
	},
	{timeout: 420_000},
);

/** The installed CLI, or a skip when it could not be installed here (no npm registry). */
function cli(t: TestContext): Installed | undefined {
	if (installed) return installed;
	t.skip(`the packed CLI could not be installed: ${installError?.message ?? 'unknown'}`);
	return undefined;
}

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!);

// Loads the installed package's native modules the way the CLI does and says which files it took.
const PROBE = `
const path = require('node:path');
const dir = process.argv[2];
const {createRequire} = require('node:module');
const req = createRequire(path.join(dir, 'package.json'));
const gyp = req('node-gyp-build');
const usb = req('usb');
const serial = req('@serialport/bindings-cpp');
console.log(JSON.stringify({
	arch: process.arch,
	version: process.version,
	usb: gyp.path(path.join(dir, 'node_modules', 'usb')),
	serialport: gyp.path(path.join(dir, 'node_modules', '@serialport', 'bindings-cpp')),
	devices: usb.getDeviceList().length,
	serialList: typeof serial.autoDetect().list,
}));
`;
const probePath = files.write('probe.cjs', PROBE);

for (const pi of pis) {
	const setup = setups.get(pi.arch)!;
	describe(`Raspberry Pi, ${pi.arch} Node 20 under qemu`, {skip: setup.skip}, () => {
		const env = () => pathWith(setup.bin!);

		test('the installed CLI starts (--version) and loads the usb and serialport prebuilts for its CPU', {timeout: 180_000}, async (t) => {
			const app = cli(t);
			if (!app) return;
			const version = await runCommand(app.bin, ['--version'], {env: env(), timeoutMs: 120_000});
			assert.equal(version.code, 0, describeRun(version));
			assert.equal(version.stdout.trim(), app.version);

			const probe = await runCommand('node', [probePath, app.packageDir], {env: env(), timeoutMs: 120_000});
			assert.equal(probe.code, 0, describeRun(probe));
			const loaded = lastJson(probe.stdout) as {arch: string; version: string; usb: string; serialport: string; devices: number; serialList: string};
			assert.equal(loaded.arch, pi.processArch, 'not the ARM Node');
			assert.match(loaded.version, /^v20\./);
			assert.match(loaded.usb, pi.prebuilds);
			assert.match(loaded.serialport, pi.prebuilds);
			assert.equal(typeof loaded.devices, 'number');
			assert.equal(loaded.serialList, 'function');
		});

		test('list --simulate shows the demo boards', {timeout: 180_000}, async (t) => {
			const app = cli(t);
			if (!app) return;
			const list = await runCommand(app.bin, ['list', '--simulate', '--json'], {env: {...env(), FCFLASH_SIM_TIME_SCALE: '0'}, timeoutMs: 120_000});
			assert.equal(list.code, 0, describeRun(list));
			const boards = lastJson(list.stdout).boards as Array<{kind: string; chip?: string; fc?: {variant: string}}>;
			assert.deepEqual(boards.map((b) => b.kind), ['dfu', 'serial']);
			assert.equal(boards[0]!.chip, 'STM32F405/F407 (1 MiB)');
			assert.equal(boards[1]!.fc?.variant, 'BTFL');
		});

		test('inspect reads a Betaflight-like HEX (segments, hashes, ident) and the same image as .dfu', {timeout: 180_000}, async (t) => {
			const app = cli(t);
			if (!app) return;
			const inspect = await runCommand(app.bin, ['inspect', hexPath, '--json'], {env: env(), timeoutMs: 120_000});
			assert.equal(inspect.code, 0, describeRun(inspect));
			const result = lastJson(inspect.stdout);
			assert.equal(result.format, 'hex');
			assert.deepEqual(result.segments, expectedSegments);
			assert.deepEqual(result.ident, {flavour: 'Betaflight', target: 'STM32F405', version: '4.5.1', date: 'Nov 24 2026'});

			const dfu = await runCommand(app.bin, ['inspect', dfuPath, '--json'], {env: env(), timeoutMs: 120_000});
			assert.equal(dfu.code, 0, describeRun(dfu));
			const dfuResult = lastJson(dfu.stdout);
			assert.equal(dfuResult.format, 'dfu');
			assert.deepEqual(dfuResult.segments, expectedSegments);
		});

		test('flash through libusb under umockdev; x86 dfu-util reads the board back', {skip: skipReason, timeout: 300_000}, async (t) => {
			const app = cli(t);
			if (!app) return;
			// The board holds old firmware and settings: 0x5A everywhere.
			const beforePath = files.write(`before-${pi.arch}.bin`, Buffer.alloc(flashSize, 0x5a));
			const afterPath = join(files.dir, `after-${pi.arch}.bin`);
			const uploadPath = join(files.dir, `upload-${pi.arch}.bin`);
			const flashJson = join(files.dir, `flash-${pi.arch}.json`);
			// After leave the ROM resets the board; replug:200 brings it back into DFU (BOOT held)
			// under a new device number, and dfu-util reads the whole flash from it.
			const script = [
				'set -e',
				`first=$(head -1 "$EMULATED_USB_STATUS" | cut -d' ' -f3)`,
				'PATH="$ARM_BIN:$PATH" "$CLI" flash "$HEX" --yes --json > "$FLASH_JSON"',
				'i=0',
				`until head -1 "$EMULATED_USB_STATUS" | awk -v first="$first" '$1 == "present" && $3 != first {ok = 1} END {exit !ok}'; do`,
				'	i=$((i + 1)); [ $i -lt 200 ] || { echo "the board did not come back after leave" >&2; exit 9; }; sleep 0.05',
				'done',
				`dfu-util -a 0 -s 0x08000000:${flashSize} -U "$UPLOAD"`,
			].join('\n');
			const run = await runHarness(
				['--profile', 'stm32f405', '--time-scale', '0', '--flash-in', beforePath, '--flash-out', afterPath, '--on-disconnect', 'replug:200'],
				['/bin/sh', '-c', script],
				240_000,
				{env: {...process.env, ARM_BIN: setup.bin, CLI: app.bin, HEX: hexPath, FLASH_JSON: flashJson, UPLOAD: uploadPath}},
			);
			const flashOut = (() => {
				try {
					return readFileSync(flashJson, 'utf8');
				} catch {
					return '';
				}
			})();
			assert.equal(run.code, 0, `${describeRun(run)}\nflash --json:\n${flashOut}`);
			const result = lastJson(flashOut);
			assert.equal(result.ok, true);
			assert.equal(result.verified, true);
			assert.equal(result.erase.mode, 'sectors');
			assert.ok(result.written > 0);

			const upload = readFileSync(uploadPath);
			assert.equal(upload.length, flashSize);
			for (const s of segments) {
				const got = upload.subarray(s.address - base, s.address - base + s.data.length);
				assert.ok(Buffer.from(s.data).equals(got), `segment at 0x${s.address.toString(16)} differs`);
			}
			// The config sector (0x08004000, 16 KiB) is a gap in the image: never erased, still 0x5A.
			assert.ok(upload.subarray(0x4000, 0x8000).every((b) => b === 0x5a), 'config sector was touched');
			assert.ok(upload.subarray(0xc0000).every((b) => b === 0x5a), 'sectors the image does not touch were erased');
			// What the emulator kept is what dfu-util read.
			assert.ok(readFileSync(afterPath).equals(upload), '--flash-out differs from the dfu-util upload');
		});
	});
}
