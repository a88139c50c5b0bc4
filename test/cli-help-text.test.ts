// --help says what the CLI does: every JSON progress phase a job reports, and the commands --yes and
// --force apply to (flash and settings restore). Runs the bundled CLI.
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {describe, it} from 'node:test';
import {phaseTitles} from '../source/cli/reporter.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = process.env.FCFLASH_TEST_CLI ?? join(repo, 'dist', 'cli.js');

function help(): string {
	const r = spawnSync(process.execPath, [cli, '--help'], {env: {...process.env, TERM: 'dumb', NO_COLOR: '1'}, encoding: 'utf8', timeout: 30_000});
	assert.equal(r.status, 0, r.stderr);
	return r.stdout;
}

/** The help of one option: its line and the lines that continue it (indented further, no flag). */
function optionText(text: string, flag: string): string {
	const m = text.match(new RegExp(`^ +${flag}\\b.*(\\n {8,}[^ -].*)*`, 'm'));
	assert.ok(m, `help has a line for ${flag}`);
	return m[0];
}

describe('--help', () => {
	it('the JSON progress entry lists every phase a job reports (CONTRACT: backup ... restore, and read for backup)', () => {
		const text = help();
		const start = text.indexOf('progress  {"event":"progress"');
		assert.ok(start >= 0, 'a progress entry under JSON events');
		const entry = text.slice(start, text.indexOf('list --watch', start));
		// The phases named after "P is", before the backup command's "read".
		const phaseList = entry.slice(entry.indexOf('P is'), entry.indexOf('"read"'));
		const listed = [...phaseList.matchAll(/\b[a-z]+\b/g)].map((m) => m[0]);
		// Every phase the reporter knows (the JobPhase union), in CONTRACT order.
		const contract = ['backup', 'reboot', 'wait', 'unprotect', 'compare', 'erase', 'write', 'verify', 'leave', 'firmware', 'restore'];
		assert.deepEqual(Object.keys(phaseTitles).filter((p) => p !== 'read'), contract, 'the phases jobs report are the CONTRACT list');
		for (const phase of contract) assert.ok(listed.includes(phase), `help lists phase ${phase}: ${entry}`);
		assert.match(entry, /"read" for backup/);
		// The timed phases carry elapsedMs and expectedMs (CONTRACT): help says so.
		assert.match(entry, /elapsedMs/);
		assert.match(entry, /expectedMs/);
	});

	it('--yes and --force say they apply to settings restore too', () => {
		const text = help();
		for (const flag of ['--yes', '--force']) {
			const line = optionText(text, flag);
			assert.match(line, /flash/, `${flag}: ${line}`);
			assert.match(line, /settings restore/, `${flag}: ${line}`);
		}
	});
});
