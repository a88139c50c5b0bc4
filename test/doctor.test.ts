// `doctor` against prepared fake machines: /etc/group, /etc/passwd, udev rules folders, /proc/*/comm,
// brltty binaries and dpkg status under a temporary root.
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {after, describe, it} from 'node:test';
import {runDoctor, type DoctorOptions, type Finding} from '../source/doctor/checks.js';
import {usbProblem} from '../source/devices/usb-errors.js';
import type {Board} from '../source/devices/types.js';
import {rulesText} from '../source/udev/rules.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = process.env.FCFLASH_TEST_CLI ?? join(repo, 'dist', 'cli.js');
const roots: string[] = [];
after(() => {
	for (const r of roots) rmSync(r, {recursive: true, force: true});
});

interface Machine {
	group?: string;
	passwd?: string;
	rules?: Record<string, string>;
	processes?: string[];
	files?: string[];
	dpkgStatus?: string;
}

const passwd = 'root:x:0:0:root:/root:/bin/bash\npilot:x:1000:1000:Pilot:/home/pilot:/bin/bash\n';
const groupsOk = 'root:x:0:\nplugdev:x:46:pilot\ndialout:x:20:other,pilot\npilot:x:1000:\n';
const groupsNone = 'root:x:0:\nplugdev:x:46:\ndialout:x:20:other\npilot:x:1000:\n';

function machine(m: Machine): string {
	const root = mkdtempSync(join(tmpdir(), 'fcflash-doctor-'));
	roots.push(root);
	const put = (path: string, text: string) => {
		mkdirSync(dirname(join(root, path)), {recursive: true});
		writeFileSync(join(root, path), text);
	};
	put('etc/group', m.group ?? groupsOk);
	put('etc/passwd', m.passwd ?? passwd);
	mkdirSync(join(root, 'etc/udev/rules.d'), {recursive: true});
	for (const [path, text] of Object.entries(m.rules ?? {})) put(path, text);
	put('proc/1/comm', 'systemd\n');
	put('proc/self/comm', 'node\n');
	(m.processes ?? []).forEach((name, i) => put(`proc/${100 + i}/comm`, `${name}\n`));
	for (const f of m.files ?? []) put(f, '#!/bin/sh\n');
	if (m.dpkgStatus) put('var/lib/dpkg/status', m.dpkgStatus);
	return root;
}

const good: Machine = {rules: {'etc/udev/rules.d/45-fcflash.rules': rulesText()}};

function doctor(root: string, options: Partial<DoctorOptions> = {}): Promise<Finding[]> {
	return runDoctor({root, env: {}, platform: 'linux', uid: 1000, user: 'pilot', listBoards: async () => [], ...options});
}

const byId = (findings: Finding[], id: string) => {
	const f = findings.find((x) => x.id === id);
	assert.ok(f, `finding ${id} in ${findings.map((x) => x.id).join(',')}`);
	return f;
};
const failing = (findings: Finding[]) => findings.filter((f) => !f.ok).map((f) => f.id);

