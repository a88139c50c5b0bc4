// The SSH session drops mid-flash: the terminal hangs up under a CLI flash running on it. The flash
// must run to its end, the result go to the flash log, and the process exit with the flash's own
// code (before: Node aborted in ResetStdio at exit, 134, or crashed writing to the dead terminal).
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, test} from 'node:test';
import {fileURLToPath} from 'node:url';
import {betaflightLikeImage, toIntelHex} from '../scripts/synthetic-firmware.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = process.env.FCFLASH_TEST_CLI ?? join(root, 'dist', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'fcflash-hup-'));
after(() => rmSync(dir, {recursive: true, force: true}));
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

// Runs the command on a fresh PTY, waits for `trigger` in its output, then closes the master side:
// the kernel hangs the terminal up and sends SIGHUP to the session. Prints the exit status.
const driver = `
import os, pty, select, sys, time
trigger = sys.argv[1].encode()
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
buf = b''
deadline = time.time() + 60
while trigger not in buf and time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 1)
    if r:
        try:
            buf += os.read(fd, 4096)
        except OSError:
            break
os.close(fd)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
`;

function hangUpDuring(args: string[], trigger: string) {
	return spawnSync(python, ['-c', driver, trigger, process.execPath, cli, ...args], {
		env: {...process.env, FCFLASH_SIM_TIME_SCALE: '0.05', TERM: 'xterm', XDG_STATE_HOME: dir, FCFLASH_LOCK_DIR: dir},
		encoding: 'utf8',
		timeout: 90_000,
	});
}

test('SIGHUP from a real terminal mid-write: the flash finishes, is logged, and the exit code is the flash\'s (0, not 134)', {timeout: 100_000}, () => {
	const hex = join(dir, 'bf.hex');
	writeFileSync(hex, toIntelHex(betaflightLikeImage({target: 'STM32F405', bytes: 300 * 1024})));
	const state = join(dir, 'flash.bin');
	const r = hangUpDuring(['flash', hex, '--simulate=stm32f405', '--simulate-state', state, '--yes'], 'Writing');
	assert.equal(r.stdout.trim(), '0', `exit status ${r.stdout.trim()} ${r.stderr}`);
	const log = readFileSync(join(dir, 'fcflash-tui', 'flash.log'), 'utf8').trim().split('\n');
	const entry = JSON.parse(log.at(-1)!.replace(/^\S+ /, '')) as Record<string, unknown>;
	assert.equal(entry.ok, true);
	assert.equal(entry.reason, 'hangup');
	assert.equal(entry.verified, true);
	// And the flash really is on the board.
	assert.ok(readFileSync(state).subarray(0, 16).some((b) => b !== 0xff));
});

test('SIGHUP at the y/N prompt: nothing is written, exit 5 (declined), logged', {timeout: 100_000}, () => {
	const hex = join(dir, 'bf2.hex');
	writeFileSync(hex, toIntelHex(betaflightLikeImage({target: 'STM32F405', bytes: 64 * 1024})));
	const state = join(dir, 'flash2.bin');
	const r = hangUpDuring(['flash', hex, '--simulate=stm32f405', '--simulate-state', state], '[y/N]');
	assert.equal(r.stdout.trim(), '5', `exit status ${r.stdout.trim()} ${r.stderr}`);
	assert.ok(!existsSync(state), 'nothing written');
});
