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
    $ fcflash-tui doctor [--json]          check USB access, udev rules, groups, ModemManager, brltty
    $ fcflash-tui udev-rules [--install]   print the udev rules (--install: write them, as root)

  Options
    --device ID          serial number, USB path or serial port (needed with several boards)
    --full-erase         flash: erase the whole chip (settings are lost) instead of the sectors the image uses
    --rewrite            flash: erase and write every sector the image touches, without reading it back first
    --no-verify          flash: skip reading the flash back
    --no-reboot          flash, backup: do not reboot a serial flight controller into DFU
    --baud N             serial baud rate for the reboot sequence (default 115200)
    --address A          flash: load address of a .bin file (default 0x08000000)
    --yes, -y            flash: do not ask before erasing
    --json               newline-delimited JSON events and a final result object
    --watch              list: print attach/detach lines until Ctrl-C (exit 0)
    --install            udev-rules: write /etc/udev/rules.d/45-fcflash.rules and reload udev (root only)
    --simulate[=PROFILE] use the built-in emulated boards (stm32f405, stm32f411, stm32f722, stm32h743, at32f435)
    --simulate-state F   keep the emulated board's flash in file F between runs
    --unprotect          flash: lift read protection (wipes the whole chip) when the board is protected
    --force              flash: flash even when the image's target differs from the board's
    --firmware PATH      TUI: folder to start the file picker in, or a file to preselect
    --verbose            trace USB requests on stderr
    --version            print the version

  JSON events (--json)
    progress  {"event":"progress","phase":P,"done":N,"total":N}; P is reboot, wait, compare, erase,
              write, verify or leave, and "read" for backup
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
    $ fcflash-tui inspect betaflight_4.5.1_STM32F405.hex --json
    $ fcflash-tui list --watch --json
    $ fcflash-tui backup f405-before-update.bin --device 3276364A3030
    $ fcflash-tui dfu --device /dev/ttyACM0
    $ fcflash-tui leave
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
	unprotect: {type: 'boolean', default: false},
	force: {type: 'boolean', default: false},
	firmware: {type: 'string'},
	verbose: {type: 'boolean', default: false},
	watch: {type: 'boolean', default: false},
	install: {type: 'boolean', default: false},
} as const;

export type CliFlags = ReturnType<typeof meow<typeof cliFlags>>['flags'];
