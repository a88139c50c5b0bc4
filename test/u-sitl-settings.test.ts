// Settings backup and restore against real Betaflight: the SITL builds of 4.5.6 and 2026.12.0-alpha
// on fc-sitl's pseudo terminal, which vanishes when the firmware reboots and comes back, as a USB
// flight controller's port does. Values are checked with `get` on the board.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {CliSession} from '../source/devices/fc-cli.js';
import {identifyLink} from '../source/devices/fc-identify.js';
import {backupSettings} from '../source/settings/backup.js';
import {diffSettings} from '../source/settings/compare.js';
import {checkRunningFirmware} from '../source/settings/firmware-check.js';
import {restoreSettings} from '../source/settings/restore.js';
import {portGone, sitlSkip, startSitl, type Sitl} from './helpers/sitl.js';
import {tempFiles} from './helpers/temp-files.js';

const skip = sitlSkip();
const temp = tempFiles('fcflash-u-sitl-');
const MCU = '000000000000000100000002';

/** Enter the CLI on a fresh link, run lines (each must be accepted), then save or exit. */
async function cli(sitl: Sitl, lines: string[], end: 'save' | 'exit' = 'exit') {
	const s = await CliSession.enter(await sitl.open());
	for (const line of lines) assert.deepEqual((await s.run(line)).errors, [], line);
	const reply = end === 'save' ? await s.save() : await s.exit();
	assert.equal(reply.closed, true, `${end} rebooted the firmware`);
	await s.link.close();
	await portGone(sitl.port);
}

/** Values read with `get`; a `profile N` / `rateprofile N` entry switches context first. */
async function gets(sitl: Sitl, names: string[]): Promise<Record<string, string | undefined>> {
	const s = await CliSession.enter(await sitl.open());
	const out: Record<string, string | undefined> = {};
	let context = '';
	for (const n of names) {
		if (/^(rate)?profile \d$/.test(n)) {
			await s.run(n);
			context = `${n}:`;
		} else out[context + n] = await s.get(n);
	}
	await s.exit();
	await s.link.close();
	await portGone(sitl.port);
	return out;
}

const tune = [
	'set p_roll = 52',
	'set craft_name = My Quad',
	'set gyro_lpf1_static_hz = 300',
	'aux 0 0 0 1700 2100 0 0',
	'feature -AIRMODE',
	'profile 1',
	'set i_roll = 91',
	'profile 0',
	'rateprofile 1',
	'set roll_rc_rate = 110',
	'rateprofile 0',
];
const tuned = {'p_roll': '52', 'craft_name': 'My Quad', 'gyro_lpf1_static_hz': '300', 'profile 1:i_roll': '91', 'rateprofile 1:roll_rc_rate': '110'};
const names = ['p_roll', 'craft_name', 'gyro_lpf1_static_hz', 'profile 1', 'i_roll', 'profile 0', 'rateprofile 1', 'roll_rc_rate'];

