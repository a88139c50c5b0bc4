// The whole flash job against real Betaflight, as an upgrade 4.5.6 -> 2026.12.0-alpha: fcflash-tui
// flash --device PORT backs up the tuned 4.5.6, reboots it into its bootloader (`bl`), where fc-sitl
// plugs the project's emulated DFU board into the real libusb path (umockdev); the flash writes it,
// leaves, 2026.12 comes back on defaults, and the job restores the settings, reporting the lines
// 2026.12 refuses. Nested: the harness (no board plugged in) around fc-sitl around the flasher, so
// umockdev's preload is in the flasher's environment from its start.
import assert from 'node:assert/strict';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {after, test} from 'node:test';
import {fileURLToPath} from 'node:url';
import {betaflightLikeImage, flashBase, toIntelHex} from '../scripts/synthetic-firmware.js';
import {describe as describeRun, runHarness, skipReason} from './helpers/usb-harness.js';
import {signalIfAlive} from './helpers/signal.js';
import {firmwareIn, sitlDir, sitlEnv, sitlSkip} from './helpers/sitl.js';

const skip = sitlSkip() || skipReason || false;
const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '..', '..', 'dist', 'cli.js');
const driver = join(here, 'helpers', 'sitl-flash-driver.js');
const dir = mkdtempSync(join(tmpdir(), 'fcflash-u-upgrade-'));
after(() => rmSync(dir, {recursive: true, force: true}));

// While the firmware is in its bootloader: plug the emulated DFU board in, and hold until the
// flasher has started the new firmware (the board leaves the bus).
const plug = `echo add > "$EMULATED_USB_CONTROL"; until grep -q '^present' "$EMULATED_USB_STATUS"; do sleep 0.05; done; until grep -q '^absent' "$EMULATED_USB_STATUS"; do sleep 0.05; done`;

test('flash --device PORT upgrades Betaflight 4.5.6 to 2026.12.0-alpha and keeps the settings; refused lines reported', {skip, timeout: 240_000}, async () => {
	const segments = betaflightLikeImage({target: 'SITL', version: '2026.12.0-alpha', bytes: 200 * 1024});
	const image = join(dir, 'betaflight_2026.12.0-alpha_SITL.hex');
	writeFileSync(image, toIntelHex(segments));
	const flashOut = join(dir, 'flash.bin');
	const tune = ['set p_roll = 52', 'set gyro_lpf1_static_hz = 300', 'set craft_name = Bench Quad', 'set d_min_roll = 35'];
	const state = join(dir, 'sitl');
	const run = await runHarness(
		['--profile', 'stm32f405', '--time-scale', '0', '--start-unplugged', '--flash-out', flashOut],
		[join(sitlDir()!, 'fc-sitl'), '--firmware', '4.5.6', '--then-firmware', '2026.12.0-alpha', '--state', state, '--on-bootloader', plug, '--', process.execPath, driver, cli, image, ...tune],
		220_000,
		{env: sitlEnv()},
	).finally(async () => {
		// fc-sitl can leave the firmware running when it is stopped right after a reboot, and the
		// next SITL test needs its fixed ports.
		for (const pid of firmwareIn(state)) signalIfAlive(pid, 'SIGTERM');
		for (let i = 0; firmwareIn(state).length > 0 && i < 50; i++) await new Promise((r) => setTimeout(r, 100));
	});
	assert.equal(run.code, 0, describeRun(run));
	const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as {flash: {code: number; stdout: string; stderr: string}; values: Record<string, string>; running: {version?: string}};
	const events = out.flash.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
	const result = events.at(-1)!;
	assert.equal(out.flash.code, 0, `${out.flash.stdout}\n${out.flash.stderr}`);
	assert.equal(result.ok, true);
	// compare and erase: what the smart flash's read-back finds decides whether there is an erase.
	const phases = [...new Set(events.filter((e) => e.event === 'progress').map((e) => e.phase))].filter((p) => p !== 'compare' && p !== 'erase');
	assert.deepEqual(phases, ['backup', 'reboot', 'wait', 'write', 'verify', 'leave', 'firmware', 'restore']);
	// The backup was written, the new firmware proved to run, the settings restored.
	assert.match(result.settings.backup, /\/fcflash-tui\/backups\/[0-9a-f]{24}\/\d{8}T\d{6}Z-BTFL-4\.5\.6\.txt$/);
	assert.equal(readFileSync(result.settings.backup, 'utf8').includes('set d_min_roll = 35'), true);
	assert.deepEqual(result.firmware, {variant: 'BTFL', version: '2026.12.0-alpha', target: 'SITL', matchesImage: true});
	assert.equal(result.settings.restored, true);
	assert.deepEqual(result.settings.rejected, [{line: 'set d_min_roll = 35', message: 'ERROR IN set: INVALID NAME: d_min_roll = 35'}]);
	assert.ok(result.settings.remaining.includes('set d_min_roll = 35'));
	assert.equal(out.running.version, '2026.12.0-alpha');
	// On 2026.12 afterwards, checked with get.
	assert.equal(out.values.p_roll, '52');
	assert.equal(out.values.gyro_lpf1_static_hz, '300');
	assert.equal(out.values.craft_name, 'Bench Quad');
	assert.equal(out.values.d_min_roll, undefined, 'renamed in 2026.12: reported, not silently dropped');
	// And the emulated board holds the image the flasher wrote.
	const flash = readFileSync(flashOut);
	for (const s of segments) assert.ok(Buffer.from(s.data).equals(flash.subarray(s.address - flashBase, s.address - flashBase + s.data.length)));
});
