// `udev-rules --install`: write the rules file and reload udev, only when already root. The program
// never runs sudo: without root it prints the exact command and fails with exit 4.
import {execFileSync} from 'node:child_process';
import {existsSync, renameSync, unlinkSync, writeFileSync} from 'node:fs';
import {delimiter, join} from 'node:path';
import {ExitCode, FcflashError, PermissionError} from '../errors.js';
import {defaultRulesPath, rulesText} from './rules.js';

/** The command a non-root user runs instead (works with nvm installs, where sudo's PATH has no node). */
export function sudoCommand(path = defaultRulesPath): string {
	return `fcflash-tui udev-rules | sudo tee ${path} >/dev/null && sudo udevadm control --reload-rules && sudo udevadm trigger`;
}

/** The effective uid; FCFLASH_FAKE_UID lets tests pretend to be a normal user (or root). */
export function effectiveUid(env: NodeJS.ProcessEnv = process.env): number | undefined {
	const fake = env.FCFLASH_FAKE_UID;
	if (fake !== undefined && /^\d+$/.test(fake)) return Number(fake);
	return process.geteuid?.();
}

/** udevadm: FCFLASH_UDEVADM (tests point it at a fake; empty = none), else the usual places and PATH. */
export function findUdevadm(env: NodeJS.ProcessEnv = process.env): string | undefined {
	if (env.FCFLASH_UDEVADM !== undefined) return env.FCFLASH_UDEVADM || undefined;
	const dirs = [...(env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/bin', '/bin', '/usr/sbin', '/sbin'];
	return dirs.map((d) => join(d, 'udevadm')).find((p) => existsSync(p));
}

/** The reporter prints hintText as the error's `hint:` line (and JSON error.hint). */
function withHint<T extends Error>(error: T, hintText: string): T & {hintText: string} {
	return Object.assign(error, {hintText});
}

export interface InstallOptions {
	path: string;
	uid: number | undefined;
	udevadm?: string;
	text?: string;
	/** Injected in tests (EACCES, EROFS). */
	writeFile?: (path: string, text: string) => void;
	run?: (file: string, args: string[]) => void;
}

export interface InstallResult {
	path: string;
	bytes: number;
	/** udevadm reloaded the rules and re-triggered the devices. */
	reloaded: boolean;
	/** Why not, when it did not. */
	reloadProblem?: string;
}

function atomicWrite(path: string, text: string) {
	const tmp = `${path}.tmp-${process.pid}`;
	try {
		writeFileSync(tmp, text, {mode: 0o644});
		renameSync(tmp, path);
	} catch (error) {
		try {
			unlinkSync(tmp);
		} catch {
			// Never created.
		}
		throw error;
	}
}

const runQuiet = (file: string, args: string[]) => {
	execFileSync(file, args, {stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000});
};

export function installRules(options: InstallOptions): InstallResult {
	const {path} = options;
	const text = options.text ?? rulesText();
	if (options.uid !== 0) {
		throw withHint(new PermissionError(`Installing ${path} needs root, and fcflash-tui never runs sudo itself.`), `run ${sudoCommand(path)}`);
	}
	try {
		(options.writeFile ?? atomicWrite)(path, text);
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
			throw withHint(new PermissionError(`Cannot write ${path} (${code}) although running as root: the file system may be read-only.`), `check the mount, or run ${sudoCommand(path)}`);
		}
		if (code === 'ENOENT' || code === 'ENOTDIR') {
			throw new FcflashError(`Cannot write ${path}: its folder does not exist (${code}). Is udev installed on this machine?`, ExitCode.failed, 'udev');
		}
		throw new FcflashError(`Cannot write ${path}: ${(error as Error).message}`, ExitCode.failed, 'udev');
	}
	const result: InstallResult = {path, bytes: Buffer.byteLength(text), reloaded: false};
	const udevadm = options.udevadm;
	if (!udevadm) {
		result.reloadProblem = 'udevadm not found: replug the board (or reboot) so the rules apply.';
		return result;
	}
	const run = options.run ?? runQuiet;
	try {
		run(udevadm, ['control', '--reload-rules']);
		run(udevadm, ['trigger']);
		result.reloaded = true;
	} catch (error) {
		const stderr = (error as {stderr?: Buffer}).stderr?.toString().trim();
		result.reloadProblem = `udevadm failed (${stderr || (error as Error).message}): the rules are installed; replug the board, or run: udevadm control --reload-rules && udevadm trigger`;
	}
	return result;
}
