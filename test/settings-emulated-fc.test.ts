// The emulated Betaflight behind --simulate: MSP over its in-process link, settings in the config
// sector of the emulated flash (kept by a sector flash, wiped by a full erase, reset by another
// major.minor), and its reboots: save/exit come back as the flight controller, bl and
// MSP_SET_REBOOT(1) as the DFU board.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {CliSession} from '../source/devices/fc-cli.js';
import {identifyLink} from '../source/devices/fc-identify.js';
import {SimulatedSource} from '../source/devices/simulated.js';
import type {DfuBoard, SerialBoard} from '../source/devices/types.js';
import {EmulatedUsbDevice, profiles} from '../source/emulator/index.js';
import {flashOnce as runFlashJob} from './helpers/job-driver.js';
import {makeImage} from '../source/firmware/image.js';
import {betaflightLikeImage} from '../scripts/synthetic-firmware.js';
import {emulatedFc, sitl2026, until} from './helpers/fake-fc.js';

const F722 = profiles.stm32f722.serialNumber;
const opts = {timeout: 30_000};


const serialBoard = (source: SimulatedSource) => until('the F722 as a flight controller', async () => (await source.list()).find((b): b is SerialBoard => b.kind === 'serial' && b.id === F722));
const dfuBoard = (source: SimulatedSource) => until('the F722 in DFU', async () => (await source.list()).find((b): b is DfuBoard => b.kind === 'dfu' && b.id === F722));

async function cli(source: SimulatedSource, ...commands: string[]) {
	const s = await CliSession.enter(await source.openLink(await serialBoard(source)));
	const replies = [];
	for (const c of commands) replies.push(await s.run(c));
	return {s, replies};
}

const image = (version: string) => makeImage(`betaflight-${version}-STM32F7X2.hex`, 'hex', betaflightLikeImage({target: 'STM32F7X2', bytes: 200 * 1024, version}), null);

async function flash(source: SimulatedSource, version: string, fullErase = false) {
	const board = (await source.list()).find((b) => b.id === F722);
	if (board?.kind === 'serial') await (await CliSession.enter(await source.openLink(board))).enterBootloader('BTFL');
	await runFlashJob(source, await dfuBoard(source), image(version), {fullErase, waitMs: 5000});
	return serialBoard(source);
}

test('the demo F722 answers MSP over its in-process link: Betaflight 4.5.1, its MCU id', opts, async () => {
	const source = new SimulatedSource('', {timeScale: 0});
	try {
		const board = await serialBoard(source);
		const link = await source.openLink(board);
		const id = await identifyLink(link);
		await link.close();
		assert.deepEqual(
			{variant: id?.variant, version: id?.version, api: id?.apiVersion, board: id?.board, target: id?.target},
			{variant: 'BTFL', version: '4.5.1', api: '1.46', board: 'S7X2', target: 'STM32F7X2'},
		);
		assert.match(id!.mcuId!, /^[0-9a-f]{24}$/);
		assert.equal(board.fc?.mcuId, id?.mcuId, 'the listing shows the same MCU id');
		// One port, one user: a second open while the first is held is "busy".
		const held = await source.openLink(board);
		await assert.rejects(source.openLink(board), {hint: 'busy'});
		await held.close();
	} finally {
		await source.close();
	}
});

