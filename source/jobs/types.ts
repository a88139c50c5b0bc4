// The job layer's vocabulary. A job (flash, backup, leave, dfu, settings...) owns one policy from
// start to finish: which board, the lock, the target check, what needs a confirmation, signals, the
// log and the exit code. Front ends (the CLI reporters, the TUI hooks) only render a job's events
// and send the user's answers back; they decide nothing.
import type {ExitCodeValue} from '../errors.js';
import type {Board} from '../devices/types.js';
import type {FirmwareImage} from '../firmware/image.js';
import type {HintId} from '../hints.js';

export type JobKind = 'flash' | 'on-connect' | 'backup' | 'leave' | 'dfu' | 'settings-backup' | 'settings-restore' | 'settings-diff';

/**
 * Every phase a job can report, in the order a flash of a serial flight controller meets them.
 * The engine's own phases are compare, erase, write, verify and leave; the others belong to jobs.
 */
export type JobPhase =
	| 'backup' // settings: `diff all` over the flight controller's CLI
	| 'reboot' // asking the flight controller to reboot into its ROM bootloader
	| 'wait' // waiting for the DFU board to appear
	| 'unprotect' // read-unprotect: the chip mass-erases itself, resets and comes back
	| 'compare' // reading back the sectors the image touches (smart flash)
	| 'erase'
	| 'write'
	| 'verify'
	| 'leave' // starting the firmware
	| 'firmware' // waiting for the new firmware's serial port and identifying it
	| 'restore' // settings: replaying the backup
	| 'read'; // the backup command: reading the whole flash

export interface ProgressEvent {
	type: 'progress';
	phase: JobPhase;
	done: number;
	total: number;
	/** Bytes per second so far in this phase; 0 for phases that are not about bytes. */
	rate: number;
	/**
	 * For a phase whose progress the device does not report (mass erase, unprotect, waits): time
	 * spent so far and the time it is expected to take. At least one such event a second.
	 */
	elapsedMs?: number;
	expectedMs?: number;
}

export interface Warning {
	text: string;
	hint?: HintId;
}

/** What a confirmation shows before anything on the board changes. */
export interface ConfirmFacts {
	board: Board;
	file: string;
	image: FirmwareImage;
	/** "3 sectors, 384 KiB (0x08000000-0x0805FFFF); the rest is kept", "the WHOLE chip (1 MiB): settings are lost". */
	erase: string;
	/** What the job will do, in order: "reboot it into DFU", "write 640 KiB", "verify", "start the firmware". */
	steps: string[];
	/** Board-name mismatch, settings that will be reset...: shown, and repeated in the result. */
	warnings: Warning[];
	/** A board in DFU: the firmware found in its flash ("Betaflight 4.5.6, built for STM32F405"). */
	runs?: string;
	/**
	 * A board in DFU that runs another release than the image: the answer 'serial' starts its
	 * firmware and asks again for the board on its serial port, where its settings are kept.
	 */
	offersSerial?: boolean;
	/** The image is built for another MCU than the board's: set when the answer must be the word `force`. */
	mismatch?: string;
}

export type Question =
	/** Flash? `requires: 'force'` when the image's MCU differs from the board's (only the typed word counts). */
	| {id: number; kind: 'confirm'; facts: ConfirmFacts; requires: 'yes' | 'force'}
	/** The chip is read-protected: unprotecting wipes all of it. */
	| {id: number; kind: 'unprotect'; board: Board}
	/** The settings backup failed: flash without one (settings may be lost)? */
	| {id: number; kind: 'continue-without-backup'; reason: string}
	/** A settings restore onto a board whose MCU id differs from the backup's. */
	| {id: number; kind: 'restore-other-board'; backupMcuId: string; boardMcuId: string}
	/** settings restore: replace the flight controller's settings with the file's? */
	| {id: number; kind: 'confirm-restore'; file: string; board: Board}
	/** Flash on connect: flash this image onto every fitting board that is plugged in? */
	| {id: number; kind: 'confirm-fleet'; file: string; image: FirmwareImage; count?: number};

