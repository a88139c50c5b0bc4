// The board lock under contention: two processes hammering one board's lock never hold it at once,
// a holder that died (SIGKILL) or whose pid was reused does not block the board forever, and the
// lock lives where every user sees it (never $TMPDIR).
import assert from 'node:assert/strict';
import {spawn, spawnSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, statSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {after, test} from 'node:test';
import {fileURLToPath} from 'node:url';
import {acquireBoardLock, BoardLockedError, lockDir, lockFolder, lockPath} from '../source/jobs/board-lock.js';

const dir = mkdtempSync(join(tmpdir(), 'fcflash-lock-'));
after(() => rmSync(dir, {recursive: true, force: true}));
const hammer = join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'lock-hammer.js');

function runHammer(key: string, rounds: number, out: string): Promise<number | null> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [hammer, dir, key, String(rounds), out], {stdio: ['ignore', 'ignore', 'inherit'], timeout: 120_000});
		child.on('error', reject);
		child.on('exit', (code) => resolve(code));
	});
}

test('two processes taking and releasing one lock 3000 times each never hold it together', {timeout: 180_000}, async () => {
	const outs = [join(dir, 'a.json'), join(dir, 'b.json')];
	const codes = await Promise.all(outs.map((out) => runHammer('1-1.2', 3000, out)));
	assert.deepEqual(codes, [0, 0]);
	const [a, b] = outs.map((o) => JSON.parse(readFileSync(o, 'utf8')) as {held: number; overlaps: number; busy: number});
	assert.equal(a!.overlaps + b!.overlaps, 0, `held at once: ${a!.overlaps + b!.overlaps} times`);
	assert.ok(a!.held > 0 && b!.held > 0, `both got it: ${a!.held} and ${b!.held}`);
	assert.ok(a!.busy + b!.busy > 0, 'and each saw the other holding it (contention happened)');
	assert.ok(!existsSync(lockPath('1-1.2', dir)), 'released at the end');
});

test('a holder killed with SIGKILL leaves a stale lock that the next job takes over', async () => {
	const script = `import {acquireBoardLock} from ${JSON.stringify(join(dirname(hammer), '..', '..', 'source', 'jobs', 'board-lock.js'))}; await acquireBoardLock('2-1', ${JSON.stringify(dir)}); process.stdout.write('held\\n'); setInterval(() => {}, 1000);`;
	const child = spawn(process.execPath, ['--input-type=module', '-e', script], {stdio: ['ignore', 'pipe', 'inherit']});
	await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
	await assert.rejects(acquireBoardLock('2-1', dir), (e: unknown) => e instanceof BoardLockedError && e.holder === child.pid && e.exitCode === 1 && e.hint === 'busy');
	child.kill('SIGKILL');
	await new Promise((r) => child.once('exit', r));
	const release = await acquireBoardLock('2-1', dir);
	release();
});

test('a lock naming a live pid that is another process now (start time differs) is stale', async () => {
	writeFileSync(lockPath('3-1', dir), `${process.pid} 1\n`);
	const release = await acquireBoardLock('3-1', dir);
	assert.match(readFileSync(lockPath('3-1', dir), 'utf8'), new RegExp(`^${process.pid} \\d+`));
	release();
	assert.ok(!existsSync(lockPath('3-1', dir)));
});

test('a release never removes a lock that is not its own any more', async () => {
	const release = await acquireBoardLock('4-1', dir);
	rmSync(lockPath('4-1', dir));
	const second = await acquireBoardLock('4-1', dir);
	release();
	assert.ok(existsSync(lockPath('4-1', dir)), 'the second holder keeps its lock');
	second();
});

test('locks live in /run/lock (or /tmp), never in $TMPDIR or a per-user folder', () => {
	const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import {lockDir} from ${JSON.stringify(join(dirname(hammer), '..', '..', 'source', 'jobs', 'board-lock.js'))}; process.stdout.write(lockDir());`], {
		env: {...process.env, TMPDIR: dir, FCFLASH_LOCK_DIR: ''},
		encoding: 'utf8',
	});
	assert.ok(['/run/lock', '/tmp'].includes(r.stdout), r.stdout + r.stderr);
	assert.equal(lockDir({}), lockFolder(existsSync('/run/lock') ? statSync('/run/lock') : undefined), 'the folder every user can create files in');
});
