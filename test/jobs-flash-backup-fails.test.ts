// `flash` of a flight controller backs up its settings first. When the backups folder cannot be
// written (EACCES, EPERM, EROFS: XDG_DATA_HOME=/sys/nope, a folder owned by root...), nothing is
// flashed, the exit code is 4 (as for `settings backup`), and the hint is about that folder (which
// one, and that XDG_DATA_HOME chooses where backups go), not about cables; `flash` has no --out, so
// it is not suggested. The errors are injected into node:fs/promises (we run as root: file modes
// cannot cause them).
import assert from 'node:assert/strict';
import fsPromises from 'node:fs/promises';
import {mkdtempSync, rmSync} from 'node:fs';
import {syncBuiltinESMExports} from 'node:module';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, afterEach, describe, it} from 'node:test';
import {setTimeout as sleep} from 'node:timers/promises';
import {SimulatedSource} from '../source/devices/simulated.js';
import type {Board, SerialBoard} from '../source/devices/types.js';
import {makeImage} from '../source/firmware/image.js';
import {startFlashJob} from '../source/jobs/flash-job.js';
import {startSettingsBackupJob} from '../source/jobs/settings-job.js';
import type {FlashReport, Interaction, JobEvent} from '../source/jobs/types.js';
import {backupsRoot} from '../source/settings/store.js';
import {betaflightLikeImage} from '../scripts/synthetic-firmware.js';
import {drive, phasesOf, type Answerer} from './helpers/job-driver.js';

const state = mkdtempSync(join(tmpdir(), 'fcflash-flash-backup-fails-'));
process.env.FCFLASH_LOCK_DIR = state;
process.env.XDG_STATE_HOME = state;
after(() => rmSync(state, {recursive: true, force: true}));

const data = join(state, 'data');
process.env.XDG_DATA_HOME = data;
const root = join(data, 'fcflash-tui', 'backups');

type Errno = 'EACCES' | 'EPERM' | 'EROFS' | 'ENOSPC';
const errno = (code: Errno, syscall: string, path: string) => Object.assign(new Error(`${code}: injected, ${syscall} '${path}'`), {code, errno: -1, syscall, path});

const original = {mkdir: fsPromises.mkdir, open: fsPromises.open};
/** Make `call` fail with `code` for every path under the backups folder; everything else works. */
function inject(call: 'mkdir' | 'open', code: Errno) {
	const real = original[call] as (...args: unknown[]) => Promise<unknown>;
	(fsPromises as unknown as Record<string, unknown>)[call] = async (path: unknown, ...rest: unknown[]) => {
		if (String(path).startsWith(data)) throw errno(code, call, String(path));
		return real(path, ...rest);
	};
	syncBuiltinESMExports();
}
afterEach(() => {
	Object.assign(fsPromises, original);
	syncBuiltinESMExports();
});

const image = makeImage('bf-f722.hex', 'hex', betaflightLikeImage({target: 'STM32F7X2', bytes: 64 * 1024, seed: 5, version: '4.5.6'}), null);

async function flashFc(interaction: Interaction, answer?: Answerer) {
	const source = new SimulatedSource('stm32f722:fc', {timeScale: 0});
	const fc = (await source.list()).find((b): b is SerialBoard => b.kind === 'serial')!;
	assert.equal(fc.fc?.version, '4.5.1', 'the emulated FC runs Betaflight 4.5.1 before the flash');
	const driven = await drive<FlashReport>((l) => startFlashJob({source, interaction}, {board: fc, image, yes: interaction === 'none', waitMs: 5000}, l), answer);
	return {source, fc, ...driven};
}

/** The board as a listing shows it once its firmware is back from the backup's `exit` (bounded). */
async function runningBoard(source: SimulatedSource, id: string): Promise<Board[]> {
	for (let i = 0; i < 200; i++) {
		const boards = await source.list();
		if (boards.some((b) => b.kind === 'serial' && b.id === id)) return boards;
		await sleep(10);
	}
	return source.list();
}

async function assertNothingFlashed(source: SimulatedSource, fc: SerialBoard, events: JobEvent[]) {
	const phases = phasesOf(events);
	for (const phase of ['reboot', 'wait', 'compare', 'erase', 'write', 'leave'] as const) assert.ok(!phases.includes(phase), `no ${phase} phase (phases: ${phases.join(', ')})`);
	assert.ok(!events.some((e) => e.type === 'board' && e.board.kind === 'dfu'), 'the job never saw the board in DFU');
	const boards = await runningBoard(source, fc.id);
	assert.deepEqual(boards.map((b) => b.kind), ['serial'], 'not rebooted into DFU');
	const back = boards[0] as SerialBoard;
	assert.equal(back.fc?.version, '4.5.1', 'it still runs its old firmware');
	assert.equal((await source.identify(back))?.version, '4.5.1');
}