/**
 * 'force' is the typed word; it also counts as yes where only yes is asked. 'serial' answers a
 * confirmation that `offersSerial`: start the firmware and ask again from the serial port.
 */
export type Reply = 'yes' | 'no' | 'force' | 'serial';

export type JobEvent =
	/** The phases this job will go through, as soon as they are known (sent again if they change). */
	| {type: 'phases'; phases: JobPhase[]}
	/** The board the job acts on; sent again when it changes identity (a serial FC now in DFU). */
	| {type: 'board'; board: Board}
	| ProgressEvent
	| {type: 'info'; text: string}
	| {type: 'warning'; warning: Warning}
	| {type: 'question'; question: Question}
	/** A question was settled without an answer from this front end (the job stopped, timed out). */
	| {type: 'question-closed'; id: number}
	/** Flash on connect: an event of one board's own flash job (its result is that board's result). */
	| {type: 'fleet'; boardId: string; board: Board; event: JobEvent}
	/** Flash on connect: a board that was seen and not flashed, and why (wrong target, already flashed...). */
	| {type: 'board-skipped'; boardId: string; board: Board; reason: string}
	/** Always the last event. */
	| {type: 'result'; result: JobResult};

export interface JobError {
	code: ExitCodeValue;
	message: string;
	hint: string | null;
	hintId: HintId | null;
}

export interface JobResult<Data = unknown> {
	kind: JobKind;
	ok: boolean;
	exitCode: ExitCodeValue;
	/** The CONTRACT.md JSON fields of the result object (without `event`, `ok` and `error`). */
	fields: Record<string, unknown>;
	/** The CLI's plain-text summary; the TUI renders `data`. */
	summary: string;
	error?: JobError;
	/** Typed details for the TUI (see each job's module). */
	data?: Data;
	/** Ended by stop() (Ctrl-C, q): exit 130. */
	cancelled: boolean;
}

export interface Job<Data = unknown> {
	readonly kind: JobKind;
	/** Answer an open question (ignored when it is no longer open). */
	answer(id: number, reply: Reply): void;
	/**
	 * Ctrl-C, SIGTERM, q then y: stop at the next block boundary (before starting: at once). Flash on
	 * connect: the first call stops taking new boards and lets running flashes finish, the second
	 * stops those too.
	 */
	stop(): void;
	/** SIGHUP: the terminal is gone. The job runs to its end (never stops mid-write) and logs its result. */
	hangup(): void;
	/** Resolves with the result (never rejects), after the result event. */
	readonly done: Promise<JobResult<Data>>;
}

/** How a front end can answer questions: the policy differs only by what it can ask. */
export type Interaction =
	/** No questions at all (scripts, --yes, no terminal): a needed confirmation is a usage error. */
	| 'none'
	/** y/N on a terminal (the CLI): a wrong target still needs --force. */
	| 'confirm'
	/** Every question (the TUI): a wrong target needs the typed word `force`. */
	| 'full';

export type JobListener = (event: JobEvent) => void;

/** What every job is given by its front end. */
export interface JobContext {
	/** The boards: real USB and serial, or the emulated ones (--simulate). Shared with the TUI's list. */
	source: import('../devices/types.js').BoardSource;
	interaction: Interaction;
	/** --verbose: one line per USB request. */
	trace?: import('../dfu/transfer.js').Tracer;
}

/** Which board: the TUI passes the one the user chose; the CLI passes --device (or nothing). */
export interface BoardChoice {
	board?: Board;
	/** Serial number, USB path or serial port (--device). */
	device?: string;
}

