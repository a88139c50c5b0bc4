#!/usr/bin/env node
// Entry point. Headless commands never load Ink or React: the TUI is imported only when no
// command is given, so `flash --json` on a Pi starts in a fraction of the TUI's time.
import meow from 'meow';
import {ExitCode, UsageError} from './errors.js';
import {Reporter} from './cli/reporter.js';

const help = `
  Usage
    $ fcflash-tui                          interactive terminal UI
    $ fcflash-tui flash FILE [options]     flash a .hex, .bin or .dfu file
    $ fcflash-tui inspect FILE [--json]    show what a firmware file contains
    $ fcflash-tui list [--json] [--watch]  list DFU boards and serial flight controllers
    $ fcflash-tui backup OUT.bin           read the whole main flash into a file
    $ fcflash-tui dfu                      reboot a serial flight controller into DFU
    $ fcflash-tui leave                    start the firmware of a board in DFU
    $ fcflash-tui doctor [--json]          check USB permissions, udev rules, groups, ModemManager
    $ fcflash-tui udev-rules [--install]   print (or install) the udev rules

  Options
    --device ID          serial number, USB path or serial port (needed with several boards)
    --full-erase         erase the whole chip (settings are lost) instead of the sectors the image uses
    --no-verify          skip reading the flash back
    --no-reboot          do not send the reboot-into-DFU sequence to a serial flight controller
    --baud N             serial baud rate for the reboot sequence (default 115200)
    --address A          load address of a .bin file (default 0x08000000)
    --yes, -y            do not ask before erasing
    --json               newline-delimited JSON events and a final result object
    --simulate[=PROFILE] use the built-in emulated boards (stm32f405, stm32f411, stm32f722, stm32h743, at32f435)
    --simulate-state F   keep the emulated board's flash in file F between runs
    --unprotect          lift read protection (wipes the whole chip) when the board is protected
    --force              flash even when the image's target differs from the board's
    --firmware PATH      TUI: folder to start the file picker in, or a file to preselect
    --verbose            trace USB requests on stderr
    --version            print the version

  Exit codes
    0 ok, 1 flash/verify/device failure, 2 usage or bad input, 3 no device or several,
    4 permission denied, 5 declined at the confirmation, 130 interrupted

  Examples
    $ fcflash-tui flash betaflight_4.5.1_STM32F405.hex --yes
    $ fcflash-tui flash fw.bin --address 0x08000000 --device /dev/ttyACM0 --json --yes
    $ fcflash-tui inspect betaflight_4.5.1_STM32F405.hex --json
    $ fcflash-tui --simulate
`;

export const cliFlags = {
	device: {type: 'string'},
	fullErase: {type: 'boolean', default: false},
	verify: {type: 'boolean', default: true},
	reboot: {type: 'boolean', default: true},
	baud: {type: 'number', default: 115200},
	address: {type: 'string'},
	yes: {type: 'boolean', shortFlag: 'y', default: false},
	json: {type: 'boolean', default: false},
	simulate: {type: 'string'},
	simulateState: {type: 'string'},
	unprotect: {type: 'boolean', default: false},
	force: {type: 'boolean', default: false},
	firmware: {type: 'string'},
	verbose: {type: 'boolean', default: false},
	watch: {type: 'boolean', default: false},
	install: {type: 'boolean', default: false},
} as const;

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

export type CliFlags = ReturnType<typeof meow<typeof cliFlags>>['flags'];
export {UsageError};

main().then(
	(code) => {
		process.exitCode = code;
	},
	(error: unknown) => {
		process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
		process.exitCode = ExitCode.failed;
	},
);