function assertFolderHint(hint: string | null | undefined) {
	assert.ok(hint, 'a hint');
	assert.ok(hint.includes(root), `names the backups folder ${root}: ${hint}`);
	assert.match(hint, /XDG_DATA_HOME/, 'says XDG_DATA_HOME chooses where backups go');
	assert.doesNotMatch(hint, /--out/, 'flash has no --out');
	assert.doesNotMatch(hint, /cable|Configurator/i, 'not the advice for a CLI that does not answer');
}

describe('flash: the settings backup cannot be written', () => {
	for (const [call, code] of [['mkdir', 'EACCES'], ['mkdir', 'EROFS'], ['open', 'EPERM']] as const) {
		it(`${code} on ${call} in the backups folder: exit 4, hint backup-folder naming the folder, nothing flashed`, {timeout: 30_000}, async () => {
			inject(call, code);
			const {source, fc, result, events} = await flashFc('none');
			try {
				assert.equal(result.ok, false);
				assert.equal(result.exitCode, 4, result.error?.message);
				assert.equal(result.error?.code, 4);
				assert.equal(result.error?.hintId, 'backup-folder');
				assertFolderHint(result.error?.hint);
				assert.match(result.error!.message, /settings backup/);
				assert.ok(result.error!.message.includes(root), result.error!.message);
				assert.match(result.error!.message, code === 'EROFS' ? /: read-only filesystem\./ : /: permission denied\./);
				assert.match(result.error!.message, /Nothing was flashed/);
				assert.doesNotMatch(result.error!.message, /--out/, 'flash has no --out');
				assert.equal(result.data?.settings?.backup ?? null, null);
				await assertNothingFlashed(source, fc, events);
			} finally {
				await source.close();
			}
		});
	}

	it('a full disk (ENOSPC) is no permission problem: exit 1, still the folder hint', {timeout: 30_000}, async () => {
		inject('open', 'ENOSPC');
		const {source, fc, result, events} = await flashFc('none');
		try {
			assert.equal(result.exitCode, 1);
			assert.equal(result.error?.hintId, 'backup-folder');
			assertFolderHint(result.error?.hint);
			assert.doesNotMatch(result.error!.message, /--out/);
			await assertNothingFlashed(source, fc, events);
		} finally {
			await source.close();
		}
	});

	it('in the TUI, declining to go on without a backup: exit 4, the question names the folder without --out', {timeout: 30_000}, async () => {
		inject('mkdir', 'EACCES');
		const asked: string[] = [];
		let reason = '';
		// Only recorded here: an assertion thrown inside the job's emit would break the job, not the test.
		const {source, fc, result, events} = await flashFc('full', (q) => {
			asked.push(q.kind);
			if (q.kind !== 'continue-without-backup') return 'yes';
			reason = q.reason;
			return 'no';
		});
		try {
			assert.deepEqual(asked, ['confirm', 'continue-without-backup']);
			assert.ok(reason.includes(root), reason);
			assert.doesNotMatch(reason, /--out/);
			assert.equal(result.exitCode, 4, result.error?.message);
			assert.equal(result.error?.hintId, 'backup-folder');
			assertFolderHint(result.error?.hint);
			await assertNothingFlashed(source, fc, events);
		} finally {
			await source.close();
		}
	});
});

describe('settings backup: the same cause', () => {
	it('EACCES: exit 4, hint backup-folder, and --out FILE is offered (settings backup has it)', {timeout: 30_000}, async () => {
		inject('mkdir', 'EACCES');
		const source = new SimulatedSource('stm32f722:fc', {timeScale: 0});
		try {
			const fc = (await source.list()).find((b): b is SerialBoard => b.kind === 'serial')!;
			const {result} = await drive((l) => startSettingsBackupJob({source, interaction: 'none'}, {board: fc}, l));
			assert.equal(result.exitCode, 4);
			assert.equal(result.error?.hintId, 'backup-folder');
			assert.match(result.error!.message, /--out FILE/);
			assert.ok(result.error!.message.includes(root));
			assert.equal(backupsRoot(), root);
		} finally {
			await source.close();
		}
	});
});
