// Which folder holds the board locks: the same one for every user on the machine, whoever runs.
// /run/lock only when any user can create files in it; who this process is never matters.
// Stats are injected: the tests run as root, so real file modes would prove nothing.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {lockDir, lockFolder} from '../source/jobs/board-lock.js';

const folder = (mode: number, directory = true) => ({mode: (directory ? 0o040000 : 0o100000) | mode, isDirectory: () => directory});

test('a world-writable sticky /run/lock (1777) holds the locks', () => {
	assert.equal(lockFolder(folder(0o1777)), '/run/lock');
});

test('a root-owned 0755 /run/lock (Fedora, Arch) is not shared: /tmp for everyone', () => {
	assert.equal(lockFolder(folder(0o755)), '/tmp');
});

test('a missing /run/lock, or one that is not a folder, falls back to /tmp', () => {
	assert.equal(lockFolder(undefined), '/tmp');
	assert.equal(lockFolder(folder(0o1777, false)), '/tmp');
});

test('writable by others but not searchable (0772) lets no other user create a file: /tmp', () => {
	assert.equal(lockFolder(folder(0o772)), '/tmp');
});

test('root picks the same folder a normal user would: the mode decides, not who runs', () => {
	// This process is root in the tests and can write to any /run/lock; a 0755 one must still be passed over.
	const seen: string[] = [];
	const stat = (path: string) => (seen.push(path), folder(0o755));
	assert.equal(lockDir({}, stat), '/tmp');
	assert.deepEqual(seen, ['/run/lock']);
	assert.equal(lockDir({}, () => folder(0o1777)), '/run/lock');
});

test('FCFLASH_LOCK_DIR overrides the choice (the tests use it)', () => {
	assert.equal(lockDir({FCFLASH_LOCK_DIR: '/x/locks'}, () => folder(0o1777)), '/x/locks');
});