export interface FlashRequest extends BoardChoice {
	/** A file to load (CLI), or an image already loaded (TUI). */
	file?: string;
	image?: FirmwareImage;
	/** .bin load address (already parsed with parseAddress). */
	address?: number;
	fullErase?: boolean;
	verify?: boolean;
	/** Reboot a serial flight controller into DFU (default true). */
	reboot?: boolean;
	baud?: number;
	/** --yes: no confirmation. */
	yes?: boolean;
	/** --force: flash an image built for another MCU. */
	force?: boolean;
	/** --unprotect: lift read protection (wipes the chip) without asking. */
	unprotect?: boolean;
	/** --rewrite: erase and write every touched sector (no read-back first). */
	rewrite?: boolean;
	/** Back up and restore the settings of a serial flight controller (default true). */
	keepSettings?: boolean;
	/** How long to wait for the DFU board after the reboot attempts (--wait, default 60 s). */
	waitMs?: number;
}

export interface BackupRequest extends BoardChoice {
	/** Output file; written through OUT.tmp, never over an existing file. */
	out: string;
	reboot?: boolean;
	baud?: number;
}

export interface LeaveRequest extends BoardChoice {}

export interface DfuRequest extends BoardChoice {
	baud?: number;
}

/** Each job module exports one of these: `startFlashJob` (jobs/flash-job.ts), `startBackupJob`
 * (jobs/backup-job.ts), `startLeaveJob` (jobs/leave-job.ts), `startDfuJob` (jobs/dfu-job.ts). The job
 * starts on the next tick, so the listener sees every event. */
export type StartJob<Request, Data> = (context: JobContext, request: Request, listener: JobListener) => Job<Data>;

/** What the board holds after a job that did not finish: the next step depends on it. */
export type BoardState =
	| 'untouched' // nothing was erased or written
	| 'in-dfu' // rebooted into its ROM bootloader, flash untouched
	| 'partly-written' // erased or partly written: flash again (the ROM bootloader is still there)
	| 'written' // the image is on the flash (verified or not) but it was not started
	| 'running'; // back on its firmware

export interface FlashReport {
	/** The board as chosen (a serial flight controller keeps its identity here). */
	board: Board;
	/** The board in DFU that was flashed, once known. */
	dfu?: Board;
	/** Its firmware's serial port after the flash, when it was found. */
	back?: Board;
	erase?: {mode: 'sectors' | 'mass' | 'sectors-fallback'; sectors: number; bytes: number; unchanged: number; blank: number};
	written?: number;
	skipped?: number;
	/** Image bytes the flash already held: not sent (smart flash). */
	kept?: number;
	verified?: boolean;
	/** The firmware was started (leave accepted and the board left DFU). */
	left?: boolean;
	/** H7 stuck-busy recoveries that were checked and held. */
	recoveries?: number;
	durationMs: number;
	/** Shown on the confirmation and repeated with the result (board name differs, settings reset...). */
	warnings: Warning[];
	/** null when the board had no firmware to read settings from (it was in DFU). */
	settings?: {backup: string | null; restored: boolean; applied: number; rejected: {line: string; message: string}[]; remaining: string[]} | null;
	/** What runs after the flash; null when the board was not a serial flight controller. */
	firmware?: {variant?: string; version?: string; target?: string; matchesImage: boolean} | null;
	boardState: BoardState;
}

export interface BackupReport {
	board: Board;
	file?: string;
	address?: number;
	bytes?: number;
	sha256?: string;
	durationMs: number;
	boardState: BoardState;
}

export interface LeaveReport {
	board: Board;
	address?: number;
	/** The board was not in DFU: nothing to do. */
	alreadyRunning: boolean;
	boardState: BoardState;
}

export interface DfuReport {
	board: Board;
	dfu?: Board;
	alreadyInDfu: boolean;
	boardState: BoardState;
}

export interface OnConnectRequest extends Omit<FlashRequest, 'board' | 'device' | 'force'> {
	/** Stop after this many boards were tried (flashed or failed; skipped ones do not count). */
	count?: number;
	/** Refused with on-connect (exit 2): a bench never force-flashes boards it has not seen. */
	force?: boolean;
}

export interface FleetBoard {
	boardId: string;
	board: Board;
	state: 'running' | 'ok' | 'failed' | 'skipped';
	reason?: string;
	result?: JobResult<FlashReport>;
}

export interface FleetReport {
	boards: FleetBoard[];
	tried: number;
}