describe('doctor checks', () => {
	it('a prepared machine: no finding', async () => {
		const findings = await doctor(machine(good));
		assert.deepEqual(failing(findings), []);
		assert.ok(findings.every((f) => f.fix === null));
		assert.match(byId(findings, 'udev-dfu').message, /45-fcflash\.rules/);
		assert.match(byId(findings, 'group-usb').message, /pilot is in plugdev/);
		assert.match(byId(findings, 'ssh').message, /Local session/);
	});

	it('a bare machine: rules, groups, ModemManager and brltty findings, each with a fix', async () => {
		const root = machine({group: groupsNone, processes: ['ModemManager'], files: ['usr/bin/brltty']});
		const findings = await doctor(root);
		assert.deepEqual(failing(findings).sort(), ['brltty', 'group-serial', 'group-usb', 'modemmanager', 'udev-dfu']);
		assert.match(byId(findings, 'udev-dfu').message, /0483:df11 \(STM32\)/);
		assert.match(byId(findings, 'udev-dfu').fix!, /sudo tee \/etc\/udev\/rules\.d\/45-fcflash\.rules/);
		assert.match(byId(findings, 'group-usb').fix!, /sudo usermod -a -G plugdev pilot/);
		assert.match(byId(findings, 'group-serial').fix!, /sudo usermod -a -G dialout pilot/);
		assert.match(byId(findings, 'modemmanager').fix!, /systemctl stop ModemManager/);
		assert.match(byId(findings, 'brltty').message, /\/usr\/bin\/brltty/);
		assert.match(byId(findings, 'brltty').fix!, /apt remove brltty/);
		for (const f of findings.filter((x) => !x.ok)) assert.ok(f.fix && f.fix.length > 10, `${f.id} has a fix`);
	});

	it('rules in /lib and /usr/lib count, with globs; partial coverage names the missing ids', async () => {
		const root = machine({
			rules: {
				'lib/udev/rules.d/50-stm.rules': '# ST\nSUBSYSTEMS=="usb", ATTRS{idVendor}=="0483", ATTRS{idProduct}=="df1[01]", MODE="0664", GROUP="plugdev"\n',
				'usr/lib/udev/rules.d/60-at.rules': 'SUBSYSTEM=="usb", ATTR{idVendor}=="2e3c", \\\n  ATTR{idProduct}=="*", MODE="0666"\n',
			},
		});
		const f = byId(await doctor(root), 'udev-dfu');
		assert.equal(f.ok, false);
		assert.match(f.message, /314b:0106 \(APM32\), 28e9:0189 \(GD32\), 3997:df11 \(X32\)/);
		assert.doesNotMatch(f.message, /0483:df11|2e3c:df11/);
	});

	it('a file in /etc/udev/rules.d hides the same name in /lib/udev/rules.d', async () => {
		const root = machine({
			rules: {
				'lib/udev/rules.d/45-fcflash.rules': rulesText(),
				'etc/udev/rules.d/45-fcflash.rules': '# disabled by the admin\n',
			},
		});
		assert.equal(byId(await doctor(root), 'udev-dfu').ok, false);
	});

	it('uaccess-only rules: a finding over SSH, fine at the local seat', async () => {
		const uaccess = Object.fromEntries([['etc/udev/rules.d/70-dfu.rules', rulesText().replaceAll(', MODE="0664", GROUP="plugdev"', '')]]);
		const root = machine({rules: uaccess});
		const ssh = await doctor(root, {env: {SSH_CONNECTION: '10.0.0.2 50000 10.0.0.1 22'}});
		assert.equal(byId(ssh, 'udev-uaccess').ok, false);
		assert.match(byId(ssh, 'udev-uaccess').message, /TAG\+="uaccess".*not to this SSH session/);
		assert.match(byId(ssh, 'ssh').message, /Running over SSH/);
		const local = await doctor(root, {env: {}});
		assert.equal(byId(local, 'udev-uaccess').ok, true);
		assert.equal(byId(local, 'udev-dfu').ok, true);
	});

	it('the primary group counts; a group added after login asks to log in again', async () => {
		const root = machine({...good, group: 'plugdev:x:46:\ndialout:x:20:pilot\n', passwd: 'pilot:x:1000:46::/home/pilot:/bin/sh\n'});
		assert.deepEqual(failing(await doctor(root)), []);
		const stale = await doctor(machine(good), {sessionGids: [1000, 46]});
		assert.deepEqual(failing(stale), ['group-serial']);
		assert.match(byId(stale, 'group-serial').fix!, /Log out and in again/);
	});

	it('uses the group the rule names, and a missing group is a finding', async () => {
		const root = machine({rules: {'etc/udev/rules.d/45-x.rules': rulesText().replaceAll('GROUP="plugdev"', 'GROUP="usbflash"')}});
		const f = byId(await doctor(root), 'group-usb');
		assert.equal(f.ok, false);
		assert.match(f.message, /usbflash/);
		assert.match(f.fix!, /groupadd usbflash/);
	});

	it('root needs no rule and no group', async () => {
		const findings = await doctor(machine({group: groupsNone}), {uid: 0, user: 'root'});
		assert.deepEqual(failing(findings), []);
		assert.match(byId(findings, 'group-usb').message, /root/);
	});

	it('ModemManager running but told to ignore the ports by the rules: fine', async () => {
		const findings = await doctor(machine({...good, processes: ['ModemManager']}));
		assert.equal(byId(findings, 'modemmanager').ok, true);
		assert.match(byId(findings, 'modemmanager').message, /ID_MM_DEVICE_IGNORE/);
	});

	it('brltty found through dpkg status; a removed package is not installed', async () => {
		const installed = 'Package: bash\nStatus: install ok installed\n\nPackage: brltty\nStatus: install ok installed\nVersion: 6.5\n';
		assert.equal(byId(await doctor(machine({...good, dpkgStatus: installed})), 'brltty').ok, false);
		const removed = 'Package: brltty\nStatus: deinstall ok config-files\n';
		assert.equal(byId(await doctor(machine({...good, dpkgStatus: removed})), 'brltty').ok, true);
	});

	it('libusb cannot open a connected DFU board: the reason and the udev fix', async () => {
		const board: Board = {kind: 'dfu', id: '1-1.2', vendorId: 0x0483, productId: 0xdf11, name: 'STM32 ROM bootloader', usbPath: '1-1.2', problem: usbProblem(new Error('LIBUSB_ERROR_ACCESS'))};
		const f = byId(await doctor(machine(good), {listBoards: async () => [board]}), 'usb-open');
		assert.equal(f.ok, false);
		assert.match(f.message, /0483:df11 at usb 1-1\.2.*Permission denied.*LIBUSB_ERROR_ACCESS/);
		assert.match(f.fix!, /udev rule/);
		const broken = byId(await doctor(machine(good), {listBoards: async () => Promise.reject(new Error('No native build was found'))}), 'usb');
		assert.equal(broken.ok, false);
		assert.match(broken.message, /No native build was found/);
	});

	it('not Linux: only the USB check', async () => {
		const findings = await doctor(machine({}), {platform: 'darwin'});
		assert.deepEqual(
			findings.map((f) => f.id),
			['usb-open', 'platform'],
		);
		assert.deepEqual(failing(findings), []);
	});
});

