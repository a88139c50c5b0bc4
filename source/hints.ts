// The troubleshooting texts, keyed by id. Errors name an id; the CLI prints the text on stderr and
// the TUI's hints screen shows it first, then the general list.
export type HintId =
	| 'udev'
	| 'plugdev'
	| 'zadig'
	| 'busy'
	| 'device-gone'
	| 'no-device'
	| 'cable'
	| 'modemmanager'
	| 'brltty'
	| 'receiver-uart'
	| 'boot-button'
	| 'read-protect'
	| 'bad-file'
	| 'image-fit'
	| 'verify-failed'
	| 'dialout'
	| 'no-dfu-after-reboot'
	| 'interrupted'
	| 'interrupted-nothing-written'
	| 'target-mismatch'
	| 'several-devices'
	| 'device-id'
	| 'not-in-dfu'
	| 'already-in-dfu'
	| 'uart-bridge'
	| 'no-file'
	| 'address-option'
	| 'flash-failed'
	| 'backup-exists'
	| 'confirm-needed'
	| 'cli-no-prompt'
	| 'fc-port-gone'
	| 'cli-garbage'
	| 'backup-folder'
	| 'settings-file'
	| 'settings-variant'
	| 'restore-other-board'
	| 'restore-interrupted'
	| 'no-firmware'
	| 'wrong-firmware'
	| 'settings-rejected'
	| 'stuck-busy'
	| 'bad-descriptor'
	| 'still-in-dfu'
	| 'unstable-read'
	| 'usb-error';

export interface Hint {
	title: string;
	text: string;
}

