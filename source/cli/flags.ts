// The command line: help text, flag definitions (meow) and their type. The entry point (cli.ts)
// parses with these; everything else imports only the type.
import type meow from 'meow';

export const help = `
  Usage
    $ fcflash-tui                          interactive terminal UI
    $ fcflash-tui flash FILE [options]     flash a .hex, .bin or .dfu file
    $ fcflash-tui inspect FILE [--json]    show what a firmware file contains
    $ fcflash-tui list [--json] [--watch]  list DFU boards and serial flight controllers
    $ fcflash-tui backup OUT.bin           read the whole main flash into OUT.bin (via OUT.bin.tmp)
    $ fcflash-tui dfu                      reboot a serial flight controller into DFU and show it
    $ fcflash-tui leave                    start the firmware of a board in DFU (no flashing)
    $ fcflash-tui settings backup          save a flight controller's settings (its CLI diff all)
    $ fcflash-tui settings restore FILE    replay a settings backup onto a flight controller
    $ fcflash-tui settings diff FILE       what differs between a backup and the flight controller
    $ fcflash-tui doctor [--json]          check USB access, udev rules, groups, ModemManager, brltty
    $ fcflash-tui udev-rules [--install]   print the udev rules (--install: write them, as root)

  Options
    --device ID          serial number, USB path or serial port (needed with several boards)
    --full-erase         flash: erase the whole chip (settings are lost) instead of the sectors the image uses
    --no-verify          flash: skip reading the flash back
    --no-reboot          flash, backup: do not reboot a serial flight controller into DFU
    --baud N             serial baud rate for the reboot sequence (default 115200)
    --address A          flash: load address of a .bin file (default 0x08000000)
    --yes, -y            flash, settings restore: do not ask before erasing or replacing the settings
    --json               newline-delimited JSON events and a final result object
    --watch              list: print attach/detach lines until Ctrl-C (exit 0)
    --install            udev-rules: write /etc/udev/rules.d/45-fcflash.rules and reload udev (root only)
    --simulate[=PROFILE] use the built-in emulated boards (stm32f405, stm32f411, stm32f722, stm32h743, at32f435)
    --simulate=P1,P2     one emulated board per entry; PROFILE:fc runs Betaflight on a serial port
    --simulate-arrival MS  entry k of --simulate appears k x MS after start (flash on connect)
    --simulate-state F   keep the emulated board's flash in file F between runs
    --no-keep-settings   flash: do not back up and restore a flight controller's settings
    --out FILE           settings backup: write the backup to FILE instead of the backup folder
    --on-connect         flash: flash every fitting board that is present or plugged in, several at once
    --count N            flash --on-connect: stop after N boards were tried (flashed or failed)
    --rewrite            flash: erase and write every sector the image touches (no read-back first)
    --wait S             flash: seconds to wait for the DFU board after the reboot (default 60)
    --unprotect          flash: lift read protection (wipes the whole chip) when the board is protected
    --force              flash: flash even when the image's MCU differs from the board's;
                         settings restore: restore a backup taken from another MCU
    --firmware PATH      TUI: folder to start the file picker in, or a file to preselect
    --verbose            trace USB requests on stderr
    --help, -h           print this help
    --version, -V        print the version

  JSON events (--json)
    progress  {"event":"progress","phase":P,"done":N,"total":N}; P is backup, reboot, wait, unprotect,
              compare, erase, write, verify, leave, firmware or restore, and "read" for backup OUT.bin;
              a phase the board does not count in bytes (mass erase, unprotect, waits) also carries
              "elapsedMs" and "expectedMs", at least once a second
    flash --on-connect  every event carries "boardId"; per board {"event":"board-result",...} or
              {"event":"board-skipped","boardId":ID,"reason":S}
    list --watch  {"event":"attach"|"detach","board":{...}} per change (the boards present at the
              start come as attach events), then the result object when stopped
    result    {"event":"result","ok":BOOL,...} is always the last line

  Exit codes
    0 ok (also a list --watch stopped with Ctrl-C, and doctor with no finding),
    1 flash/verify/device failure (and doctor with findings), 2 usage or bad input,
    3 no device or several, 4 permission denied (also udev-rules --install when not root),
    5 declined at the confirmation, 130 interrupted

  Examples
    $ fcflash-tui flash betaflight_4.5.1_STM32F405.hex --yes
    $ fcflash-tui flash fw.bin --address 0x08000000 --device /dev/ttyACM0 --json --yes
    $ fcflash-tui flash betaflight_4.5.6_STM32F405.hex --on-connect --count 10 --yes
    $ fcflash-tui inspect betaflight_4.5.1_STM32F405.hex --json
    $ fcflash-tui list --watch --json
    $ fcflash-tui backup f405-before-update.bin --device 3276364A3030
    $ fcflash-tui dfu --device /dev/ttyACM0
    $ fcflash-tui leave
    $ fcflash-tui settings backup --device /dev/ttyACM0
    $ fcflash-tui settings restore ~/.local/share/fcflash-tui/backups/<mcu id>/<file>.txt --yes
    $ fcflash-tui doctor
    $ fcflash-tui udev-rules | sudo tee /etc/udev/rules.d/45-fcflash.rules
    $ sudo fcflash-tui udev-rules --install
    $ fcflash-tui list --simulate
`;

