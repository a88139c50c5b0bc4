// Shared by the tests that run real libusb programs under scripts/with-emulated-usb (umockdev).
import assert from 'node:assert/strict';
import {spawn, spawnSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {killGroup} from './signal.js';

export const here = join(dirname(fileURLToPath(import.meta.url)), '..');
export const serverJs = join(here, 'usb-harness', 'emulator-server.js');

/** The repository root: the nearest ancestor of this file (source or build/) holding the harness script. */
export function findRepo(): string | undefined {
	for (let dir = here; ; dir = dirname(dir)) {
		if (existsSync(join(dir, 'scripts', 'with-emulated-usb')) && existsSync(join(dir, 'package.json'))) return dir;
		if (dirname(dir) === dir) break;
	}
	const cwd = process.cwd();
	return existsSync(join(cwd, 'scripts', 'with-emulated-usb')) ? cwd : undefined;
}

export const repo = findRepo();
export const harness = repo ? join(repo, 'scripts', 'with-emulated-usb') : '';

export function missingTools(): string | undefined {
	if (spawnSync('dfu-util', ['--version'], {stdio: 'ignore'}).error) return 'dfu-util is not installed (apt-get install dfu-util)';
	const gi = spawnSync('/usr/bin/python3', ['-c', 'import gi; gi.require_version("UMockdev", "1.0"); from gi.repository import UMockdev'], {stdio: 'ignore'});
	if (gi.error || gi.status !== 0) return 'umockdev GI bindings are not installed (apt-get install umockdev libumockdev0 gir1.2-umockdev-1.0 python3-gi)';
	const preload = spawnSync('/bin/sh', ['-c', 'ldconfig -p | grep -q libumockdev-preload.so.0'], {stdio: 'ignore'});
	if (preload.status !== 0) return 'libumockdev-preload.so.0 is not installed (apt-get install umockdev)';
	return undefined;
}

export const skipReason = missingTools();

export interface RunResult {
	code: number | null;
	stdout: string;
	stderr: string;
}

export interface RunOptions {
	env?: NodeJS.ProcessEnv;
	cwd?: string;
	timeoutMs?: number;
}

/** Run a command to its end (killed after timeoutMs, which rejects), collecting its output. */
export function runCommand(file: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
	const timeoutMs = options.timeoutMs ?? 60_000;
	return new Promise((resolvePromise, reject) => {
		// Its own process group: a timeout ends the command's children too, not only the command.
		const child = spawn(file, args, {stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env, cwd: options.cwd, detached: true});
		let stdout = '';
		let stderr = '';
		child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
		child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
		const timer = setTimeout(() => {
			killGroup(child.pid!, 'SIGTERM');
			// Whatever still stands after 5 s is killed.
			setTimeout(() => killGroup(child.pid!, 'SIGKILL'), 5000).unref();
			reject(new Error(`${file} timed out after ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
		}, timeoutMs);
		child.on('error', (error) => {
			clearTimeout(timer);
			reject(error);
		});
		child.on('close', (code) => {
			clearTimeout(timer);
			resolvePromise({code, stdout, stderr});
		});
	});
}

export function runHarness(harnessArgs: string[], command: string[], timeoutMs = 60_000, options: Omit<RunOptions, 'timeoutMs'> = {}): Promise<RunResult> {
	assert.ok(repo, 'cannot find the repository (scripts/with-emulated-usb) from this test file or the cwd');
	assert.ok(existsSync(serverJs), `${serverJs} is missing: build with tsc first`);
	// The emulator servers run on this Node, whatever `node` the command finds on its PATH.
	return runCommand(harness, ['--server', serverJs, '--node', process.execPath, ...harnessArgs, '--', ...command], {...options, timeoutMs});
}

export function describe(result: RunResult): string {
	return `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}
