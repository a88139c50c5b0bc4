#!/usr/bin/env node
// Entry point. Headless commands never load Ink or React: the TUI is imported only when no
// command is given, so `flash --json` on a Pi starts in a fraction of the TUI's time.
import meow from 'meow';
import {ExitCode} from './errors.js';
import {cliFlags, help} from './cli/flags.js';
import {Reporter} from './cli/reporter.js';

async function main(): Promise<number> {
	const cli = meow(help, {importMeta: import.meta, flags: cliFlags, allowUnknownFlags: false, autoHelp: true, autoVersion: true});
	const [command, ...args] = cli.input;
	const flags = cli.flags;
	const streams = {stdout: process.stdout, stderr: process.stderr};
	const reporter = Reporter.choose(flags.json, streams);
	try {
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
		process.exitCode = code;
	},
	(error: unknown) => {
		process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
		process.exitCode = ExitCode.failed;
	},
);