test('Betaflight 4.5.6: set + save, back up, reset with defaults, restore, every value back (get)', {skip, timeout: 180_000}, async () => {
	const sitl = await startSitl({firmware: '4.5.6'});
	try {
		await cli(sitl, tune, 'save');

		const link = await sitl.open();
		const identity = await identifyLink(link);
		assert.equal(identity?.variant, 'BTFL');
		assert.equal(identity?.version, '4.5.6');
		assert.equal(identity?.mcuId, MCU, 'MSP_UID as the CLI prints mcu_id');
		const session = await CliSession.enter(link);
		const backup = await backupSettings(session, {identity, dataHome: join(temp.dir, 'a'), now: new Date('2026-12-01T08:15:00Z')});
		await session.exit();
		await link.close();
		await portGone(sitl.port);
		assert.equal(backup.file, join(temp.dir, 'a', 'fcflash-tui', 'backups', MCU, '20261201T081500Z-BTFL-4.5.6.txt'));
		assert.deepEqual(backup.board, {variant: 'BTFL', version: '4.5.6', target: 'SITL', mcuId: MCU});
		const text = readFileSync(backup.file, 'utf8');
		for (const line of ['set p_roll = 52', 'set craft_name = My Quad', 'aux 0 0 0 1700 2100 0 0', 'feature -AIRMODE', 'set i_roll = 91', 'set roll_rc_rate = 110']) assert.ok(text.includes(`\n${line}\n`), line);

		// `defaults` resets, saves and reboots: the board is back on its defaults.
		const reset = await CliSession.enter(await sitl.open());
		assert.equal((await reset.runUntilGone('defaults')).closed, true);
		await reset.link.close();
		await portGone(sitl.port);
		assert.deepEqual(await gets(sitl, ['p_roll', 'craft_name']), {p_roll: '45', craft_name: '-'});

		const progress: number[] = [];
		const restoreLink = await sitl.open();
		const report = await restoreSettings(restoreLink, backup.text, {
			file: backup.file,
			reopen: () => sitl.open(),
			board: identity,
			onProgress: (p) => progress.push(p.done),
		}).finally(() => restoreLink.close());
		await portGone(sitl.port); // the restore ends with exit
		assert.deepEqual(report.rejected, []);
		assert.deepEqual(report.remaining, []);
		assert.equal(report.saved, true);
		assert.ok(report.applied >= tune.length - 4, `applied ${report.applied}`);
		assert.equal(progress.at(-1), progress.length - 1);
		assert.deepEqual(await gets(sitl, names), tuned);

		const s = await CliSession.enter(await sitl.open());
		assert.deepEqual(await diffSettings(backup.text, s), {same: true, onlyInFile: [], onlyOnBoard: []});
		await s.exit();
		await s.link.close();
	} catch (error) {
		console.error(sitl.log().slice(-3000));
		throw error;
	} finally {
		await sitl.stop();
	}
});

test('upgrade 4.5.6 -> 2026.12.0-alpha: back up, bl, 2026.12 starts on defaults, restore; renamed lines reported', {skip, timeout: 180_000}, async () => {
	const sitl = await startSitl({firmware: '4.5.6', onBootloader: 'true', thenFirmware: '2026.12.0-alpha'});
	try {
		await cli(sitl, [...tune, 'set d_min_roll = 35', 'serial 1 64 115200 57600 0 115200'], 'save');

		// Backup and the reboot into the bootloader in one CLI session, as the flash job does.
		const link = await sitl.open();
		const identity = await identifyLink(link);
		const session = await CliSession.enter(link);
		const backup = await backupSettings(session, {identity, dataHome: join(temp.dir, 'b')});
		assert.ok(backup.text.includes('\nset d_min_roll = 35\n'));
		await session.enterBootloader(identity?.variant);
		await link.close();
		await portGone(sitl.port);

		// fc-sitl "flashes" 2026.12 while the port is gone: it comes back running it, on defaults.
		const after = await sitl.open();
		const running = await identifyLink(after);
		assert.equal(running?.version, '2026.12.0-alpha');
		assert.deepEqual(checkRunningFirmware(running, {flavour: 'Betaflight', target: 'SITL', version: '2026.12.0-alpha', date: 'Dec 1 2026', raw: ''}), {matches: true});
		assert.equal(checkRunningFirmware(running, {flavour: 'Betaflight', target: 'SITL', version: '4.5.6', date: 'Dec 1 2026', raw: ''}).matches, false);

		const report = await restoreSettings(after, backup.text, {file: backup.file, reopen: () => sitl.open(), board: running}).finally(() => after.close());
		await portGone(sitl.port);
		assert.equal(report.saved, true);
		// The firmware's own messages, the arming-critical line first.
		assert.deepEqual(report.rejected, [
			{line: 'serial 1 64 115200 57600 0 115200', message: 'ERROR IN serial: READ ONLY, ASSIGN PORTS WITH THE <FEATURE>_UART SETTINGS'},
			{line: 'set d_min_roll = 35', message: 'ERROR IN set: INVALID NAME: d_min_roll = 35'},
		]);
		assert.ok(report.remaining.includes('set d_min_roll = 35'), report.remaining.join(' | '));
		assert.ok(report.remaining.includes('serial 1 64 115200 57600 0 115200'), report.remaining.join(' | '));
		// Everything else is on 2026.12 now.
		assert.deepEqual(await gets(sitl, names), tuned);
		const aux = await CliSession.enter(await sitl.open());
		assert.equal((await aux.run('aux')).lines[0], 'aux 0 0 0 1700 2100 0 0');
		await aux.exit();
		await aux.link.close();
	} catch (error) {
		console.error(sitl.log().slice(-3000));
		throw error;
	} finally {
		await sitl.stop();
	}
});
