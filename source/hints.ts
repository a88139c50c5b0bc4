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
	| 'target-mismatch'
	| 'several-devices'
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
	'several-devices': {
		title: 'Several boards connected',
		text: 'Pass --device with one of the ids listed above (serial number, USB path or serial port), or unplug the boards you do not want to flash.',
	},
	'target-mismatch': {
		title: 'Firmware target differs from the board',
		text: 'The image was built for another target than the board reports. Pick the right file, or pass --force if you are sure.',
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
