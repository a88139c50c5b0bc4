// `settings diff FILE`: a backup against a live board, setting by setting. Version and comment lines
// are not settings; a setting the backup names is checked on the board (see board-values.ts), and
// the board's own `diff all` shows what it changed that the backup does not mention.
import type {CliSession} from '../devices/fc-cli.js';
import {differing, readBoardValues} from './board-values.js';
import {parseSettings, settingId} from './diff-text.js';

export interface SettingsComparison {
	same: boolean;
	/** Backup lines the board does not hold (another value, or no such setting). */
	onlyInFile: string[];
	/** The board's values for those, and its changed settings the backup does not name. */
	onlyOnBoard: string[];
}

/** Compare a backup's text with the board behind an open CLI session (left open; `exit` after). */
export async function diffSettings(backupText: string, session: CliSession): Promise<SettingsComparison> {
	const backup = parseSettings(backupText);
	const {values} = await readBoardValues(session, backup.assignments);
	const missing = differing(backup.assignments, values);
	const named = new Set(backup.assignments.map(settingId));
	const board = parseSettings(await session.diffAll());
	const onlyOnBoard = [
		...missing.flatMap((a) => {
			const held = values.get(settingId(a));
			return held ? [held.line] : [];
		}),
		...board.assignments.filter((e) => !named.has(settingId(e))).map((e) => e.text),
	];
	const onlyInFile = missing.map((a) => a.text);
	return {same: onlyInFile.length === 0 && onlyOnBoard.length === 0, onlyInFile, onlyOnBoard};
}
