// The backup store: where a backup goes, that it is written whole or not at all, that an existing
// backup is never replaced, and that an unwritable folder is a clear error that loses nothing.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import {existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync} from 'node:fs';
import {join} from 'node:path';
import {BackupWriteError} from '../source/errors.js';
import {hints} from '../source/hints.js';
import {backupPath, backupsRoot, utcStamp, writeBackup, type StoreFs} from '../source/settings/store.js';
import {tempFiles} from './helpers/temp-files.js';

const temp = tempFiles('fcflash-store-');
const at = new Date('2026-12-01T08:15:00.250Z');

const realFs: StoreFs = {
	mkdir: (p, o) => fsp.mkdir(p, o),
	open: (p, f, m) => fsp.open(p, f, m),
	link: (a, b) => fsp.link(a, b),
	rename: (a, b) => fsp.rename(a, b),
	unlink: (p) => fsp.unlink(p),
	access: (p) => fsp.access(p),
};
const eacces = (syscall: string, path: string) => Object.assign(new Error(`EACCES: permission denied, ${syscall} '${path}'`), {code: 'EACCES', syscall, path});

test('the path: $XDG_DATA_HOME/fcflash-tui/backups/<mcu id or USB serial>/<UTC time>-<variant>-<version>.txt', () => {
	assert.equal(utcStamp(at), '20261201T081500Z');
	const env = {XDG_DATA_HOME: '/data', HOME: '/home/pilot'};
	assert.equal(backupsRoot({env}), '/data/fcflash-tui/backups');
	assert.equal(backupsRoot({env: {HOME: '/home/pilot'}}), '/home/pilot/.local/share/fcflash-tui/backups');
	assert.equal(backupPath({mcuId: '000000000000000100000002', variant: 'BTFL', version: '4.5.6'}, at, {env}), '/data/fcflash-tui/backups/000000000000000100000002/20261201T081500Z-BTFL-4.5.6.txt');
	// No MCU id: the USB serial number names the folder; odd characters never reach the path.
	assert.equal(backupPath({usbSerial: '0x8000000/A B', variant: 'BTFL', version: '2026.12.0-alpha'}, at, {env}), '/data/fcflash-tui/backups/0x8000000_A_B/20261201T081500Z-BTFL-2026.12.0-alpha.txt');
	assert.equal(backupPath({variant: 'INAV', version: '../../x'}, at, {env}), '/data/fcflash-tui/backups/unknown-board/20261201T081500Z-INAV-__.._x.txt');
	assert.ok(!backupPath({mcuId: 'a', variant: 'B', version: '1'}, at, {env}).slice(3).includes(':'), 'no colon in any name');
});

test('written whole, then never overwritten: the next name gets a suffix', async () => {
	const dir = join(temp.dir, 'whole');
	const path = join(dir, 'deep', 'er', '20261201T081500Z-BTFL-4.5.6.txt');
	assert.equal(await writeBackup(path, 'first\n'), path);
	assert.equal(await writeBackup(path, 'second\n'), path.replace('.txt', '-2.txt'));
	assert.equal(await writeBackup(path, 'third\n'), path.replace('.txt', '-3.txt'));
	assert.equal(readFileSync(path, 'utf8'), 'first\n');
	assert.equal(readFileSync(path.replace('.txt', '-2.txt'), 'utf8'), 'second\n');
	assert.equal(readFileSync(path.replace('.txt', '-3.txt'), 'utf8'), 'third\n');
	assert.deepEqual(readdirSync(join(dir, 'deep', 'er')).filter((n) => n.endsWith('.tmp')), [], 'no temporary file left');
});

test('the temporary file is fsynced before it gets its name, in the same folder', async () => {
	const calls: string[] = [];
	const fs: StoreFs = {
		...realFs,
		open: async (p, f, m) => {
			const handle = await fsp.open(p, f, m);
			const sync = handle.sync.bind(handle);
			handle.sync = async () => {
				calls.push(`sync ${p.includes('.tmp') ? 'temp' : 'folder'}`);
				return sync();
			};
			return handle;
		},
		link: async (a, b) => {
			calls.push(`link ${a.startsWith(join(temp.dir, 'order')) ? 'same folder' : 'elsewhere'}`);
			return fsp.link(a, b);
		},
	};
	await writeBackup(join(temp.dir, 'order', 'b.txt'), 'x', {fs});
	assert.deepEqual(calls, ['sync temp', 'link same folder', 'sync folder']);
});

test('a filesystem without hard links: renamed onto a free name only', async () => {
	const dir = join(temp.dir, 'nolinks');
	mkdirSync(dir);
	writeFileSync(join(dir, 'a.txt'), 'old');
	const fs: StoreFs = {...realFs, link: async () => Promise.reject(Object.assign(new Error('EPERM: operation not permitted, link'), {code: 'EPERM'}))};
	assert.equal(await writeBackup(join(dir, 'a.txt'), 'new', {fs}), join(dir, 'a-2.txt'));
	assert.equal(readFileSync(join(dir, 'a.txt'), 'utf8'), 'old');
	assert.equal(readFileSync(join(dir, 'a-2.txt'), 'utf8'), 'new');
});

test('EACCES on the folder: a typed error naming the folder and what to do; the text is kept, nothing else touched', async () => {
	const dir = join(temp.dir, 'locked');
	const fs: StoreFs = {...realFs, mkdir: async (p) => Promise.reject(eacces('mkdir', String(p)))};
	const error = await writeBackup(join(dir, 'x.txt'), 'the whole diff\n', {fs}).then(
		() => assert.fail('should fail'),
		(e: unknown) => e,
	);
	assert.ok(error instanceof BackupWriteError);
	assert.equal(error.exitCode, 4);
	assert.equal(error.hint, 'backup-folder');
	assert.ok(hints['backup-folder'].text.includes('--out'));
	assert.match(error.message, new RegExp(`into ${dir.replace(/[/\\]/g, '.')}: permission denied`));
	assert.match(error.message, /--out FILE/);
	assert.equal(error.text, 'the whole diff\n', 'the backup text is still in hand');
	assert.equal(existsSync(dir), false);
});

test('EACCES creating the temporary file, ENOSPC while writing it: no partial file, old backups kept', async () => {
	const dir = join(temp.dir, 'full');
	mkdirSync(dir);
	writeFileSync(join(dir, 'b.txt'), 'earlier backup');
	const denied: StoreFs = {...realFs, open: async (p) => Promise.reject(eacces('open', p))};
	await assert.rejects(writeBackup(join(dir, 'b.txt'), 'new', {fs: denied}), (e: unknown) => e instanceof BackupWriteError && e.exitCode === 4);

	const noSpace: StoreFs = {
		...realFs,
		open: async (p, f, m) => {
			const handle = await fsp.open(p, f, m);
			handle.writeFile = async () => Promise.reject(Object.assign(new Error('ENOSPC: no space left on device, write'), {code: 'ENOSPC'}));
			return handle;
		},
	};
	const error = await writeBackup(join(dir, 'b.txt'), 'new', {fs: noSpace}).catch((e: unknown) => e);
	assert.ok(error instanceof BackupWriteError);
	assert.equal(error.exitCode, 1);
	assert.match(error.message, /no space left/);
	assert.deepEqual(readdirSync(dir), ['b.txt'], 'the temporary file was removed, nothing else was added');
	assert.equal(readFileSync(join(dir, 'b.txt'), 'utf8'), 'earlier backup');
});
