// Flash on connect, as the fleet screen shows it: a row per board, built only from the on-connect
// job's events (`fleet` wraps one board's own flash-job event, `board-skipped` says why a board was
// not flashed, or that a board of this run was seen again), the counts, and the highlighted row.
// Pure functions of state and event or key.
import type {Board} from '../devices/types.js';
import type {FlashReport, JobEvent, JobPhase, JobResult, ProgressEvent, Warning} from '../jobs/types.js';
import type {Step} from './commands.js';
import {isChar, type KeyPress} from './keys.js';
import type {TerminalSize} from './types.js';

export interface FleetRow {
	/** The job's id of the board (serial number @ USB path). */
	boardId: string;
	/** The board as first seen. */
	board: Board;
	/** The board its flash acts on now (the same board in DFU after the reboot). */
	current?: Board;
	/** Its flash was started (else it was only skipped). */
	started: boolean;
	phases: JobPhase[];
	progress?: ProgressEvent;
	info?: string;
	warnings: Warning[];
	result?: JobResult<FlashReport>;
	/** Not flashed: why. */
	skipped?: string;
	/** Flashed (or tried) in this run and seen again afterwards: what the job said. */
	seenAgain?: string;
}

export interface FleetCounts {
	tried: number;
	flashed: number;
	failed: number;
	running: number;
	skipped: number;
}

/** The rows after one job event (other events leave them as they are). */
export function fleetEvent(rows: FleetRow[], e: JobEvent): FleetRow[] {
	if (e.type !== 'fleet' && e.type !== 'board-skipped') return rows;
	const i = rows.findIndex((r) => r.boardId === e.boardId);
	const row: FleetRow = i >= 0 ? rows[i]! : {boardId: e.boardId, board: e.board, started: false, phases: [], warnings: []};
	const put = (next: FleetRow) => (i >= 0 ? rows.map((r, j) => (j === i ? next : r)) : [...rows, next]);
	if (e.type === 'board-skipped') return put(row.started ? {...row, seenAgain: e.reason} : {...row, skipped: e.reason});
	const inner = e.event;
	const started = {...row, started: true, skipped: undefined};
	switch (inner.type) {
		case 'phases':
			return put({...started, phases: inner.phases});
		case 'board':
			return put({...started, current: inner.board});
		case 'progress':
			return put({...started, progress: inner});
		case 'info':
			return put({...started, info: inner.text});
		case 'warning':
			return put(row.warnings.some((w) => w.text === inner.warning.text) ? started : {...started, warnings: [...row.warnings, inner.warning]});
		case 'result':
			return put({...started, result: inner.result as JobResult<FlashReport>});
		default:
			return put(started);
	}
}

export function fleetCounts(rows: FleetRow[]): FleetCounts {
	const tried = rows.filter((r) => r.started);
	const flashed = tried.filter((r) => r.result?.ok).length;
	const failed = tried.filter((r) => r.result && !r.result.ok).length;
	return {tried: tried.length, flashed, failed, running: tried.length - flashed - failed, skipped: rows.length - tried.length};
}

export interface FleetViewState {
	/** The highlighted board (the first when unset). */
	selected?: string;
	/** The first row in view. */
	offset: number;
}

export const initialFleetView = (): FleetViewState => ({offset: 0});

/** Rows of the board list at this terminal size (the rest of the screen is fixed). */
export const fleetPageRows = (size: TerminalSize) => Math.max(3, size.rows - 14);

export function fleetSelectedIndex(s: FleetViewState, rows: FleetRow[]): number {
	const i = rows.findIndex((r) => r.boardId === s.selected);
	return i < 0 ? 0 : i;
}

/** The first row in view: the state's offset, moved just enough to show the highlighted row. */
export function fleetWindow(s: FleetViewState, rows: FleetRow[], pageRows: number): number {
	const index = fleetSelectedIndex(s, rows);
	const page = Math.max(1, pageRows);
	const first = Math.min(Math.max(s.offset, index - page + 1), index);
	return Math.max(0, Math.min(first, Math.max(0, rows.length - page)));
}

export function fleetKey(s: FleetViewState, k: KeyPress, rows: FleetRow[], pageRows: number): Step<FleetViewState> {
	if (rows.length === 0) return {state: s};
	const index = fleetSelectedIndex(s, rows);
	const select = (i: number) => {
		const to = Math.max(0, Math.min(rows.length - 1, i));
		const next = {...s, selected: rows[to]!.boardId};
		return {state: {...next, offset: fleetWindow({...next, offset: fleetWindow(s, rows, pageRows)}, rows, pageRows)}};
	};
	if (k.name === 'up' || isChar(k, 'k')) return select(index - 1);
	if (k.name === 'down' || isChar(k, 'j')) return select(index + 1);
	if (k.name === 'pageup') return select(index - pageRows);
	if (k.name === 'pagedown') return select(index + pageRows);
	if (k.name === 'home') return select(0);
	if (k.name === 'end') return select(rows.length - 1);
	return {state: s};
}