export const cliFlags = {
	device: {type: 'string'},
	fullErase: {type: 'boolean', default: false},
	rewrite: {type: 'boolean', default: false},
	verify: {type: 'boolean', default: true},
	reboot: {type: 'boolean', default: true},
	baud: {type: 'number', default: 115200},
	address: {type: 'string'},
	yes: {type: 'boolean', shortFlag: 'y', default: false},
	json: {type: 'boolean', default: false},
	simulate: {type: 'string'},
	simulateState: {type: 'string'},
	simulateArrival: {type: 'number'},
	unprotect: {type: 'boolean', default: false},
	force: {type: 'boolean', default: false},
	onConnect: {type: 'boolean', default: false},
	keepSettings: {type: 'boolean', default: true},
	out: {type: 'string'},
	count: {type: 'number'},
	wait: {type: 'number'},
	firmware: {type: 'string'},
	verbose: {type: 'boolean', default: false},
	watch: {type: 'boolean', default: false},
	install: {type: 'boolean', default: false},
	help: {type: 'boolean', shortFlag: 'h', default: false},
	version: {type: 'boolean', shortFlag: 'V', default: false},
} as const;

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Every spelling a flag may be given in: --full-erase, --no-verify, -y... */
export function knownFlagNames(): Set<string> {
	const names = new Set<string>();
	for (const [name, spec] of Object.entries(cliFlags)) {
		names.add(name).add(kebab(name));
		if ('shortFlag' in spec) names.add(spec.shortFlag);
		if (spec.type === 'boolean') names.add(`no-${kebab(name)}`).add(`no${name[0]!.toUpperCase()}${name.slice(1)}`);
	}
	return names;
}

/**
 * The text the user typed for a flag (`--baud abc`, `--baud=abc`; the last one, as the parser takes
 * it), or undefined. meow turns a number flag's `abc` into NaN, so an error about a bad number
 * quotes this instead of the parsed value.
 */
export function typedValue(name: keyof typeof cliFlags, argv: readonly string[] = process.argv.slice(2)): string | undefined {
	const spellings = new Set([`--${name}`, `--${kebab(name)}`]);
	let value: string | undefined;
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i]!;
		if (arg === '--') break;
		const eq = arg.indexOf('=');
		if (eq > 0 && spellings.has(arg.slice(0, eq))) value = arg.slice(eq + 1);
		else if (spellings.has(arg) && i + 1 < argv.length && argv[i + 1] !== '--') value = argv[++i]!;
	}
	return value;
}

/** The closest known flag, for "did you mean". */
export function closestFlag(given: string): string | undefined {
	const distance = (a: string, b: string) => {
		const d = Array.from({length: a.length + 1}, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
		for (let j = 1; j <= b.length; j++) d[0]![j] = j;
		for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
		return d[a.length]![b.length]!;
	};
	let best: {name: string; d: number} | undefined;
	for (const name of Object.keys(cliFlags).map(kebab)) {
		const d = distance(given, name);
		if (!best || d < best.d) best = {name, d};
	}
	return best && best.d <= Math.max(2, Math.floor(given.length / 3)) ? best.name : undefined;
}

export type CliFlags = ReturnType<typeof meow<typeof cliFlags>>['flags'];
