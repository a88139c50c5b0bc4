// `fcflash-tui doctor`: look at this machine and say what will keep a board from being flashed, each
// with its fix. It only reads: files under a root (`/` or FCFLASH_DOCTOR_ROOT, for tests against fake
// /etc, /proc and /usr trees) and the board list. It never changes anything.
import {existsSync, readdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {dfuIds, serialIds, vidPid, type UsbId} from '../devices/ids.js';
import type {Board} from '../devices/types.js';
import {hints} from '../hints.js';
import {sudoCommand} from '../udev/install.js';
import {parseRules, ruleAccess, ruleMatchesId, type ParsedRule} from '../udev/rules.js';

export interface Finding {
	id: string;
	ok: boolean;
	message: string;
	/** What to do; null when there is nothing to fix. */
	fix: string | null;
}

export interface DoctorOptions {
	/** Filesystem root the checks read under (default '/'). */
	root?: string;
	env?: NodeJS.ProcessEnv;
	platform?: NodeJS.Platform;
	uid?: number;
	user?: string;
	/** The current process's supplementary groups (to spot "added, but not logged in again"). */
	sessionGids?: number[];
	/** Lists boards (libusb opens each DFU board while listing; a failure is the board's `problem`). */
	listBoards?: () => Promise<Board[]>;
}

export const rulesDirs = ['etc/udev/rules.d', 'run/udev/rules.d', 'lib/udev/rules.d', 'usr/lib/udev/rules.d'];

const read = (path: string): string | undefined => {
	try {
		return readFileSync(path, 'utf8');
	} catch {
		return undefined;
	}
};

/** Every rule under the rules folders; a file in /etc overrides the same name in /lib and /usr/lib, as in udev. */
export function readAllRules(root: string): ParsedRule[] {
	const seen = new Set<string>();
	const rules: ParsedRule[] = [];
	for (const dir of rulesDirs) {
		let names: string[];
		try {
			names = readdirSync(join(root, dir));
		} catch {
			continue;
		}
		for (const name of names.sort()) {
			if (!name.endsWith('.rules') || seen.has(name)) continue;
			seen.add(name);
			const text = read(join(root, dir, name));
			if (text !== undefined) rules.push(...parseRules(text, `/${dir}/${name}`));
		}
	}
	return rules;
}

interface GroupEntry {
	name: string;
	gid: number;
	members: string[];
}

export function parseGroupFile(text: string): GroupEntry[] {
	return text
		.split('\n')
		.filter((l) => l.trim() && !l.startsWith('#'))
		.map((l) => l.split(':'))
		.filter((f) => f.length >= 3)
		.map((f) => ({name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean)}));
}

interface PasswdEntry {
	name: string;
	uid: number;
	gid: number;
}

export function parsePasswdFile(text: string): PasswdEntry[] {
	return text
		.split('\n')
		.filter((l) => l.trim() && !l.startsWith('#'))
		.map((l) => l.split(':'))
		.filter((f) => f.length >= 4)
		.map((f) => ({name: f[0]!, uid: Number(f[2]), gid: Number(f[3])}));
}

export function overSsh(env: NodeJS.ProcessEnv): boolean {
	return Boolean(env.SSH_CONNECTION || env.SSH_TTY || env.SSH_CLIENT);
}

/** Names of running processes from /proc/PID/comm. */
export function runningProcesses(root: string): string[] {
	let entries: string[];
	try {
		entries = readdirSync(join(root, 'proc'));
	} catch {
		return [];
	}
	return entries
		.filter((e) => /^\d+$/.test(e))
		.map((pid) => read(join(root, 'proc', pid, 'comm'))?.trim())
		.filter((c): c is string => Boolean(c));
}

export function dpkgInstalled(root: string, pkg: string): boolean {
	const status = read(join(root, 'var/lib/dpkg/status'));
	if (!status) return false;
	return status.split(/\n\s*\n/).some((stanza) => new RegExp(`^Package: ${pkg}$`, 'm').test(stanza) && /^Status: .*\binstalled$/m.test(stanza) && !/^Status: .*not-installed/m.test(stanza));
}

const idText = (ids: UsbId[]) => ids.map((id) => `${vidPid(id.vendorId, id.productId)} (${id.name.replace(/ ROM bootloader| virtual COM port/, '')})`).join(', ');
const where = (r: ParsedRule) => `${r.file}:${r.line}`;

