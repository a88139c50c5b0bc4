// The backup job writes into a folder that does not exist yet: the TUI's default path
// ($XDG_DATA_HOME/fcflash-tui/backups/<serial>/<UTC time>-flash.bin) on a first use, or a new
// folder given to `backup --out`. The folder is made (with its parents) before the board is touched.
import assert from 'node:assert/strict';
import {existsSync, readdirSync, readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {describe, it} from 'node:test';
import {startBackupJob} from '../source/jobs/backup-job.js';
import type {BackupReport} from '../source/jobs/types.js';
import {defaultBackupPath} from '../source/tui-app.js';
import {drive, OneBoardSource} from './helpers/job-driver.js';
import {tempFiles} from './helpers/temp-files.js';

const temp = tempFiles('fcflash-backup-folder-');
process.env.FCFLASH_LOCK_DIR = temp.dir;
process.env.XDG_STATE_HOME = temp.dir;

const KiB = 1024;
/** A flash that is not blank anywhere, so a file of 0xFF (or zeros) cannot pass for it. */
const pattern = (bytes: number) => new Uint8Array(bytes).map((_, i) => (i * 31 + (i >> 8)) & 0xff || 0x5a);

function backUp(source: OneBoardSource, out: string) {
	return drive<BackupReport>((listener) => startBackupJob({source, interaction: 'none'}, {board: source.board, out}, listener));
}

describe('backup job: the folder does not exist yet', () => {
	it('the TUI default path on a first use: the backups folder is made and the file holds the whole flash', async () => {
		const flash = pattern(1024 * KiB);
		const source = new OneBoardSource('stm32f405', {flash: flash.slice()});
		const data = join(temp.dir, 'first-use', 'data');
		const out = defaultBackupPath(source.board, {XDG_DATA_HOME: data});
		assert.ok(!existsSync(data), 'nothing of the data folder exists yet');
		const {result} = await backUp(source, out);
		assert.equal(result.ok, true, result.error?.message);
		assert.equal(result.exitCode, 0);
		assert.equal(dirname(out), join(data, 'fcflash-tui', 'backups', source.board.serialNumber!));
		assert.deepEqual(new Uint8Array(readFileSync(out)), flash, 'the file is the board\'s main flash, byte for byte');
		assert.equal(result.data?.file, out);
		assert.equal(result.data?.bytes, flash.length);
		assert.deepEqual(readdirSync(dirname(out)), [out.slice(dirname(out).length + 1)], 'no temporary file left next to it');
		assert.equal(source.reasons.length, 0, 'the board stays in DFU');
	});

	it('backup --out into a new folder several levels deep', async () => {
		const flash = pattern(512 * KiB);
		const source = new OneBoardSource('stm32f411', {flash: flash.slice()});
		const out = join(temp.dir, 'new', 'deeper', 'still', 'f411.bin');
		const {result} = await backUp(source, out);
		assert.equal(result.ok, true, result.error?.message);
		assert.deepEqual(new Uint8Array(readFileSync(out)), flash);
	});

	it('an existing backup in that folder is still never overwritten (exit 2, board not read)', async () => {
		const source = new OneBoardSource('stm32f405', {flash: pattern(1024 * KiB)});
		const out = join(temp.dir, 'twice', 'a.bin');
		assert.equal((await backUp(source, out)).result.ok, true);
		const before = readFileSync(out);
		const again = new OneBoardSource('stm32f405', {flash: new Uint8Array(1024 * KiB).fill(0x11)});
		const {result} = await backUp(again, out);
		assert.equal(result.exitCode, 2);
		assert.equal(result.error?.hintId, 'backup-exists');
		assert.deepEqual(readFileSync(out), before);
	});

	it('a folder that cannot be made (a file stands in its way): the error names the path, the board is not read', async () => {
		const blocker = temp.write('a-file', 'x');
		const source = new OneBoardSource('stm32f405', {flash: pattern(1024 * KiB)});
		let reads = 0;
		const open = source.openDfu.bind(source);
		source.openDfu = async () => {
			reads++;
			return open();
		};
		const out = join(blocker, 'sub', 'x.bin');
		const {result} = await backUp(source, out);
		assert.equal(result.ok, false);
		assert.equal(result.exitCode, 2);
		assert.match(result.error!.message, /Cannot make the folder .*a-file.sub for the backup: a file is in the way/);
		assert.equal(reads, 0, 'refused before the board was opened');
		assert.ok(!existsSync(out));
	});
});
