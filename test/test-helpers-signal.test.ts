// The test helpers end processes that may have just ended by themselves (fc-sitl's firmware
// between being listed and being signalled): that must not fail the test that cleans up.
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {test} from 'node:test';
import {killGroup, signalIfAlive} from './helpers/signal.js';

test('a process that ended before the signal is no error; a running one gets it', async () => {
	const quick = spawn(process.execPath, ['-e', ''], {stdio: 'ignore'});
	await new Promise((done) => quick.once('exit', done));
	assert.equal(signalIfAlive(quick.pid!, 'SIGTERM'), false);

	const slow = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], {stdio: 'ignore', detached: true});
	const ended = new Promise<NodeJS.Signals | null>((done) => slow.once('exit', (_code, sig) => done(sig)));
	assert.equal(killGroup(slow.pid!, 'SIGTERM'), true);
	assert.equal(await ended, 'SIGTERM');
	assert.equal(killGroup(slow.pid!, 'SIGTERM'), false);
});

test('other errors still surface (a pid that cannot be signalled is not silently ignored)', () => {
	assert.throws(() => signalIfAlive(process.pid, 'NOT-A-SIGNAL' as NodeJS.Signals), /ERR_UNKNOWN_SIGNAL|Unknown signal/);
});
