// The udev rules file (every id in source/devices/ids.ts) and `udev-rules --install`: target path
// injection (FCFLASH_UDEV_RULES_PATH), a fake udevadm (FCFLASH_UDEVADM), the non-root message
// (FCFLASH_FAKE_UID) and injected write errors (EACCES), never relying on file modes.
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {after, before, describe, it} from 'node:test';
import {dfuIds, serialIds} from '../source/devices/ids.js';
import {ExitCode, FcflashError} from '../source/errors.js';
import {installRules, sudoCommand} from '../source/udev/install.js';
import {globMatch, parseRules, ruleAccess, ruleMatchesId, rulesText} from '../source/udev/rules.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = process.env.FCFLASH_TEST_CLI ?? join(repo, 'dist', 'cli.js');
const hex4 = (n: number) => n.toString(16).padStart(4, '0');
let dir: string;
before(() => {
	dir = mkdtempSync(join(tmpdir(), 'fcflash-udev-'));
});
after(() => rmSync(dir, {recursive: true, force: true}));

describe('rules text', () => {
	const text = rulesText();

	it('has the usb rule for every DFU id', () => {
		for (const id of dfuIds) {
			const rule = `SUBSYSTEM=="usb", ATTRS{idVendor}=="${hex4(id.vendorId)}", ATTRS{idProduct}=="${hex4(id.productId)}", MODE="0664", GROUP="plugdev"`;
			assert.ok(text.includes(rule), `rule for ${id.name}`);
		}
	});

	it('has a tty rule with dialout and ID_MM_DEVICE_IGNORE for every serial id', () => {
		for (const id of serialIds) {
			const rule = `SUBSYSTEM=="tty", ATTRS{idVendor}=="${hex4(id.vendorId)}", ATTRS{idProduct}=="${hex4(id.productId)}", MODE="0660", GROUP="dialout", ENV{ID_MM_DEVICE_IGNORE}="1"`;
			assert.ok(text.includes(rule), `rule for ${id.name}`);
		}
	});

	it('parses back: every rule line is well formed and every id is covered', () => {
		const rules = parseRules(text, 'x');
		assert.equal(rules.length, dfuIds.length + serialIds.length);
		for (const r of rules) assert.equal(r.text.replace(/"[^"]*"/g, '""').match(/[^ ,]+/g)!.join(' ').split(' ').length, r.matches.size + r.assigns.size + r.tags.length);
		for (const id of dfuIds) {
			const hit = rules.filter((r) => ruleMatchesId(r, id));
			assert.equal(hit.length, 1);
			assert.deepEqual(ruleAccess(hit[0]!), {group: 'plugdev', world: false, uaccess: true, mmIgnore: false});
		}
		for (const id of serialIds) {
			const hit = rules.filter((r) => ruleMatchesId(r, id));
			assert.equal(hit.length, 1);
			assert.equal(ruleAccess(hit[0]!).mmIgnore, true);
		}
	});

	it('globMatch handles udev patterns', () => {
		assert.ok(globMatch('df1[01]', 'df11'));
		assert.ok(globMatch('DF11', 'df11'));
		assert.ok(globMatch('5740|df11', 'df11'));
		assert.ok(globMatch('*', 'abcd'));
		assert.ok(!globMatch('df10', 'df11'));
	});

	it('the command prints exactly the rules text; --json carries it', () => {
		const r = spawnSync(process.execPath, [cli, 'udev-rules'], {encoding: 'utf8'});
		assert.equal(r.status, 0);
		assert.equal(r.stdout, text);
		const j = spawnSync(process.execPath, [cli, 'udev-rules', '--json'], {encoding: 'utf8'});
		assert.equal(j.status, 0);
		const lines = j.stdout.trim().split('\n');
		assert.equal(lines.length, 1);
		const result = JSON.parse(lines[0]!);
		assert.equal(result.event, 'result');
		assert.equal(result.rules, text);
		assert.equal(result.installed, false);
	});
});

describe('installRules', () => {
	it('not root: exit 4 with the exact sudo command, nothing written', () => {
		const path = join(dir, 'never.rules');
		let wrote = false;
		assert.throws(
			() => installRules({path, uid: 1000, writeFile: () => (wrote = true)}),
			(e: FcflashError & {hintText?: string}) => {
				assert.equal(e.exitCode, ExitCode.permission);
				assert.match(e.message, /needs root.*never runs sudo/);
				assert.equal(e.hintText, `run ${sudoCommand(path)}`);
				return true;
			},
		);
		assert.equal(wrote, false);
		assert.ok(!existsSync(path));
	});

	it('EACCES while writing (injected): exit 4 and the sudo command; udevadm not run', () => {
		const calls: string[][] = [];
		assert.throws(
			() =>
				installRules({
					path: '/etc/udev/rules.d/45-fcflash.rules',
					uid: 0,
					udevadm: '/usr/bin/udevadm',
					writeFile: () => {
						throw Object.assign(new Error('EACCES: permission denied'), {code: 'EACCES'});
					},
					run: (f, a) => calls.push([f, ...a]),
				}),
			(e: FcflashError & {hintText?: string}) => e.exitCode === ExitCode.permission && /EACCES/.test(e.message) && /sudo tee/.test(e.hintText ?? ''),
		);
		assert.deepEqual(calls, []);
	});

	it('a missing folder: exit 1 naming udev', () => {
		assert.throws(
			() => installRules({path: join(dir, 'no', 'such', 'x.rules'), uid: 0}),
			(e: FcflashError) => e.exitCode === ExitCode.failed && /folder does not exist/.test(e.message),
		);
	});

	it('as root: writes atomically, reloads and triggers udev', () => {
		const path = join(dir, 'root.rules');
		const calls: string[][] = [];
		const result = installRules({path, uid: 0, udevadm: '/sbin/udevadm', run: (f, a) => calls.push([f, ...a])});
		assert.equal(readFileSync(path, 'utf8'), rulesText());
		assert.deepEqual(calls, [
			['/sbin/udevadm', 'control', '--reload-rules'],
			['/sbin/udevadm', 'trigger'],
		]);
		assert.equal(result.reloaded, true);
		assert.ok(!existsSync(`${path}.tmp-${process.pid}`));
	});

	it('udevadm failing or missing leaves the rules installed, with a note', () => {
		const path = join(dir, 'noreload.rules');
		const failed = installRules({
			path,
			uid: 0,
			udevadm: '/sbin/udevadm',
			run: () => {
				throw Object.assign(new Error('exit 1'), {stderr: Buffer.from('Failed to send reload request: No such file or directory')});
			},
		});
		assert.equal(failed.reloaded, false);
		assert.match(failed.reloadProblem!, /Failed to send reload request.*replug/);
		assert.ok(existsSync(path));
		assert.match(installRules({path, uid: 0}).reloadProblem!, /udevadm not found/);
	});
});

describe('udev-rules --install (command)', () => {
	const run = (extra: Record<string, string>, args: string[] = []) =>
		spawnSync(process.execPath, [cli, 'udev-rules', '--install', ...args], {env: {...process.env, ...extra}, encoding: 'utf8'});

	it('as root with an injected path and a fake udevadm: installs and reloads (exit 0)', () => {
		const path = join(dir, '45-fcflash.rules');
		const log = join(dir, 'udevadm.log');
		const fake = join(dir, 'udevadm');
		writeFileSync(fake, `#!/bin/sh\necho "$@" >> '${log}'\n`);
		chmodSync(fake, 0o755);
		const r = run({FCFLASH_UDEV_RULES_PATH: path, FCFLASH_UDEVADM: fake, FCFLASH_FAKE_UID: '0'});
		assert.equal(r.status, 0, r.stderr);
		assert.equal(readFileSync(path, 'utf8'), rulesText());
		assert.equal(readFileSync(log, 'utf8'), 'control --reload-rules\ntrigger\n');
		assert.match(r.stdout, new RegExp(`Installed ${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\.`));
		assert.doesNotMatch(r.stdout, /\x1b\[/);
	});

	it('not root (FCFLASH_FAKE_UID): exit 4, prints the sudo command, writes nothing', () => {
		const path = join(dir, 'user.rules');
		const r = run({FCFLASH_UDEV_RULES_PATH: path, FCFLASH_FAKE_UID: '1000', FCFLASH_UDEVADM: ''});
		assert.equal(r.status, 4);
		assert.match(r.stderr, /^error: Installing .*user\.rules needs root, and fcflash-tui never runs sudo itself\.$/m);
		assert.ok(r.stderr.includes(`hint: run fcflash-tui udev-rules | sudo tee ${path} >/dev/null && sudo udevadm control --reload-rules && sudo udevadm trigger`));
		assert.equal(r.stderr.trim().split('\n').length, 2, 'two lines: what happened and the next step');
		assert.ok(!existsSync(path));
		const j = run({FCFLASH_UDEV_RULES_PATH: path, FCFLASH_FAKE_UID: '1000'}, ['--json']);
		assert.equal(j.status, 4);
		const result = JSON.parse(j.stdout.trim());
		assert.equal(result.ok, false);
		assert.equal(result.error.code, 4);
		assert.match(result.error.hint, /sudo tee/);
	});
});
