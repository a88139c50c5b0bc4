// Backup, restore and diff end to end against the emulated flight controller of --simulate, over
// its in-process link, the way the flash job strings them together: back up, change or upgrade,
// restore, check. Faults: the port vanishing during backup, during the replay and after save, and
// Ctrl-C; each ends with a typed error and the board never half-restored.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync, readdirSync} from 'node:fs';
import {join} from 'node:path';
import {CliSession} from '../source/devices/fc-cli.js';
import {SimulatedSource} from '../source/devices/simulated.js';
import type {Link} from '../source/devices/serial-link.js';
import type {DfuBoard, SerialBoard} from '../source/devices/types.js';
import {profiles} from '../source/emulator/index.js';
import {EmulatedLink} from '../source/emulator/fc-link.js';
import {CliPortGoneError, FcflashError, OtherBoardError, RestoreInterruptedError, SettingsVariantError} from '../source/errors.js';
import {flashOnce as runFlashJob} from './helpers/job-driver.js';
import {makeImage} from '../source/firmware/image.js';
import {backupSettings, readBackupFile} from '../source/settings/backup.js';
import {diffSettings} from '../source/settings/compare.js';
import {parseSettings} from '../source/settings/diff-text.js';
import {matchReturnedPort} from '../source/settings/port-return.js';
import {restoreSettings} from '../source/settings/restore.js';
import {betaflightLikeImage} from '../scripts/synthetic-firmware.js';
import {until} from './helpers/fake-fc.js';
import {tempFiles} from './helpers/temp-files.js';

const F722 = profiles.stm32f722.serialNumber;
const temp = tempFiles('fcflash-roundtrip-');
const opts = {timeout: 60_000};


/** The F722's port once it is back (matched as the lead's waiting loop will), opened. */
async function reopen(source: SimulatedSource, before: SerialBoard): Promise<Link> {
	const match = await until('the flight controller port', async () => matchReturnedPort({port: before.port, usbPath: before.usbPath, serialNumber: before.serialNumber}, await source.list(), new Set()));
	return source.openLink(match.board);
}

const serialBoard = (source: SimulatedSource) => until('the F722 as a flight controller', async () => (await source.list()).find((b): b is SerialBoard => b.kind === 'serial' && b.id === F722));

async function withCli<T>(source: SimulatedSource, fn: (s: CliSession) => Promise<T>, end: 'exit' | 'save' | 'stay' = 'exit'): Promise<T> {
	const s = await CliSession.enter(await source.openLink(await serialBoard(source)));
	const result = await fn(s);
	if (end === 'exit') await s.exit();
	if (end === 'save') assert.equal((await s.save()).closed, true);
	return result;
}

async function gets(source: SimulatedSource, ...names: string[]): Promise<(string | undefined)[]> {
	return withCli(source, async (s) => {
		const out = [];
		for (const n of names) out.push(n.startsWith('profile ') ? ((await s.run(n)), undefined) : await s.get(n));
		return out.filter((_, i) => !names[i]!.startsWith('profile '));
	});
}

const tune = ['set p_roll = 52', 'set craft_name = Sim Quad', 'aux 0 0 0 1700 2100 0 0', 'feature -AIRMODE', 'profile 1', 'set i_roll = 91', 'profile 0', 'serial 1 64 115200 57600 0 115200', 'set d_min_roll = 35'];

async function tuned(source: SimulatedSource) {
	await withCli(source, async (s) => {
		for (const line of tune) assert.deepEqual((await s.run(line)).errors, [], line);
	}, 'save');
}

async function backUp(source: SimulatedSource, end: 'exit' | 'stay' = 'exit') {
	const board = await serialBoard(source);
	const s = await CliSession.enter(await source.openLink(board));
	const backup = await backupSettings(s, {dataHome: join(temp.dir, 'data'), identity: board.fc, usbSerial: board.serialNumber, now: new Date('2026-12-01T08:15:00Z')});
	if (end === 'exit') await s.exit();
	return {backup, board, session: s};
}

test('backup writes the diff to the store under the MCU id; the result names the board', opts, async () => {
	const source = new SimulatedSource('', {timeScale: 0});
	try {
		await tuned(source);
		const {backup, board} = await backUp(source);
		assert.equal(backup.file, join(temp.dir, 'data', 'fcflash-tui', 'backups', board.fc!.mcuId!, '20261201T081500Z-BTFL-4.5.1.txt'));
		assert.deepEqual(backup.board, {variant: 'BTFL', version: '4.5.1', target: 'STM32F7X2', mcuId: board.fc!.mcuId});
		const text = readFileSync(backup.file, 'utf8');
		assert.equal(text, backup.text);
		assert.equal(backup.lines, text.split('\n').filter((l) => l.trim()).length);
		for (const line of ['set p_roll = 52', 'set craft_name = Sim Quad', 'aux 0 0 0 1700 2100 0 0', 'feature -AIRMODE', 'set i_roll = 91', `mcu_id ${board.fc!.mcuId}`]) assert.ok(text.includes(`${line}\n`), line);
		// A second backup in the same second: a new file, the first untouched.
		const again = await backUp(source);
		assert.equal(again.backup.file, backup.file.replace('.txt', '-2.txt'));
		assert.equal(readFileSync(backup.file, 'utf8'), text);
	} finally {
		await source.close();
	}
});

