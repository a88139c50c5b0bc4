// What the user typed for a flag, before meow turns a number flag's `abc` into NaN: the text an
// error message about a bad --baud, --wait or --count must quote.
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {describe, it} from 'node:test';
import meow from 'meow';
import {cliFlags, help, typedValue} from '../source/cli/flags.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = process.env.FCFLASH_TEST_CLI ?? join(repo, 'dist', 'cli.js');

describe('typedValue', () => {
	it('meow hands over NaN for --baud abc: the text itself is gone from the parsed flags', () => {
		const cli = meow(help, {importMeta: import.meta, argv: ['flash', 'fw.hex', '--baud', 'abc'], flags: cliFlags, allowUnknownFlags: true, autoHelp: false, autoVersion: false});
		assert.ok(Number.isNaN(cli.flags.baud));
		assert.ok(Number.isNaN((cli.unnormalizedFlags as Record<string, unknown>).baud));
	});

	it('--baud abc and --baud=abc: abc', () => {
		assert.equal(typedValue('baud', ['flash', 'fw.hex', '--baud', 'abc']), 'abc');
		assert.equal(typedValue('baud', ['flash', 'fw.hex', '--baud=abc', '--yes']), 'abc');
		assert.equal(typedValue('baud', ['--baud=']), '');
	});

	it('a camelCase flag in either spelling', () => {
		assert.equal(typedValue('simulateArrival', ['--simulate-arrival', '5x']), '5x');
		assert.equal(typedValue('simulateArrival', ['--simulateArrival=5x']), '5x');
	});

	it('the last one counts, as in the parser; nothing after --; undefined when not given or without a value', () => {
		assert.equal(typedValue('wait', ['--wait', '10', '--wait', 'ten']), 'ten');
		assert.equal(typedValue('wait', ['--', '--wait', 'ten']), undefined);
		assert.equal(typedValue('wait', ['flash', 'fw.hex']), undefined);
		assert.equal(typedValue('wait', ['--wait']), undefined);
		assert.equal(typedValue('wait', ['--waiting', '3']), undefined);
	});
});

describe('the CLI names what was typed', () => {
	for (const [args, message] of [
		[['--baud', 'abc'], /^error: --baud abc is not a baud rate/m],
		[['--baud=12x'], /^error: --baud 12x is not a baud rate/m],
		[['--wait', 'soon'], /^error: --wait soon is not a number of seconds/m],
		[['--on-connect', '--count', 'four'], /^error: --count four: give how many boards/m],
	] as const) {
		it(`flash ${args.join(' ')}: exit 2, the error quotes it`, () => {
			const r = spawnSync(process.execPath, [cli, 'flash', 'fw.hex', '--simulate=stm32f405', '--yes', ...args], {env: {...process.env, TERM: 'dumb'}, encoding: 'utf8', timeout: 30_000});
			assert.equal(r.status, 2, r.stderr);
			assert.match(r.stderr, message);
			assert.doesNotMatch(r.stderr, /NaN/);
		});
	}
});
