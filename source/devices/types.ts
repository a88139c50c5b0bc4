// What a board source reports and what the CLI and TUI choose from. No React, no USB here.
import type {DfuUsbDevice} from '../dfu/webusb.js';
import type {HintId} from '../hints.js';

export interface FlightControllerInfo {
	/** MSP FC_VARIANT: BTFL, INAV, CLFL, EMUF. */
	variant?: string;
	version?: string;
	apiVersion?: string;
	/** MSP_BOARD_INFO board identifier / target name. */
	board?: string;
	target?: string;
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
	/** From the layout string: "STM32F405/F407 (1 MiB)". */
	chip?: string;
	flashSize?: number;
	/** Bootloader version from bcdDevice, e.g. "2.2". */
	bootloader?: string;
	layout?: string;
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
	/** Called with the whole list on every change; returns an unsubscribe function. */
	watch?(onChange: (boards: Board[]) => void): () => void;
	close?(): Promise<void>;
	/** Simulated boards: persist the emulated flash (--simulate-state). */
	saveState?(): Promise<void>;
}