describe('doctor command', () => {
	const runCli = (root: string, args: string[], extra: Record<string, string> = {}) =>
		spawnSync(process.execPath, [cli, 'doctor', '--simulate=stm32f405', ...args], {
			env: {...process.env, FCFLASH_SIM_TIME_SCALE: '0', FCFLASH_DOCTOR_ROOT: root, FCFLASH_FAKE_UID: '1000', SSH_CONNECTION: '', SSH_TTY: '', SSH_CLIENT: '', ...extra},
			encoding: 'utf8',
		});

	it('--json with findings: exit 1, one result line with the findings', () => {
		const r = runCli(machine({group: groupsNone, processes: ['ModemManager']}), ['--json']);
		assert.equal(r.status, 1, r.stderr);
		const lines = r.stdout.trim().split('\n');
		assert.equal(lines.length, 1);
		const result = JSON.parse(lines[0]!);
		assert.equal(result.event, 'result');
		assert.equal(result.ok, false);
		for (const f of result.findings) assert.deepEqual(Object.keys(f), ['id', 'ok', 'message', 'fix']);
		assert.deepEqual(
			result.findings.filter((f: Finding) => !f.ok).map((f: Finding) => f.id).sort(),
			['group-serial', 'group-usb', 'modemmanager', 'udev-dfu'],
		);
		// The user comes from the fake /etc/passwd by the faked uid.
		assert.match(result.findings.find((f: Finding) => f.id === 'group-usb').message, /^pilot is not in the plugdev group/);
		assert.equal(result.findings.find((f: Finding) => f.id === 'usb-open').ok, true);
	});

	it('no finding: exit 0; plain output without escape codes', () => {
		const r = runCli(machine(good), []);
		assert.equal(r.status, 0, r.stdout + r.stderr);
		assert.match(r.stdout, /^ok {4}udev-dfu/m);
		assert.match(r.stdout, /No problems found\./);
		assert.doesNotMatch(r.stdout, /\x1b\[|\r/);
	});

	it('plain output shows each finding with its fix', () => {
		const r = runCli(machine({files: ['usr/sbin/brltty']}), [], {SSH_CONNECTION: '10.0.0.2 1 10.0.0.1 22'});
		assert.equal(r.status, 1);
		assert.match(r.stdout, /^FAIL {2}brltty +brltty is installed \(\/usr\/sbin\/brltty\).*\n +fix: sudo apt remove brltty/m);
		assert.match(r.stdout, /^FAIL {2}udev-dfu/m);
		assert.match(r.stdout, /Running over SSH/);
		assert.match(r.stdout, /problem\(s\) found/);
	});
});
