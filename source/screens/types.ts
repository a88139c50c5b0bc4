// What the app is given from outside: the board source, the firmware loader and the job layer.
// Tests pass fakes; tui.ts passes the real ones. The TUI decides no policy: every flash, backup and
// leave is a job (jobs/types.ts) whose events it renders and whose questions it answers.
import type {Board, BoardSource} from '../devices/types.js';
import type {FirmwareImage} from '../firmware/image.js';
import type {BackupReport, BackupRequest, BoardChoice, FlashReport, FlashRequest, FleetReport, LeaveReport, LeaveRequest, OnConnectRequest, StartJob} from '../jobs/types.js';

/** The job kinds the TUI starts, and the start function of each (absent: not available yet). */
export interface JobStarters {
	flash: StartJob<FlashRequest, FlashReport>;
	backup: StartJob<BackupRequest, BackupReport>;
	leave: StartJob<LeaveRequest, LeaveReport>;
	'settings-backup': StartJob<BoardChoice, unknown>;
	/** Flash on connect: every fitting board that is plugged in or appears. */
	'on-connect': StartJob<OnConnectRequest, FleetReport>;
}

export type TuiJobKind = keyof JobStarters;

export interface TuiServices {
	/** Called after the first frame: real USB and serial modules load here, not before. */
	openSource(): Promise<BoardSource>;
	loadImage(path: string, options: {address?: number}): Promise<FirmwareImage>;
	/** The job layer. A kind that is missing is shown as not available. */
	jobs: Partial<JobStarters>;
	/** Where a flash backup of this board goes unless the user types another path. */
	backupPath(board: Board): string;
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
	/** Back up and restore a flight controller's settings (default on). */
	keepSettings?: boolean;
	/** .bin load address as typed (hex). */
	address?: string;
}

export interface FlashChoices {
	fullErase: boolean;
	verify: boolean;
	/** Send the reboot-into-DFU sequence to a serial FC. */
	reboot: boolean;
	baud: number;
	/** A serial flight controller: back up its settings before the flash and restore them after. */
	keepSettings: boolean;
	/** .bin only: load address text, e.g. 0x08000000. */
	address: string;
}

export const defaultBinAddress = '0x08000000';

export interface TerminalSize {
	columns: number;
	rows: number;
}

/** The smallest terminal every screen fits; below it the app says so. */
export const minimumSize: TerminalSize = {columns: 60, rows: 20};
