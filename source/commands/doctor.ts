// `fcflash-tui doctor [--json]`: each finding with its fix. Exit 0 with no finding, 1 with findings.
// FCFLASH_DOCTOR_ROOT points the file checks at a prepared tree (tests); --simulate lists the
// emulated boards instead of opening real USB devices.
import {userInfo} from 'node:os';
import {join} from 'node:path';
import {readFileSync} from 'node:fs';
import type {CliFlags} from '../cli/flags.js';
import type {Reporter} from '../cli/reporter.js';
import {openBoardSource} from '../devices/board-source.js';
import {parsePasswdFile, runDoctor, type Finding} from '../doctor/checks.js';
import {UsageError} from '../errors.js';
import {effectiveUid} from '../udev/install.js';

function currentUser(root: string, uid: number | undefined, env: NodeJS.ProcessEnv): string | undefined {
	if (env.FCFLASH_DOCTOR_USER) return env.FCFLASH_DOCTOR_USER;
	if (env.FCFLASH_FAKE_UID !== undefined || root !== '/') {
		try {
			const hit = parsePasswdFile(readFileSync(join(root, 'etc/passwd'), 'utf8')).find((p) => p.uid === uid);
			if (hit) return hit.name;
		} catch {
			// Fall back to the environment.
		}
		return env.USER || undefined;
	}
	try {
		return userInfo().username;
	} catch {
		return env.USER || undefined;
	}
}

export function formatFindings(findings: Finding[]): string {
	const width = Math.max(...findings.map((f) => f.id.length));
	const lines = findings.map((f) => `${f.ok ? 'ok  ' : 'FAIL'}  ${f.id.padEnd(width)}  ${f.message}${f.fix ? `\n      ${' '.repeat(width)}  fix: ${f.fix}` : ''}`);
	const bad = findings.filter((f) => !f.ok).length;
	lines.push('', bad ? `${bad} problem(s) found: apply the fixes above, then replug the board.` : 'No problems found.');
	return lines.join('\n');
}

export async function doctorCommand(args: string[], flags: CliFlags, reporter: Reporter): Promise<number> {
	if (args.length > 0) throw new UsageError(`doctor takes no arguments, got: ${args.join(' ')}`);
	const env = process.env;
	const root = env.FCFLASH_DOCTOR_ROOT || '/';
	const uid = effectiveUid(env);
	const faked = root !== '/' || env.FCFLASH_FAKE_UID !== undefined;
	const source = await openBoardSource(flags).catch((error: unknown) => error as Error);
	if (source instanceof UsageError) throw source;
	try {
		const findings = await runDoctor({
			root,
			env,
			uid,
			user: currentUser(root, uid, env),
			sessionGids: faked ? undefined : process.getgroups?.(),
			listBoards: source instanceof Error ? () => Promise.reject(source) : () => source.list(),
		});
		const ok = findings.every((f) => f.ok);
		reporter.result(ok, {findings}, formatFindings(findings));
		return ok ? 0 : 1;
	} finally {
		if (!(source instanceof Error)) await source.close?.();
	}
}
