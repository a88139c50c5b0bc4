// What the app is given from outside (board source, firmware loader, flash engine) and the state
// it moves through. Tests pass fakes for these services; tui.ts passes the real ones.
import type {Board, BoardSource} from '../devices/types.js';
import type {FirmwareImage} from '../firmware/image.js';
import type {Progress} from '../dfu/flash.js';
import type {FlashReport} from '../jobs/types.js';

/** The old callback-style flash interface, bridged to the flash job in tui.ts (the TUI is moving to job events). */
export interface FlashJobOptions {
	fullErase?: boolean;
	verify?: boolean;
	reboot?: boolean;
	baud?: number;
	unprotect?: boolean;
	signal?: AbortSignal;
	onProgress?: (p: Progress) => void;
	onInfo?: (line: string) => void;
	confirm?: () => Promise<boolean>;
}
export type FlashJobResult = FlashReport & {erase: NonNullable<FlashReport['erase']>; written: number; skipped: number; verified: boolean; left: boolean};
import type {HintId} from '../hints.js';

export interface TuiServices {
	/** Called after the first frame: real USB and serial modules load here, not before. */
	openSource(): Promise<BoardSource>;
	loadImage(path: string, options: {address?: number}): Promise<FirmwareImage>;
	runJob(source: BoardSource, board: Board, image: FirmwareImage, options: FlashJobOptions): Promise<FlashJobResult>;
	/** Per-board lock so two processes never flash the same board; returns the release function. */
	lock?(board: {id: string; simulated?: boolean}): () => void;
	/** A flash finished after the terminal was lost (SIGHUP): write its result somewhere. */
	logAfterHangup?(line: string): void;
}

export interface TuiSettings {
	/** Folder the file picker starts in. */
	startDir: string;
	/** File to preselect in the picker (Enter accepts it). */
	preselect?: string;
	/** Why --firmware could not be used, shown on the picker. */
	firmwareNote?: string;
	fullErase: boolean;
	verify: boolean;
	reboot: boolean;
	baud: number;
	/** .bin load address as typed (hex). */
	address?: string;
}

export type Screen = 'devices' | 'firmware' | 'options' | 'confirm' | 'unprotect' | 'flashing' | 'result' | 'hints';

export interface FlashChoices {
	fullErase: boolean;
	verify: boolean;
	/** Send the reboot-into-DFU sequence to a serial FC. */
	reboot: boolean;
	baud: number;
	/** .bin only: load address text, e.g. 0x08000000. */
	address: string;
}

export type Outcome =
	| {ok: true; result: FlashJobResult}
	| {ok: false; message: string; hint?: HintId; exitCode: number; cancelled: boolean};

export const defaultBinAddress = '0x08000000';
