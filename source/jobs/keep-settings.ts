// The parts of a flash that keep a pilot's quad as it was: back up the settings over the flight
// controller's CLI and reboot it into DFU from there (one reboot, not two); after the flash, wait
// for its serial port to come back, prove it runs the flashed firmware, and restore the settings.
import {existsSync} from 'node:fs';
import {CliSession} from '../devices/fc-cli.js';
import type {Link} from '../devices/serial-link.js';
import type {Board, BoardSource, SerialBoard} from '../devices/types.js';
import {BackupWriteError, CancelledError, ExitCode, FcflashError, errorText, type ExitCodeValue} from '../errors.js';
import type {FirmwareImage} from '../firmware/image.js';
import {backupSettings, type BackupResult} from '../settings/backup.js';
import {variantOfFlavour} from '../settings/diff-text.js';
import {checkRunningFirmware} from '../settings/firmware-check.js';
import {matchReturnedPort, type PortBefore} from '../settings/port-return.js';
import {restoreSettings, type RestoreReport} from '../settings/restore.js';
import {backupsRoot} from '../settings/store.js';
import {sleep} from '../sleep.js';
import type {JobRun} from './job.js';

/** After leave, a flight controller's port comes back within a few seconds; peers give up after 10-15. */
export const firmwareWaitMs = 15_000;

const withoutBackup = 'flash without keeping the settings (--no-keep-settings; TUI: turn "Keep settings" off), and set it up again afterwards';

export class BackupFailedError extends FcflashError {
	override name = 'BackupFailedError';
	readonly #advice: string | undefined;
	/** `advice` replaces the hint text about the CLI (cable, Configurator) when the cause was elsewhere. */
	constructor(port: string, reason: string, hint: FcflashError['hint'], options: {advice?: string; exitCode?: ExitCodeValue} = {}) {
		super(`The settings backup of ${port} failed: ${reason} Nothing was flashed.`, options.exitCode ?? ExitCode.failed, hint ?? 'cli-no-prompt');
		this.#advice = options.advice;
	}
	get hintText(): string {
		return this.#advice ?? `The flight controller was left as it was. Check the cable and that no Configurator holds the port, then try again; or ${withoutBackup}.`;
	}
}

/**
 * The backup was read, but its folder cannot be written: say which folder and how to choose
 * another (XDG_DATA_HOME; `flash` has no --out). Permission problems keep their exit code 4.
 */
function folderFailure(port: string, error: BackupWriteError): BackupFailedError {
	const permission = error.exitCode === ExitCode.permission;
	const readOnly = /^EROFS\b/.test(error.reason);
	const why = permission ? (readOnly ? 'read-only filesystem' : 'permission denied') : error.reason;
	const root = backupsRoot();
	const where = error.folder.startsWith(root) ? `Settings backups go to ${root} ($XDG_DATA_HOME/fcflash-tui/backups; ~/.local/share when XDG_DATA_HOME is not set), this one into ${error.folder}.` : `This backup goes into ${error.folder}.`;
	const fix = permission ? (readOnly ? 'It is on a read-only filesystem.' : 'Make it writable for your user (ls -ld it and its parents: they should belong to you).') : /ENOSPC/.test(error.reason) ? 'Free some space there.' : 'Check that it is a folder you can write.';
	const advice =
		`${where} ${fix} To keep backups elsewhere, set XDG_DATA_HOME to a folder you can write: it chooses where backups go (XDG_DATA_HOME=~/fc-data fcflash-tui flash ...). ` +
		`Or ${withoutBackup}. The flight controller was left as it was.`;
	return new BackupFailedError(port, `Cannot write the settings backup into ${error.folder}: ${why}.`, error.hint ?? 'backup-folder', {advice, exitCode: error.exitCode});
}

export class FirmwareNotBackError extends FcflashError {
	override name = 'FirmwareNotBackError';
}

async function openLink(source: BoardSource, board: SerialBoard): Promise<Link> {
	if (!source.openLink) throw new FcflashError(`${board.port}: this board source cannot open serial ports.`, ExitCode.failed, 'cli-no-prompt');
	return source.openLink(board);
}

/**
 * Back up the settings, then reboot into DFU from the same CLI session (`bl`, or INAV's `dfu`).
 * Throws BackupFailedError when the backup cannot be taken, before the board was rebooted.
 */