test('settings live in the config sector at 0x08004000 and survive save, a reboot and a sector flash', opts, async () => {
	const source = new SimulatedSource('', {timeScale: 0});
	try {
		const {s} = await cli(source, 'set p_roll = 52', 'set craft_name = Sim Quad', 'aux 0 0 0 1700 2100 0 0');
		assert.equal((await s.save()).closed, true);
		// Back as a flight controller, with the settings.
		const {s: s2, replies} = await cli(source, 'get p_roll', 'get craft_name', 'aux');
		assert.equal(replies[0]!.lines[0], 'p_roll = 52');
		assert.equal(replies[1]!.lines[0], 'craft_name = Sim Quad');
		assert.equal(replies[2]!.lines[0], 'aux 0 0 0 1700 2100 0 0');
		// In the ROM bootloader the record is there to read, in the second 16 KiB sector only.
		await s2.enterBootloader('BTFL');
		const device = await source.openDfu(await dfuBoard(source));
		assert.ok(device instanceof EmulatedUsbDevice);
		const flashBytes = device.bootloader.flash;
		assert.equal(Buffer.from(flashBytes.subarray(0x4000, 0x4004)).toString('latin1'), 'EMFC');
		assert.ok(flashBytes.subarray(0, 0x4000).every((b) => b === 0xff), 'sector 0 untouched');
		assert.ok(flashBytes.subarray(0x8000).every((b) => b === 0xff), 'nothing past the config sector');
		device.bootloader.reset();

		// A flash of 4.5.6 (same 4.5 layout) touches only the image's sectors: settings kept.
		const after = await flash(source, '4.5.6');
		assert.equal(after.fc?.version, '4.5.6', 'it runs the flashed image');
		const {s: s3, replies: r3} = await cli(source, 'get p_roll', 'version');
		assert.equal(r3[0]!.lines[0], 'p_roll = 52');
		assert.match(r3[1]!.lines[0]!, /^# Betaflight \/ STM32F7X2 \(S7X2\) 4\.5\.6 /);
		await s3.exit();
	} finally {
		await source.close();
	}
});

test('a full chip erase resets the settings, as on a real board', opts, async () => {
	const source = new SimulatedSource('', {timeScale: 0});
	try {
		const {s} = await cli(source, 'set p_roll = 52');
		await s.save();
		await flash(source, '4.5.1', true);
		const {s: s2, replies} = await cli(source, 'get p_roll');
		assert.equal(replies[0]!.lines[0], 'p_roll = 45');
		await s2.exit();
	} finally {
		await source.close();
	}
});

test('an upgrade to another major.minor (2026.12) starts with defaults and renamed settings', opts, async () => {
	const source = new SimulatedSource('', {timeScale: 0});
	try {
		const {s} = await cli(source, 'set p_roll = 52', 'set d_min_roll = 35');
		await s.save();
		const after = await flash(source, '2026.12.0');
		assert.equal(after.fc?.version, '2026.12.0');
		const {s: s2, replies} = await cli(source, 'get p_roll', 'set d_min_roll = 35', 'get d_max_roll', 'serial 1 64 115200 57600 0 115200');
		assert.equal(replies[0]!.lines[0], 'p_roll = 45', 'defaults after the upgrade');
		assert.deepEqual(replies[1]!.errors, ['ERROR IN set: INVALID NAME: d_min_roll = 35']);
		assert.equal(replies[2]!.lines[0], 'd_max_roll = 40');
		assert.deepEqual(replies[3]!.errors, ['ERROR IN serial: READ ONLY, ASSIGN PORTS WITH THE <FEATURE>_UART SETTINGS']);
		await s2.exit();
	} finally {
		await source.close();
	}
});

test('CLI bl and MSP_SET_REBOOT(1) bring the F722 back as the DFU board; exit as the flight controller', opts, async () => {
	const source = new SimulatedSource('', {timeScale: 0});
	try {
		const {s} = await cli(source);
		await s.exit();
		await serialBoard(source);
		const {s: s2} = await cli(source);
		await s2.enterBootloader('BTFL');
		assert.equal((await dfuBoard(source)).serialNumber, F722);
		// Leave after a flash: the new image runs as a flight controller.
		const back = await flash(source, '4.5.6');
		assert.equal(back.fc?.version, '4.5.6');
		await source.rebootToDfu(back);
		assert.equal((await dfuBoard(source)).id, F722);
	} finally {
		await source.close();
	}
});

test('the reboot character R and MSP_SET_REBOOT(0) from the firmware side', opts, async () => {
	const {open, reboots} = emulatedFc(sitl2026);
	const a = open();
	await a.write(Buffer.from('R'));
	assert.equal(await a.waitClosed(1000), true);
	const b = open();
	await b.write(Buffer.from([0x24, 0x4d, 0x3c, 1, 68, 0, 68 ^ 1]));
	assert.equal(await b.waitClosed(1000), true);
	assert.deepEqual(reboots, ['bootloader', 'firmware']);
	// Calendar versions report year-2000 and the text in MSP_FC_VERSION.
	const id = await identifyLink(open());
	assert.equal(id?.version, '2026.12.0-alpha');
	assert.equal(id?.apiVersion, '1.49');
});
