// Backing up a flight controller's settings: its CLI `diff all`, written to the backup store (or an
// explicit file), never over an existing file. The CLI session stays open for the caller: `bl` /
// `dfu` next for a flash (one reboot instead of two), `exit` for a plain backup.
import {readFile} from 'node:fs/promises';
import type {CliSession} from '../devices/fc-cli.js';
import type {FlightControllerInfo} from '../devices/types.js';
import {FcflashError, SettingsFileError, errorText} from '../errors.js';
import {parseSettings, type ParsedSettings} from './diff-text.js';
import {backupPath, writeBackup, type StoreOptions} from './store.js';

export interface BackupOptions extends StoreOptions {
	/** What MSP said (variant, version, target, mcuId); what it lacks comes from the diff itself. */
	identity?: FlightControllerInfo;
	/** The USB serial number: names the folder when no MCU id is known. */
	usbSerial?: string;
	/** --out FILE instead of the backup store (still never overwritten: FILE-2 then). */
	out?: string;
	/** The time in the file name (tests). */
	now?: Date;
	/** For `diff all` (default 30 s). */
	timeoutMs?: number;
}

export interface BackupBoard {
	variant: string | null;
	version: string | null;
	target: string | null;
	mcuId: string | null;
}

/** The CONTRACT's `settings backup` result, plus the text for a restore in the same run. */
export interface BackupResult {
	file: string;
	board: BackupBoard;
	/** Lines written (blank lines not counted). */
	lines: number;
	text: string;
}

export async function backupSettings(session: CliSession, options: BackupOptions = {}): Promise<BackupResult> {
	const text = await session.diffAll({timeoutMs: options.timeoutMs});
	const parsed = parseSettings(text);
	if (!parsed.header.identLine && parsed.assignments.length === 0) {
		throw new FcflashError(`${session.port}: \`diff all\` gave no settings (${firstLine(text)}).`, 1, 'cli-garbage');
	}
	const id = options.identity ?? {};
	const board: BackupBoard = {
		variant: id.variant ?? parsed.header.variant ?? null,
		version: id.version ?? parsed.header.version ?? null,
		target: id.target ?? parsed.header.target ?? null,
		mcuId: id.mcuId ?? parsed.mcuId ?? null,
	};
	const path =
		options.out ??
		backupPath({variant: board.variant ?? undefined, version: board.version ?? undefined, mcuId: board.mcuId ?? undefined, usbSerial: options.usbSerial}, options.now ?? new Date(), options);
	const file = await writeBackup(path, text, options);
	return {file, board, lines: text.split('\n').filter((l) => l.trim()).length, text};
}

const firstLine = (text: string) => text.split('\n').find((l) => l.trim())?.trim().slice(0, 80) || 'nothing at all';

export interface BackupFile {
	file: string;
	text: string;
	parsed: ParsedSettings;
}

/**
 * Read a backup for restore or diff: text only (a binary file is refused with the line of its first
 * non-text byte), and at least one setting or the firmware's version line in it (a backup of a
 * board on its defaults has no settings lines at all).
 */
export async function readBackupFile(file: string): Promise<BackupFile> {
	let bytes: Buffer;
	try {
		bytes = await readFile(file);
	} catch (error) {
		throw new SettingsFileError(file, `cannot be read: ${errorText(error)}`);
	}
	const text = bytes.toString('latin1');
	const bad = text.search(/[^\t\n\r\x20-\x7e]/);
	if (bad >= 0) {
		const line = text.slice(0, bad).split('\n').length;
		throw new SettingsFileError(file, `byte 0x${bytes[bad]!.toString(16).padStart(2, '0')} is not text: not a CLI diff`, line);
	}
	const parsed = parseSettings(text);
	if (parsed.assignments.length === 0 && !parsed.header.identLine) {
		throw new SettingsFileError(file, 'holds no settings (no `set`, `feature`, `aux`... lines and no `# version` line): not a CLI diff');
	}
	return {file, text, parsed};
}