test('backup, change settings, restore: every value back, checked with get after the save reboot', opts, async () => {
	const source = new SimulatedSource('', {timeScale: 0});
	try {
		await tuned(source);
		const {backup} = await backUp(source);
		await withCli(source, async (s) => {
			await s.run('set p_roll = 30');
			await s.run('set gyro_lpf1_static_hz = 100');
			await s.run('feature AIRMODE');
			await s.run('aux 0 0 0 900 900 0 0');
		}, 'save');
		const before = await withCli(source, (s) => diffSettings(backup.text, s));
		assert.equal(before.same, false);
		assert.deepEqual(before.onlyInFile.sort(), ['aux 0 0 0 1700 2100 0 0', 'feature -AIRMODE', 'set p_roll = 52'].sort());
		assert.deepEqual(before.onlyOnBoard.sort(), ['aux 0 0 0 900 900 0 0', 'feature AIRMODE', 'set gyro_lpf1_static_hz = 100', 'set p_roll = 30'].sort());

		const board = await serialBoard(source);
		const progress: number[] = [];
		const report = await restoreSettings(await reopen(source, board), backup.text, {file: backup.file, reopen: () => reopen(source, board), onProgress: (p) => progress.push(p.done)});
		assert.deepEqual(report.rejected, []);
		assert.deepEqual(report.remaining, []);
		assert.equal(report.saved, true);
		assert.equal(report.alreadyHeld, false);
		assert.equal(report.applied, parseSettings(backup.text).entries.filter((e) => e.kind === 'assignment').length);
		assert.ok(progress.length > 3 && progress.at(-1) === progress.length - 1, 'line N of M, once per line');
		assert.deepEqual(await gets(source, 'p_roll', 'gyro_lpf1_static_hz', 'craft_name', 'profile 1', 'i_roll'), ['52', '250', 'Sim Quad', '91']);
		const after = await withCli(source, (s) => diffSettings(backup.text, s));
		assert.deepEqual(after, {same: true, onlyInFile: [], onlyOnBoard: []});
	} finally {
		await source.close();
	}
});

test('a board that already holds the backup: nothing sent, nothing saved', opts, async () => {
	const source = new SimulatedSource('', {timeScale: 0});
	try {
		await tuned(source);
		const {backup, board} = await backUp(source);
		const sent: string[] = [];
		const link = await reopen(source, board);
		const write = link.write.bind(link);
		link.write = (data) => {
			sent.push(Buffer.from(data).toString('latin1'));
			return write(data);
		};
		const report = await restoreSettings(link, backup.text, {file: backup.file, reopen: () => reopen(source, board)});
		assert.deepEqual(report, {applied: 0, rejected: [], remaining: [], saved: false, alreadyHeld: true, board: {variant: 'BTFL', version: '4.5.1', mcuId: board.fc!.mcuId}});
		assert.ok(!sent.some((t) => /defaults|^save/m.test(t)), 'no defaults, no save');
	} finally {
		await source.close();
	}
});

const image = (version: string) => makeImage(`betaflight-${version}.hex`, 'hex', betaflightLikeImage({target: 'STM32F7X2', bytes: 200 * 1024, version}), null);

test('the flash flow with an upgrade: backup, bl, flash 2026.12, restore; renamed and read-only lines reported, critical first', opts, async () => {
	const source = new SimulatedSource('', {timeScale: 0});
	try {
		await tuned(source);
		// Backup and the reboot into the bootloader in one CLI session (one reboot, not two).
		const {backup, board, session} = await backUp(source, 'stay');
		await session.enterBootloader(board.fc?.variant);
		const dfu = await until('DFU', async () => (await source.list()).find((b): b is DfuBoard => b.kind === 'dfu' && b.id === F722));
		await runFlashJob(source, dfu, image('2026.12.0'), {waitMs: 5000});
		const link = await reopen(source, board);
		const report = await restoreSettings(link, backup.text, {file: backup.file, reopen: () => reopen(source, board)});
		assert.equal(report.saved, true);
		assert.deepEqual(report.rejected, [
			{line: 'serial 1 64 115200 57600 0 115200', message: 'ERROR IN serial: READ ONLY, ASSIGN PORTS WITH THE <FEATURE>_UART SETTINGS'},
			{line: 'set d_min_roll = 35', message: 'ERROR IN set: INVALID NAME: d_min_roll = 35'},
		]);
		assert.deepEqual(report.remaining, ['serial 1 64 115200 57600 0 115200', 'set d_min_roll = 35']);
		assert.deepEqual(await gets(source, 'p_roll', 'craft_name', 'profile 1', 'i_roll'), ['52', 'Sim Quad', '91']);
	} finally {
		await source.close();
	}
});

