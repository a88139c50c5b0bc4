// Device list state: the boards (live from BoardSource.watch), the highlighted board (kept by id
// when the list changes), what MSP told us about serial FCs, and the name a board had before it
// rebooted into DFU (matched by serial number). Pure functions of state and key.
import type {Board, FlightControllerInfo, SerialBoard} from '../devices/types.js';
import type {HintId} from '../hints.js';
import type {Command, Step} from './commands.js';
import {isChar, type KeyPress} from './keys.js';
import {knownFrom, type KnownBoard} from './screen-text.js';

export interface DeviceListState {
	/** undefined while the board source is still starting. */
	boards?: Board[];
	sourceError?: {message: string; hint?: HintId};
	selectedId?: string;
	/** MSP answers of serial FCs, by board id. */
	identified: Record<string, FlightControllerInfo>;
	/** Serial FCs asked already (once per board). */
	asked: Record<string, true>;
	/** What a board was before it rebooted into DFU, by serial number. */
	known: Record<string, KnownBoard>;
	notice?: string;
}

export type DeviceListIntent =
	| {type: 'choose'; board: Board}
	| {type: 'leave'; board: Board}
	| {type: 'backup'; board: Board};

export const initialDeviceList = (): DeviceListState => ({identified: {}, asked: {}, known: {}});

/** The boards as shown: serial FCs with what MSP told us. */
export function shownBoards(s: DeviceListState): Board[] {
	return (s.boards ?? []).map((b) => {
		const fc = b.kind === 'serial' && !b.fc ? s.identified[b.id] : undefined;
		return fc ? {...b, fc} : b;
	});
}

export function selectedIndex(s: DeviceListState, shown = shownBoards(s)): number {
	const i = shown.findIndex((b) => b.id === s.selectedId);
	return i < 0 ? 0 : i;
}

export function knownBoard(s: DeviceListState, b: Board): KnownBoard | undefined {
	return b.kind === 'dfu' && b.serialNumber ? s.known[b.serialNumber] : undefined;
}

function remember(known: Record<string, KnownBoard>, boards: Board[]): Record<string, KnownBoard> {
	let out = known;
	for (const b of boards) {
		const k = b.serialNumber ? knownFrom(b) : undefined;
		if (k && (out[b.serialNumber!]?.was !== k.was || out[b.serialNumber!]?.target !== k.target)) out = {...out, [b.serialNumber!]: k};
	}
	return out;
}

/** A new board list: ask the unidentified serial FCs what they run. */
export function deviceListBoards(s: DeviceListState, boards: Board[]): Step<DeviceListState> {
	const commands: Command[] = [];
	let asked = s.asked;
	for (const b of boards) {
		if (b.kind !== 'serial' || b.fc || b.problem || asked[b.id]) continue;
		asked = {...asked, [b.id]: true};
		commands.push({type: 'identify', board: b as SerialBoard});
	}
	const next: DeviceListState = {...s, boards, asked};
	next.known = remember(s.known, shownBoards(next));
	return {state: next, commands};
}

export function deviceListIdentified(s: DeviceListState, id: string, fc: FlightControllerInfo): DeviceListState {
	const next = {...s, identified: {...s.identified, [id]: fc}};
	next.known = remember(s.known, shownBoards(next));
	return next;
}

export interface DeviceListContext {
	/** The settings-backup job exists. */
	settingsBackup: boolean;
}

export function deviceListKey(s: DeviceListState, k: KeyPress, ctx: DeviceListContext): Step<DeviceListState, DeviceListIntent> {
	const shown = shownBoards(s);
	if (shown.length === 0) return {state: s};
	const index = selectedIndex(s, shown);
	const selected = shown[index]!;
	const select = (i: number) => ({state: {...s, selectedId: shown[Math.max(0, Math.min(shown.length - 1, i))]!.id, notice: undefined}});
	if (k.name === 'up' || isChar(k, 'k')) return select(index - 1);
	if (k.name === 'down' || isChar(k, 'j')) return select(index + 1);
	if (k.name === 'home') return select(0);
	if (k.name === 'end') return select(shown.length - 1);
	const unusable = selected.problem ? {state: {...s, notice: `This board cannot be used: ${selected.problem.message} Press ? for help.`}} : undefined;
	if (k.name === 'return') return unusable ?? {state: {...s, notice: undefined}, intent: {type: 'choose', board: selected}};
	if (isChar(k, 's')) {
		if (unusable) return unusable;
		if (selected.kind === 'serial') return {state: {...s, notice: `${selected.port} already runs its firmware: nothing to start.`}};
		return {state: {...s, notice: undefined}, intent: {type: 'leave', board: selected}};
	}
	if (isChar(k, 'b')) {
		if (unusable) return unusable;
		if (selected.kind === 'serial' && !ctx.settingsBackup) {
			return {state: {...s, notice: 'Backing up the settings of a flight controller is not available in this version yet.'}};
		}
		return {state: {...s, notice: undefined}, intent: {type: 'backup', board: selected}};
	}
	return {state: s};
}

/** The hint that fits what the list shows. */
export function deviceListHint(s: DeviceListState): HintId | undefined {
	if (s.sourceError) return s.sourceError.hint;
	const shown = shownBoards(s);
	if (s.boards && shown.length === 0) return 'no-device';
	return shown[selectedIndex(s, shown)]?.problem?.hint;
}