export async function backupAndReboot(run: JobRun<unknown>, source: BoardSource, board: SerialBoard): Promise<{backup: BackupResult; rebooted: boolean}> {
	run.progress('backup', 0, 1);
	let link: Link | undefined;
	let session: CliSession | undefined;
	let backup: BackupResult;
	try {
		link = await openLink(source, board);
		session = await CliSession.enter(link, {signal: run.signal});
		backup = await backupSettings(session, {identity: board.fc, usbSerial: board.serialNumber});
	} catch (error) {
		// Leave the flight controller running its firmware: a CLI left open stops MSP answering.
		if (session && !session.gone) await session.exit().catch(() => undefined);
		session?.detach();
		await link?.close();
		if (run.stopped) throw new CancelledError('Interrupted during the settings backup: nothing was flashed, no backup was written.', {nothingWritten: true});
		if (error instanceof BackupWriteError) throw folderFailure(board.port, error);
		throw new BackupFailedError(board.port, errorText(error), error instanceof FcflashError ? error.hint : undefined);
	}
	run.progress('backup', 1, 1);
	run.info(`Settings saved to ${backup.file}`);
	let rebooted = true;
	try {
		run.progress('reboot', 0, 1);
		try {
			await session.enterBootloader(board.fc?.variant);
			run.progress('reboot', 1, 1);
		} catch (error) {
			if (session.gone || run.stopped) throw error;
			// The backup is taken: the reboot comes another way (MSP, then `R`), once the firmware is
			// out of its CLI, where neither is heard.
			run.info(`\`bl\` did not reboot it (${errorText(error)}): restarting its firmware to ask over MSP.`);
			await session.exit().catch(() => undefined);
			rebooted = false;
		}
	} finally {
		session.detach();
		await link.close();
	}
	return {backup, rebooted};
}

/** The serial ports present now: a returning flight controller is the new one among them. */
export async function serialPorts(source: BoardSource): Promise<Set<string>> {
	return new Set((await source.list()).filter((b): b is SerialBoard => b.kind === 'serial').map((b) => b.port));
}

/**
 * Wait for the flight controller's serial port to come back (the rules of settings/port-return.ts)
 * and identify it over MSP. Undefined when it did not come back in time.
 */
export async function waitForFirmware(run: JobRun<unknown>, source: BoardSource, before: PortBefore, portsBefore: ReadonlySet<string>, waitMs = firmwareWaitMs): Promise<SerialBoard | undefined> {
	const started = performance.now();
	let second = -1;
	for (;;) {
		const elapsed = performance.now() - started;
		if (Math.floor(elapsed / 1000) !== second) {
			second = Math.floor(elapsed / 1000);
			run.progress('firmware', 0, 1, {elapsedMs: Math.round(elapsed), expectedMs: waitMs});
		}
		const boards = await source.list();
		// A port the user named (a PTY, a port without USB ids) is not in the listing: it is there
		// when its path is, as resolveBoard takes it.
		if (before.namedPath && !boards.some((b) => b.kind === 'serial' && b.port === before.port) && existsSync(before.port)) {
			boards.push({kind: 'serial', id: before.port, port: before.port, vendorId: 0, productId: 0, name: 'serial port'});
		}
		const match = matchReturnedPort(before, boards, portsBefore);
		if (match) {
			const fc = (await source.identify?.(match.board)) ?? match.board.fc;
			if (fc) {
				run.progress('firmware', 1, 1, {elapsedMs: Math.round(performance.now() - started), expectedMs: waitMs});
				return {...match.board, fc};
			}
		}
		if (run.stopped || elapsed > waitMs) return undefined;
		await sleep(200);
	}
}

export function firmwareFacts(board: Board | undefined, image: FirmwareImage) {
	const fc = board?.kind === 'serial' ? board.fc : undefined;
	const check = image.ident ? checkRunningFirmware(fc, image.ident) : undefined;
	return {
		facts: {variant: fc?.variant, version: fc?.version, target: fc?.target, matchesImage: check?.matches ?? false},
		problem: check && !check.matches ? check.message : undefined,
	};
}

/** Replay the backup onto the board that came back; the backup's own restore rules apply. */
export async function restoreAfterFlash(
	run: JobRun<unknown>,
	source: BoardSource,
	board: SerialBoard,
	backup: BackupResult,
	before: PortBefore,
): Promise<RestoreReport> {
	run.progress('restore', 0, 1);
	const link = await openLink(source, board);
	try {
		return await restoreSettings(link, backup.text, {
			file: backup.file,
			board: board.fc,
			signal: run.signal,
			onInfo: (text) => run.info(text),
			onProgress: (p) => run.progress('restore', p.done, p.total),
			reopen: async () => {
				// `save` reboots it: the port goes and comes back, maybe under another name.
				const away = await serialPorts(source);
				away.delete(board.port);
				const back = await waitForFirmware(run, source, {...before, port: board.port}, away);
				if (!back) throw new FirmwareNotBackError(`${board.port} did not come back after saving the settings.`, ExitCode.failed, 'fc-port-gone');
				return openLink(source, back);
			},
		});
	} finally {
		await link.close();
	}
}

/** Restore only into the firmware the backup came from (a BTFL backup is not replayed into INAV). */
export function sameVariant(backup: BackupResult, image: FirmwareImage): boolean {
	const imageVariant = variantOfFlavour(image.ident?.flavour);
	return !imageVariant || !backup.board.variant || backup.board.variant.toUpperCase() === imageVariant;
}
