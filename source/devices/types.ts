// What a board source reports and what the CLI and TUI choose from. No React, no USB here.
import type {DfuUsbDevice} from '../dfu/webusb.js';
import type {HintId} from '../hints.js';
import type {Link} from './serial-link.js';

export interface FlightControllerInfo {
	/** MSP FC_VARIANT: BTFL, INAV, CLFL, EMUF. */
	variant?: string;
	version?: string;
	apiVersion?: string;
	/** MSP_BOARD_INFO board identifier / target name. */
	board?: string;
	target?: string;
	/** MSP_BOARD_INFO board name (unified targets), e.g. "SPEEDYBEEF405V3". */
	boardName?: string;
	/** MSP_UID as the CLI's `mcu_id` prints it: 24 hex digits. Names the backup folder. */
	mcuId?: string;
	/** MSP_BUILD_INFO's git revision (7 characters of the short hash). */
	revision?: string;
}

export interface BoardBase {
	/** Stable id for --device: serial number when known, else USB path or serial port. */
	id: string;
	vendorId: number;
	productId: number;
	/** e.g. "STM32 ROM bootloader", "STM32 virtual COM port". */
	name: string;
	serialNumber?: string;
	/** USB bus path like "1-1.2" (or "sim:0" for an emulated board). */
	usbPath?: string;
	simulated?: boolean;
	/** Why it cannot be used (permission, driver); listed rather than hidden. */
	problem?: {message: string; hint: HintId};
}

export interface DfuBoard extends BoardBase {
	kind: 'dfu';
	/** From the layout strings: "STM32F405/F407 (1 MiB)". */
	chip?: string;
	/** "STM32F4", "STM32F7"...: for the target check (dfu/chip.ts). */
	chipFamily?: string;
	/** The MCU parts the layouts fit (F405, F7X2...). */
	chipParts?: string[];
	flashSize?: number;
	/** Bootloader version from bcdDevice, e.g. "2.2". */
	bootloader?: string;
	/** Alt 0's layout string (the main flash). */
	layout?: string;
	/** Every alternate setting's layout string, alt 0 first. */
	layouts?: string[];
}

export interface SerialBoard extends BoardBase {
	kind: 'serial';
	port: string;
	fc?: FlightControllerInfo;
}

export type Board = DfuBoard | SerialBoard;

export interface BoardSource {
	/** The current boards (DFU first). */
	list(): Promise<Board[]>;
	/** A USBDevice-shaped handle for a DFU board. */
	openDfu(board: DfuBoard): Promise<DfuUsbDevice>;
	/** Reboot a serial FC into its ROM bootloader; resolves once the request was sent. */
	rebootToDfu?(board: SerialBoard, options?: {baud?: number; onInfo?: (line: string) => void}): Promise<void>;
	/** Identify a serial FC over MSP (short timeout). */
	identify?(board: SerialBoard): Promise<FlightControllerInfo | undefined>;
	/**
	 * Open a byte link to a serial FC (MSP, its CLI): the real port, or an emulated board in-process.
	 * The caller closes it; a reboot of the FC closes it from the other end.
	 */
	openLink?(board: SerialBoard, options?: {baud?: number}): Promise<Link>;
	/** Called with the whole list on every change; returns an unsubscribe function. */
	watch?(onChange: (boards: Board[]) => void): () => void;
	close?(): Promise<void>;
	/** Simulated boards: persist the emulated flash (--simulate-state). */
	saveState?(): Promise<void>;
}