export async function runDoctor(options: DoctorOptions = {}): Promise<Finding[]> {
	const root = options.root ?? '/';
	const env = options.env ?? process.env;
	const platform = options.platform ?? process.platform;
	const uid = options.uid;
	const isRoot = uid === 0;
	const findings: Finding[] = [];
	const add = (id: string, ok: boolean, message: string, fix: string | null = null) => findings.push({id, ok, message, fix: ok ? null : fix});

	// --- libusb: can it list, and open the DFU boards that are connected? ---------------------------
	if (options.listBoards) {
		try {
			const boards = await options.listBoards();
			const dfu = boards.filter((b) => b.kind === 'dfu');
			const bad = boards.filter((b) => b.problem);
			for (const b of bad) {
				const what = b.kind === 'dfu' ? `DFU board ${vidPid(b.vendorId, b.productId)}${b.usbPath ? ` at usb ${b.usbPath}` : ''}` : `serial port ${b.port}`;
				add(b.kind === 'dfu' ? 'usb-open' : 'serial-open', false, `libusb cannot open the ${what}: ${b.problem!.message}`, hints[b.problem!.hint].text);
			}
			if (dfu.length === 0) {
				add('usb-open', true, 'No DFU board is connected, so opening one was not tried. To test USB access, connect a board in DFU (hold BOOT while plugging in) and run doctor again.');
			} else if (!dfu.some((b) => b.problem)) {
				add('usb-open', true, `libusb opened ${dfu.length} DFU board(s): ${dfu.map((b) => `${b.chip ?? b.name} (${b.id})`).join(', ')}.`);
			}
		} catch (error) {
			add(
				'usb',
				false,
				`libusb could not list the USB devices: ${error instanceof Error ? error.message : String(error)}`,
				'Reinstall fcflash-tui (npm install -g fcflash-tui) so its native usb module matches this Node and CPU. In a container, pass the USB bus in (docker run --device /dev/bus/usb).',
			);
		}
	}

	if (platform !== 'linux') {
		add('platform', true, `udev, group, ModemManager and brltty checks apply to Linux only (this is ${platform}).`);
		if (platform === 'win32') add('windows-driver', true, hints.zadig.text);
		return findings;
	}

	const ssh = overSsh(env);
	add('ssh', true, ssh ? 'Running over SSH: access comes from groups (plugdev, dialout); TAG+="uaccess" rules do not apply to this session.' : 'Local session (not SSH).');

	// --- udev rules for the DFU ids --------------------------------------------------------------
	const rules = readAllRules(root);
	const dfuCoverage = dfuIds.map((id) => {
		const matching = rules.filter((r) => ruleMatchesId(r, id) && (!r.matches.has('SUBSYSTEM') || r.matches.get('SUBSYSTEM') === 'usb'));
		const access = matching.map((r) => ({rule: r, access: ruleAccess(r)}));
		return {
			id,
			rules: matching,
			group: access.find((a) => a.access.group)?.access.group,
			world: access.some((a) => a.access.world),
			uaccessOnly: access.length > 0 && access.every((a) => !a.access.group && !a.access.world) && access.some((a) => a.access.uaccess),
			granting: access.some((a) => a.access.group || a.access.world || a.access.uaccess),
		};
	});
	const missing = dfuCoverage.filter((c) => !c.granting);
	if (isRoot) {
		add('udev-dfu', true, `Running as root: USB access needs no udev rule${missing.length ? ` (other users would need one for ${idText(missing.map((m) => m.id))})` : ''}.`);
	} else if (missing.length) {
		add(
			'udev-dfu',
			false,
			`No udev rule lets users open ${missing.length === dfuIds.length ? 'DFU boards' : 'these DFU boards'}: ${idText(missing.map((m) => m.id))} (looked in ${rulesDirs.map((d) => `/${d}`).join(', ')}).`,
			`Install the rules: ${sudoCommand()}`,
		);
	} else {
		const files = [...new Set(dfuCoverage.flatMap((c) => c.rules.map((r) => r.file)))];
		add('udev-dfu', true, `udev rules cover every DFU id (${files.join(', ')}).`);
	}
	const uaccessOnly = dfuCoverage.filter((c) => c.uaccessOnly);
	if (uaccessOnly.length && !isRoot) {
		const text = `The rules for ${idText(uaccessOnly.map((c) => c.id))} only add TAG+="uaccess" (${uaccessOnly.flatMap((c) => c.rules.map(where)).join(', ')}), which gives access to the user at the local seat`;
		if (ssh) add('udev-uaccess', false, `${text}, not to this SSH session.`, `Install rules that set a group: ${sudoCommand()}, and join plugdev.`);
		else add('udev-uaccess', true, `${text}; over SSH they would not help.`);
	}

	// --- groups ------------------------------------------------------------------------------------
	const groups = parseGroupFile(read(join(root, 'etc/group')) ?? '');
	const passwd = parsePasswdFile(read(join(root, 'etc/passwd')) ?? '');
	const user = options.user;
	const me = passwd.find((p) => p.name === user) ?? (uid !== undefined ? passwd.find((p) => p.uid === uid) : undefined);
	const checkGroup = (id: string, group: string, forWhat: string, fixHint: string) => {
		if (isRoot) return add(id, true, `Running as root: no ${group} group needed for ${forWhat}.`);
		if (!user) return add(id, false, `Cannot tell who the current user is, so ${group} membership was not checked.`, 'Set $USER, or run `groups` and check it lists ' + group + '.');
		const entry = groups.find((g) => g.name === group);
		if (!entry) return add(id, false, `The group ${group} (needed for ${forWhat}) does not exist on this machine.`, `sudo groupadd ${group} && sudo usermod -a -G ${group} ${user}, then log out and in again.`);
		const member = entry.members.includes(user) || me?.gid === entry.gid;
		if (!member) return add(id, false, `${user} is not in the ${group} group, which ${forWhat} needs.`, `sudo usermod -a -G ${group} ${user}, then log out and in again (a new SSH session is enough). ${fixHint}`.trim());
		if (options.sessionGids && !options.sessionGids.includes(entry.gid) && me?.gid !== entry.gid) {
			return add(id, false, `${user} was added to ${group}, but this login session started before that.`, 'Log out and in again (a new SSH session is enough), or run `newgrp ' + group + '`.');
		}
		return add(id, true, `${user} is in ${group} (${forWhat}).`);
	};
	const stm = dfuCoverage[0]!;
	if (stm.world && !isRoot) add('group-usb', true, `The udev rule gives everybody access to DFU boards (MODE ${stm.rules.map((r) => r.assigns.get('MODE')).find(Boolean)}).`);
	else checkGroup('group-usb', stm.group ?? 'plugdev', 'opening DFU boards', '');
	const serialGroup = groups.some((g) => g.name === 'dialout') ? 'dialout' : groups.some((g) => g.name === 'uucp') ? 'uucp' : 'dialout';
	checkGroup('group-serial', serialGroup, 'serial ports (flight controllers running firmware)', '');

	// --- ModemManager ------------------------------------------------------------------------------
	const processes = runningProcesses(root);
	if (!processes.includes('ModemManager')) {
		add('modemmanager', true, 'ModemManager is not running.');
	} else {
		const unignored = serialIds.filter((id) => !rules.some((r) => ruleMatchesId(r, id) && ruleAccess(r).mmIgnore));
		if (unignored.length === 0) add('modemmanager', true, 'ModemManager is running, but the udev rules tell it to ignore flight-controller serial ports (ID_MM_DEVICE_IGNORE).');
		else {
			add(
				'modemmanager',
				false,
				`ModemManager is running and probes serial ports as modems: a flight controller's port can vanish or reject MSP (no ID_MM_DEVICE_IGNORE rule for ${idText(unignored.slice(0, 3))}${unignored.length > 3 ? ` and ${unignored.length - 3} more` : ''}).`,
				`sudo systemctl stop ModemManager.service (and disable it if this machine has no modem), or install the rules: ${sudoCommand()}`,
			);
		}
	}

	// --- brltty ------------------------------------------------------------------------------------
	const brlttyPath = ['usr/bin/brltty', 'usr/sbin/brltty', 'bin/brltty', 'sbin/brltty'].find((p) => existsSync(join(root, p)));
	if (brlttyPath || dpkgInstalled(root, 'brltty')) {
		add(
			'brltty',
			false,
			`brltty is installed${brlttyPath ? ` (/${brlttyPath})` : ''}: it claims CH340 and CP210x USB-serial bridges, so their port appears and vanishes.`,
			'sudo apt remove brltty (if you need a braille display, instead: sudo systemctl mask brltty-udev.service).',
		);
	} else {
		add('brltty', true, 'brltty is not installed.');
	}
	return findings;
}
