#!/usr/bin/env node
// Entry point. Headless commands never load Ink or React: the TUI is imported only when no
// command is given, so `flash --json` on a Pi starts in a fraction of the TUI's time.
import meow from 'meow';
import {ExitCode, UsageError} from './errors.js';
import {cliFlags, closestFlag, help, knownFlagNames, typedValue, type CliFlags} from './cli/flags.js';
import {Reporter} from './cli/reporter.js';
import {exitAfterHangup, terminalGone} from './terminal-gone.js';

/** What meow cannot check: unknown flags (with a suggestion), numbers that are not numbers. */
function checkFlags(given: Record<string, unknown>, flags: CliFlags): void {
	const known = knownFlagNames();
	const unknown = Object.keys(given).filter((name) => !known.has(name));
	if (unknown.length > 0) {
		const given = unknown[0]!;
		// meow hands flags over camelCased: show them the way they were typed.
		const name = given.length === 1 ? given : given.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
		const dash = name.length === 1 ? '-' : '--';
		const suggestion = closestFlag(name);
		throw new UsageError(`Unknown option ${dash}${name}.${suggestion ? ` Did you mean --${suggestion}?` : ''} Run fcflash-tui --help for the list.`);
	}
	if (!Number.isInteger(flags.baud) || flags.baud < 1200 || flags.baud > 4_000_000) {
		throw new UsageError(`--baud ${typedValue('baud') ?? String(flags.baud)} is not a baud rate (e.g. 115200).`);
	}
	if (flags.wait !== undefined && !(Number.isFinite(flags.wait) && flags.wait > 0)) {
		throw new UsageError(`--wait ${typedValue('wait') ?? String(flags.wait)} is not a number of seconds (e.g. --wait 60).`);
	}
	if (flags.count !== undefined && !(Number.isInteger(flags.count) && flags.count > 0)) {
		throw new UsageError(`--count ${typedValue('count') ?? String(flags.count)}: give how many boards to flash, e.g. --count 4.`);
	}
}

async function main(): Promise<number> {
	const cli = meow(help, {importMeta: import.meta, flags: cliFlags, allowUnknownFlags: true, autoHelp: false, autoVersion: false});
	const [command, ...args] = cli.input;
	const flags = cli.flags;
	const streams = {stdout: process.stdout, stderr: process.stderr};
	const reporter = Reporter.choose(flags.json, streams);
	try {
		if (flags.help) {
			process.stdout.write(`${cli.help}\n`);
			return ExitCode.ok;
		}
		if (flags.version) {
			process.stdout.write(`${cli.pkg.version ?? ''}\n`);
			return ExitCode.ok;
		}
		checkFlags(cli.unnormalizedFlags as Record<string, unknown>, flags);
		switch (command) {
			case undefined: {
				const {runTui} = await import('./tui.js');
				return await runTui(flags);
			}
			case 'inspect': {
				const {inspectCommand} = await import('./commands/inspect.js');
				return await inspectCommand(args, flags, reporter);
			}
			case 'flash': {
				const {flashCommand} = await import('./commands/flash.js');
				return await flashCommand(args, flags, reporter);
			}
			default: {
				const {runOther} = await import('./commands/index.js');
				return await runOther(command, args, flags, reporter);
			}
		}
	} catch (error) {
		return reporter.fail(error);
	}
}

main().then(
	(code) => {
		// After a hang-up the dead terminal's handles would keep the process alive: end it here.
		if (terminalGone()) exitAfterHangup(code);
		process.exitCode = code;
	},
	(error: unknown) => {
		process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
		process.exitCode = ExitCode.failed;
	},
);