test('another variant or another MCU id: refused before anything changes; --force restores', opts, async () => {
	const source = new SimulatedSource('', {timeScale: 0});
	try {
		await tuned(source);
		const {backup, board} = await backUp(source);
		const inav = backup.text.replace(/# Betaflight \/ \S+ \(\S+\)/, '# INAV/MATEKF722');
		assert.notEqual(inav, backup.text);
		await assert.rejects(restoreSettings(await reopen(source, board), inav, {file: 'inav.txt', reopen: () => reopen(source, board)}), (e: unknown) => e instanceof SettingsVariantError && e.exitCode === 2 && /inav\.txt is a INAV backup, but the flight controller runs BTFL/.test(e.message));
		const other = backup.text.replace(/^mcu_id \S+$/m, 'mcu_id 0031003a3238510e32333835');
		const refused = await restoreSettings(await reopen(source, board), other, {file: 'other.txt', reopen: () => reopen(source, board)}).catch((e: unknown) => e);
		assert.ok(refused instanceof OtherBoardError);
		assert.equal(refused.exitCode, 2);
		assert.equal(refused.hint, 'restore-other-board');
		assert.match(refused.message, /other\.txt was backed up from the MCU 0031003a3238510e32333835, but this flight controller is [0-9a-f]{24}: nothing was changed/);
		// The board left the CLI and is untouched.
		assert.deepEqual(await gets(source, 'p_roll'), ['52']);
		await withCli(source, (s) => s.run('set p_roll = 20'), 'save');
		const forced = await restoreSettings(await reopen(source, board), other, {file: 'other.txt', reopen: () => reopen(source, board), force: true});
		assert.equal(forced.saved, true);
		assert.deepEqual(await gets(source, 'p_roll'), ['52']);
	} finally {
		await source.close();
	}
});

test('rejected lines of a hand-edited backup are all reported; a line that is not a setting is never sent', opts, async () => {
	const source = new SimulatedSource('', {timeScale: 0});
	try {
		const board = await serialBoard(source);
		const file = temp.write('edited.txt', '# Betaflight / STM32F7X2 (S7X2) 4.5.1 Nov 24 2026 / 12:00:00 (c155f5830) MSP API: 1.46\nset p_roll = 999\nset p_roll = 48\nset pid_roll_p = 45\nbl\naux 30 0 0 900 900 0 0\nfeature NOSUCH\nset small_angle = 40\n');
		const {text} = await readBackupFile(file);
		const report = await restoreSettings(await source.openLink(board), text, {file, reopen: () => reopen(source, board)});
		assert.deepEqual(report.rejected, [
			{line: 'aux 30 0 0 900 900 0 0', message: 'ERROR IN aux: INDEX NOT BETWEEN 0 AND 19'},
			{line: 'feature NOSUCH', message: 'ERROR IN feature: INVALID NAME: NOSUCH'},
			{line: 'bl', message: 'not a settings command: not sent'},
			{line: 'set p_roll = 999', message: 'ERROR IN set: INVALID VALUE'},
			{line: 'set pid_roll_p = 45', message: 'ERROR IN set: INVALID NAME: pid_roll_p = 45'},
		]);
		assert.equal(report.saved, true, 'Betaflight saves without a batch');
		assert.deepEqual(report.remaining, ['set pid_roll_p = 45', 'aux 30 0 0 900 900 0 0', 'feature NOSUCH']);
		assert.deepEqual(await gets(source, 'p_roll', 'small_angle'), ['48', '40']);
		assert.equal((await serialBoard(source)).kind, 'serial', 'never rebooted into the bootloader');
	} finally {
		await source.close();
	}
});

test('the port vanishing during backup: a typed error, no file written', opts, async () => {
	const source = new SimulatedSource('', {timeScale: 0});
	try {
		await tuned(source);
		const board = await serialBoard(source);
		const link = await source.openLink(board);
		const s = await CliSession.enter(link);
		const write = link.write.bind(link);
		link.write = async (data) => {
			await write(data);
			// The cable comes out as the command leaves: no answer, the port gone.
			if (Buffer.from(data).toString('latin1').startsWith('diff all')) source.firmwareOf(F722)!.unplug();
		};
		const error = await backupSettings(s, {dataHome: join(temp.dir, 'gone')}).catch((e: unknown) => e);
		assert.ok(error instanceof CliPortGoneError);
		assert.equal(error.hint, 'fc-port-gone');
		assert.throws(() => readdirSync(join(temp.dir, 'gone')), /ENOENT/);
	} finally {
		await source.close();
	}
});

test('the port vanishing during the replay: RestoreInterruptedError; nothing was saved, how to finish', opts, async () => {
	const source = new SimulatedSource('', {timeScale: 0});
	try {
		await tuned(source);
		const {backup, board} = await backUp(source);
		await withCli(source, (s) => s.run('set p_roll = 30'), 'save');
		const link = await reopen(source, board);
		let lines = 0;
		link.onData((c) => {
			if (/ set to /.test(c.toString('latin1')) && ++lines === 2) source.firmwareOf(F722)!.unplug();
		});
		const error = await restoreSettings(link, backup.text, {file: backup.file, reopen: () => reopen(source, board)}).catch((e: unknown) => e);
		assert.ok(error instanceof RestoreInterruptedError, String(error));
		assert.equal(error.exitCode, 1);
		assert.equal(error.hint, 'restore-interrupted');
		assert.match(error.message, /stopped at line \d+ of \d+: sim:ttyACM1 vanished\. Nothing was saved: the flight controller is on the settings it had before \(its defaults after a firmware upgrade\)/);
		assert.ok(error.message.includes(`run \`fcflash-tui settings restore ${backup.file}\`: it replays the whole file`));
		// Replugged: it has what it had saved before the restore began.
		source.firmwareOf(F722)!.boot();
		assert.deepEqual(await gets(source, 'p_roll'), ['30']);
	} finally {
		await source.close();
	}
});

test('Ctrl-C during the replay: interrupted (exit 130), the half-restore dropped by exit', opts, async () => {
	const source = new SimulatedSource('', {timeScale: 0});
	try {
		await tuned(source);
		const {backup, board} = await backUp(source);
		await withCli(source, (s) => s.run('set p_roll = 30'), 'save');
		const controller = new AbortController();
		const error = await restoreSettings(await reopen(source, board), backup.text, {
			file: backup.file,
			reopen: () => reopen(source, board),
			signal: controller.signal,
			onProgress: (p) => p.done === 4 && controller.abort(),
		}).catch((e: unknown) => e);
		assert.ok(error instanceof RestoreInterruptedError);
		assert.equal(error.exitCode, 130);
		assert.match(error.message, /stopped at line 4 of \d+: interrupted/);
		assert.deepEqual(await gets(source, 'p_roll'), ['30'], 'the board was left with exit: nothing of the replay kept');
	} finally {
		await source.close();
	}
});

test('right after save the old port is still listed: the dying link is dropped and the port opened again', opts, async () => {
	const source = new SimulatedSource('', {timeScale: 0});
	try {
		await tuned(source);
		const {backup, board} = await backUp(source);
		await withCli(source, (s) => s.run('set p_roll = 30'), 'save');
		let reopens = 0;
		const report = await restoreSettings(await reopen(source, board), backup.text, {
			file: backup.file,
			reopen: async () => {
				if (++reopens > 1) return reopen(source, board);
				// The first answer is the old port, gone as soon as it is used.
				const stale = new EmulatedLink(board.port, {onHostBytes: () => stale.hangUp()});
				return stale;
			},
		});
		assert.equal(reopens, 2);
		assert.equal(report.saved, true);
		assert.deepEqual(report.remaining, []);
	} finally {
		await source.close();
	}
});

test('the port not coming back after save: saved, but unchecked, and how to check', opts, async () => {
	const source = new SimulatedSource('', {timeScale: 0});
	try {
		await tuned(source);
		const {backup, board} = await backUp(source);
		await withCli(source, (s) => s.run('set p_roll = 30'), 'save');
		const error = await restoreSettings(await reopen(source, board), backup.text, {
			file: backup.file,
			reopen: () => Promise.reject(new Error('no flight controller port appeared within 20 s')),
		}).catch((e: unknown) => e);
		assert.ok(error instanceof FcflashError);
		assert.equal(error.hint, 'fc-port-gone');
		assert.match(error.message, /were saved, but they could not be checked on the flight controller \(no flight controller port appeared within 20 s\)\. Reconnect it and run `fcflash-tui settings diff /);
		assert.deepEqual(await gets(source, 'p_roll'), ['52'], 'the save itself happened');
	} finally {
		await source.close();
	}
});