export const hints: Record<HintId, Hint> = {
	udev: {
		title: 'USB permission (udev rule + plugdev group)',
		text:
			'Linux needs a udev rule to let your user open the DFU device. Run `fcflash-tui udev-rules` and install it:\n' +
			'  fcflash-tui udev-rules | sudo tee /etc/udev/rules.d/45-fcflash.rules\n' +
			'  sudo udevadm control --reload-rules && sudo udevadm trigger\n' +
			'then add yourself to plugdev: sudo usermod -a -G plugdev $USER (log out and in again), and replug the board.',
	},
	plugdev: {
		title: 'Not in the plugdev group',
		text: 'sudo usermod -a -G plugdev $USER, then log out and in again (a new SSH session is enough).',
	},
	dialout: {
		title: 'Serial port permission (dialout group)',
		text: 'Serial ports (/dev/ttyACM*) belong to dialout: sudo usermod -a -G dialout $USER, then log in again.',
	},
	zadig: {
		title: 'Windows: WinUSB driver via Zadig',
		text: 'Open Zadig, Options > List All Devices, pick "STM32 BOOTLOADER", choose WinUSB and press Replace Driver. Then replug the board.',
	},
	busy: {
		title: 'Device busy',
		text: 'Another program holds the board (a Configurator, dfu-util, another fcflash-tui). Close it and try again.',
	},
	'device-gone': {
		title: 'Board disconnected',
		text: 'The board left mid-way. It is still in its ROM bootloader (the bootloader cannot be erased): replug it if needed and simply flash again.',
	},
	'no-device': {
		title: 'No board found',
		text:
			'Nothing that looks like a flight controller is connected. Check the cable carries data (many are charging-only: try it with a phone), ' +
			'or hold the BOOT button while plugging the board in to force the ROM bootloader.',
	},
	cable: {
		title: 'Charging-only cable',
		text: 'If the board lights up but the computer sees nothing, the cable has only power pins. Use a data cable.',
	},
	modemmanager: {
		title: 'ModemManager grabbing the serial port',
		text:
			'If the serial port appears and vanishes, ModemManager is probing it as a modem: sudo systemctl stop ModemManager.service ' +
			'(or install the udev rules from `fcflash-tui udev-rules`, which set ID_MM_DEVICE_IGNORE).',
	},
	brltty: {
		title: 'brltty claiming CH340/CP210x ports',
		text: 'brltty (braille display support) grabs USB-serial bridges: sudo apt remove brltty if you do not need it.',
	},
	'receiver-uart': {
		title: 'Receiver on a UART',
		text: 'The ROM bootloader also listens on UART1/3: a powered receiver can keep it from entering DFU or make it drop out. Unplug the receiver.',
	},
	'boot-button': {
		title: 'Blank or unresponsive board',
		text: 'Hold the BOOT button (or bridge the BOOT pads) while plugging USB in: the board starts in its ROM bootloader (DFU).',
	},
	'read-protect': {
		title: 'Read protection (RDP)',
		text:
			'The chip is read-protected, so it refuses erase and write. Unprotecting wipes the whole chip and resets it: ' +
			'run again with --unprotect (or confirm it in the TUI), replug if needed, then flash.',
	},
	'bad-file': {
		title: 'Firmware file rejected',
		text: 'The file is damaged or not a firmware image. Download it again (.hex for Betaflight/INAV) and check it is for your board.',
	},
	'image-fit': {
		title: 'Image does not fit this board',
		text: 'The image covers addresses this chip cannot write. It is probably built for another target (check the target name). Nothing was erased.',
	},
	'verify-failed': {
		title: 'Verification failed',
		text: 'The flash does not read back what was written. Flash again with Full chip erase; if it repeats, the chip may be a damaged or protected clone.',
	},
	'no-dfu-after-reboot': {
		title: 'No DFU board after the reboot',
		text:
			'The flight controller rebooted but no DFU device appeared: check the cable, unplug a receiver powered on a UART, ' +
			'stop ModemManager, or hold BOOT while plugging in.',
	},
	interrupted: {
		title: 'Interrupted',
		text: 'Flashing stopped at a block boundary. The board is still in its ROM bootloader: flash again to finish.',
	},
	'interrupted-nothing-written': {
		title: 'Interrupted before anything was written',
		text: 'Nothing was written: the board\'s flash and settings are as they were. Start again when you are ready.',
	},
	'several-devices': {
		title: 'Several boards connected',
		text: 'Pass --device with one of the ids listed above (serial number, USB path or serial port), or unplug the boards you do not want to flash.',
	},
	'target-mismatch': {
		title: 'Firmware target differs from the board',
		text: 'The image was built for another target than the board reports. Pick the right file, or pass --force if you are sure.',
	},
	'device-id': {
		title: 'No board with that id',
		text: 'The boards connected are listed above with their ids (serial number, USB path such as 1-1.2, or serial port such as /dev/ttyACM0): pass one of them with --device, or run fcflash-tui list.',
	},
	'not-in-dfu': {
		title: 'The board runs its firmware',
		text: 'Nothing to do for a board that is not in DFU. To put it there: fcflash-tui dfu (reboots it over USB serial), or hold BOOT while plugging it in.',
	},
	'already-in-dfu': {
		title: 'Already in DFU',
		text: 'The boards connected are in their ROM bootloader already: flash them directly, or start their firmware with fcflash-tui leave.',
	},
	'uart-bridge': {
		title: 'USB-UART bridge: no USB DFU',
		text:
			'This port is a USB-UART adapter (CP210x, CH340, FTDI) wired to one of the board\'s UARTs, not the board\'s own USB. DFU needs the flight controller\'s USB socket: ' +
			'plug the board in directly (hold BOOT if it has no firmware).',
	},
	'no-file': {
		title: 'File not found',
		text: 'Check the path (tab completion helps) and that the download finished. Firmware files are .hex (Betaflight, INAV), .bin or .dfu.',
	},
	'address-option': {
		title: 'Load address',
		text: 'Only a raw .bin needs an address (--address 0x08000000 for STM32 main flash). A .hex or .dfu carries its own addresses: drop --address.',
	},
	'flash-failed': {
		title: 'The chip refused to erase or program',
		text:
			'The board is still in its ROM bootloader (it cannot be erased), so flashing again is safe. Try Full chip erase; ' +
			'if it fails at the same address again, the flash may be worn or the chip a protected clone.',
	},
	'backup-exists': {
		title: 'File exists',
		text: 'A backup is never written over an existing file: choose another name, or move the old file away first.',
	},
	'confirm-needed': {
		title: 'Confirmation needed',
		text: 'Flashing erases the board. In a script, pass --yes to confirm; on a terminal, answer y at the prompt.',
	},
	'cli-no-prompt': {
		title: 'The flight controller CLI does not answer',
		text:
			'Close any Configurator or terminal that has the port open, unplug the board and plug it in again, then retry. ' +
			'A firmware without a CLI cannot have its settings kept: flash with --no-keep-settings and set it up again.',
	},
	'fc-port-gone': {
		title: 'Flight controller port vanished',
		text: 'The serial port went away (unplugged, rebooted, loose cable). Plug the board back in and run the command again; nothing is written to a file half-way.',
	},
	'cli-garbage': {
		title: 'Not a CLI answer',
		text: 'The port sent binary data instead of CLI text: another program is talking MSP on it, or a USB-UART bridge runs at another baud rate (--baud). Close other programs and retry.',
	},
	'backup-folder': {
		title: 'Settings backup folder not writable',
		text:
			'Backups go to $XDG_DATA_HOME/fcflash-tui/backups (~/.local/share/... by default). Fix the folder (ls -ld it; it should belong to you), ' +
			'or pass --out FILE for another place. Nothing on the board was changed.',
	},
	'settings-file': {
		title: 'Not a settings backup',
		text: 'A settings file is the text of the CLI command `diff all` (what `fcflash-tui settings backup` writes, or a Configurator CLI backup). Check you picked the right file.',
	},
	'settings-variant': {
		title: 'Backup of another firmware',
		text: 'Betaflight and INAV settings have different names and meanings: a backup of one is never replayed into the other. Set the board up by hand, or flash the firmware the backup came from.',
	},
	'restore-other-board': {
		title: 'Backup from another board',
		text: 'The backup carries another MCU id (mcu_id) than this board. If you really mean to copy settings between boards, run again with --force; pin assignments may not fit.',
	},
	'restore-interrupted': {
		title: 'Settings restore interrupted',
		text:
			'A restore keeps nothing until its final `save`, so the board is on the settings it had before (its defaults after an upgrade). ' +
			'Reconnect the board and run `fcflash-tui settings restore FILE` to replay the whole file.',
	},
	'no-firmware': {
		title: 'The new firmware did not come back',
		text:
			'The image was written and verified, but the flight controller\'s serial port did not appear after the start. Unplug and plug the board in again (without BOOT); ' +
			'if it comes back in DFU, the image may not be for this board. A blank-looking board can always be flashed again in DFU.',
	},
	'wrong-firmware': {
		title: 'The board runs something else',
		text: 'After the flash the board reports another firmware, version or target than the image: check the file is the one you meant and flash again.',
	},
	'settings-rejected': {
		title: 'Settings the new firmware refused',
		text:
			'An upgrade can rename or remove settings (4.5\'s d_min_* is d_max_* in 2025.12 and later). Check each refused line in the Configurator; ' +
			'the full backup is kept in the file named above.',
	},
	'stuck-busy': {
		title: 'Board stuck busy',
		text:
			'The bootloader kept saying it was busy and never finished. Unplug the board, hold BOOT while plugging it in again, and flash again; ' +
			'if it repeats, try Full chip erase.',
	},
	'bad-descriptor': {
		title: 'Bootloader descriptors not usable',
		text:
			'The board describes itself in a way fcflash-tui cannot flash safely (transfer size, memory layout or DFU descriptor). ' +
			'It may be a clone with a modified bootloader: check it is the chip\'s ROM bootloader (hold BOOT while plugging in), or use the vendor\'s tool.',
	},
	'still-in-dfu': {
		title: 'Board still in DFU',
		text:
			'The board did not start its firmware and is still in its ROM bootloader. Start it with `fcflash-tui leave`, ' +
			'or unplug it and plug it in again without holding BOOT.',
	},
	'unstable-read': {
		title: 'Unreliable reads',
		text: 'The same flash read back differently each time. Try another cable and another USB port (not a hub), then read again.',
	},
	'usb-error': {
		title: 'USB error',
		text: 'libusb could not talk to the board. Unplug it, plug it into another USB port (not a hub) with a data cable, and try again.',
	},
};

/** The general list shown after the context hint. */
export const generalHints: HintId[] = ['cable', 'udev', 'modemmanager', 'brltty', 'zadig', 'receiver-uart', 'boot-button'];

/**
 * The same advice for the terminal UI, where it differs: the TUI has keys and screens, not flags.
 * Only the hints whose general text names a command-line flag (or a step the TUI does by a key).
 */
export const tuiHints: Partial<Record<HintId, Hint>> = {
	'read-protect': {
		title: hints['read-protect'].title,
		text: 'The chip is read-protected, so it refuses erase and write. Unprotecting wipes the whole chip and resets it: answer y on the "Read-protected chip" screen, replug if needed, then flash.',
	},
	'several-devices': {
		title: hints['several-devices'].title,
		text: 'Choose the board to flash on the device list (Up/Down, Enter), or unplug the boards you do not want to flash.',
	},
	'target-mismatch': {
		title: hints['target-mismatch'].title,
		text: 'The image was built for another target than the board reports. Pick the right file; only if you are sure, type force and press Enter on the confirmation.',
	},
	'device-id': {
		title: hints['device-id'].title,
		text: 'The board is not connected as it was listed any more: go back to the device list (it updates by itself) and choose it again.',
	},
	'not-in-dfu': {
		title: hints['not-in-dfu'].title,
		text: 'Nothing to do for a board that is not in DFU. Flashing it from the device list reboots it into DFU first; or hold BOOT while plugging it in.',
	},
	'already-in-dfu': {
		title: hints['already-in-dfu'].title,
		text: 'The board is in its ROM bootloader already: flash it directly, or press s on the device list to start its firmware.',
	},
	'address-option': {
		title: hints['address-option'].title,
		text: 'Only a raw .bin needs a load address (0x08000000 for STM32 main flash): set it on the Options screen. A .hex or .dfu carries its own addresses.',
	},
	'confirm-needed': {
		title: hints['confirm-needed'].title,
		text: 'Flashing erases the board: press y on the confirmation screen to go ahead.',
	},
	'cli-no-prompt': {
		title: hints['cli-no-prompt'].title,
		text:
			'Close any Configurator or terminal that has the port open, unplug the board and plug it in again, then retry. ' +
			'A firmware without a CLI cannot have its settings kept: turn "Keep settings" off on the Options screen and set it up again afterwards.',
	},
	'cli-garbage': {
		title: hints['cli-garbage'].title,
		text: 'The port sent binary data instead of CLI text: another program (a Configurator) is talking MSP on it, or it is a USB-UART bridge rather than the board\'s own USB. Close other programs and retry.',
	},
	'backup-folder': {
		title: hints['backup-folder'].title,
		text:
			'Backups go to $XDG_DATA_HOME/fcflash-tui/backups (~/.local/share/... by default). Fix the folder (ls -ld it; it should belong to you), ' +
			'or start fcflash-tui with XDG_DATA_HOME pointing to another place. Nothing on the board was changed.',
	},
	'restore-other-board': {
		title: hints['restore-other-board'].title,
		text: 'The backup carries another MCU id (mcu_id) than this board. Only if you really mean to copy settings between boards, type force and press Enter; pin assignments may not fit.',
	},
	'still-in-dfu': {
		title: hints['still-in-dfu'].title,
		text: 'The board did not start its firmware and is still in its ROM bootloader. Press s on the device list to start it, or unplug it and plug it in again without holding BOOT.',
	},
};

/** A hint as the terminal UI says it. */
export const tuiHint = (id: HintId): Hint => tuiHints[id] ?? hints[id];
