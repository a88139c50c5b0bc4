// File picker state: the folder and its entries (read asynchronously), the `/` filter, the sort,
// the highlighted entry (by path), each file's identification (target and version, read lazily in
// the background) and the parsed facts of the highlighted file. Pure functions of state and key;
// the folder reads and file parses are commands whose answers come back as actions.
import {dirname} from 'node:path';
import type {Board} from '../devices/types.js';
import type {FirmwareImage} from '../firmware/image.js';
import type {HintId} from '../hints.js';
import type {Command, FileRef, Step} from './commands.js';
import {isChar, isPrintable, type KeyPress} from './keys.js';

export const firmwareExtensions = new Set(['.hex', '.bin', '.dfu']);

export interface Entry {
	name: string;
	path: string;
	kind: 'up' | 'dir' | 'file';
	size?: number;
	mtimeMs?: number;
}

export interface IdentInfo {
	flavour: string;
	target: string;
	version: string;
}

export type Facts = {state: 'ok'; image: FirmwareImage; size: number} | {state: 'error'; message: string; hint?: HintId};

export type Listing = {state: 'loading'} | {state: 'ready'; entries: Entry[]; error?: string};

export type SortOrder = 'name' | 'date';

export interface PickerState {
	dir: string;
	/** Folder reads: an answer for an older read is dropped. */
	seq: number;
	listing: Listing;
	/** Path of the highlighted entry (the first file when unset or gone). */
	cursor?: string;
	filter: string;
	filtering: boolean;
	sort: SortOrder;
	notice?: string;
	/** A file name to highlight when the folder arrives (--firmware FILE). */
	preselect?: string;
	/** Identification of files, by path, valid for `key` (size and mtime). null: none in the file. */
	idents: Record<string, {key: string; ident: IdentInfo | null}>;
	/** Parsed facts by path, valid for `key`; the last few only. */
	facts: Record<string, {key: string; facts: Facts}>;
	/** Enter was pressed on this file: waiting for its facts. */
	choosing?: string;
}

export interface PickerContext {
	board?: Board;
	/** The board's target (a serial FC's, or what it was before DFU): its files are marked and preselected. */
	target?: string;
	/** .bin load address. */
	address?: number;
	/** List rows that fit on the screen. */
	pageRows: number;
}

export type PickerIntent = {type: 'back'} | {type: 'chosen'; path: string; image: FirmwareImage};

const factsKept = 12;
/** The highlight must rest this long before the file is parsed, so scrolling stays quick. */
export const parseDelayMs = 80;

export function initialPicker(dir: string, preselect?: string, note?: string): Step<PickerState> {
	const state: PickerState = {dir, seq: 1, listing: {state: 'loading'}, filter: '', filtering: false, sort: 'name', notice: note, preselect, idents: {}, facts: {}};
	return {state, commands: [{type: 'read-folder', dir, seq: 1}]};
}

/** Read the folder again (a board was chosen anew: files may have come or gone). Cursor and filter stay. */
export function refreshPicker(s: PickerState): Step<PickerState> {
	const seq = s.seq + 1;
	return {state: {...s, seq, listing: {state: 'loading'}, choosing: undefined}, commands: [{type: 'read-folder', dir: s.dir, seq}]};
}

export const fileKey = (e: Entry, address?: number) => `${e.size}:${e.mtimeMs}${e.name.toLowerCase().endsWith('.bin') ? `@${address ?? ''}` : ''}`;
const identKey = (e: Entry) => `${e.size}:${e.mtimeMs}`;
const normalise = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]/g, '');

export function identOf(s: PickerState, e: Entry): IdentInfo | null | undefined {
	const hit = s.idents[e.path];
	return hit && hit.key === identKey(e) ? hit.ident : undefined;
}

/** Does this file's identification (or, until it is read, its name) name the board's target? */
export function matchesTarget(s: PickerState, e: Entry, target: string | undefined): boolean {
	if (!target || e.kind !== 'file') return false;
	const ident = identOf(s, e);
	if (ident) return normalise(ident.target) === normalise(target);
	return normalise(e.name).includes(normalise(target));
}

const byName = (a: Entry, b: Entry) => a.name.localeCompare(b.name, undefined, {numeric: true, sensitivity: 'base'});

/** The entries as shown: `../` first (not while filtering), folders, then files by name or newest first. */
export function shownEntries(s: PickerState): Entry[] {
	if (s.listing.state !== 'ready') return [];
	const all = s.listing.entries;
	const needle = s.filter.toLowerCase();
	const up = needle ? [] : all.filter((e) => e.kind === 'up');
	const match = (e: Entry) => !needle || e.name.toLowerCase().includes(needle);
	const dirs = all.filter((e) => e.kind === 'dir' && match(e)).sort(byName);
	const files = all.filter((e) => e.kind === 'file' && match(e));
	files.sort(s.sort === 'date' ? (a, b) => (b.mtimeMs ?? 0) - (a.mtimeMs ?? 0) || byName(a, b) : byName);
	return [...up, ...dirs, ...files];
}

/** The highlighted entry: the cursor's, else (it is filtered out or unset) the first file, else the first entry. */
export function cursorIndex(s: PickerState, shown = shownEntries(s)): number {
	let i = shown.findIndex((e) => e.path === s.cursor);
	if (i < 0) i = shown.findIndex((e) => e.kind === 'file');
	if (i < 0) i = shown.findIndex((e) => e.kind !== 'up');
	return i < 0 ? 0 : i;
}

export function currentEntry(s: PickerState): Entry | undefined {
	const shown = shownEntries(s);
	return shown[cursorIndex(s, shown)];
}

/** The rows on screen: centred on the highlight. */
export function pickerWindow(s: PickerState, pageRows: number, shown = shownEntries(s)): {first: number; rows: Entry[]} {
	const index = cursorIndex(s, shown);
	const first = Math.max(0, Math.min(index - Math.floor(pageRows / 2), shown.length - pageRows));
	return {first, rows: shown.slice(first, first + pageRows)};
}

export function factsOf(s: PickerState, e: Entry | undefined, address?: number): Facts | undefined {
	if (!e || e.kind !== 'file') return undefined;
	const hit = s.facts[e.path];
	return hit && hit.key === fileKey(e, address) ? hit.facts : undefined;
}

const ref = (e: Entry, address?: number): FileRef => ({path: e.path, key: fileKey(e, address), address: e.name.toLowerCase().endsWith('.bin') ? address : undefined});

/** What the new state needs from outside: the highlighted file's facts, the visible rows' idents. */
function withLoads(s: PickerState, ctx: PickerContext, extra: Command[] = []): Step<PickerState> {
	const commands = [...extra];
	const current = currentEntry(s);
	if (current?.kind === 'file' && !factsOf(s, current, ctx.address)) {
		commands.push({type: 'load-facts', file: ref(current, ctx.address), delayMs: s.choosing ? 0 : parseDelayMs});
	}
	const missing = pickerWindow(s, ctx.pageRows)
		.rows.filter((e) => e.kind === 'file' && identOf(s, e) === undefined)
		.map((e) => ({path: e.path, key: identKey(e)}));
	if (missing.length > 0) commands.push({type: 'read-idents', files: missing});
	return {state: s, commands};
}

/** The folder's entries arrived. */
export function pickerFolder(
	s: PickerState,
	a: {seq: number; entries: Entry[]; error?: string; idents?: PickerState['idents']},
	ctx: PickerContext,
): Step<PickerState> {
	if (a.seq !== s.seq) return {state: s};
	let next: PickerState = {...s, listing: {state: 'ready', entries: a.entries, error: a.error}, idents: {...s.idents, ...a.idents}};
	const has = (path?: string) => path !== undefined && a.entries.some((e) => e.path === path);
	if (!has(next.cursor)) {
		const files = a.entries.filter((e) => e.kind === 'file');
		const pre = next.preselect ? files.find((e) => e.name === next.preselect) : undefined;
		const matches = files.filter((e) => matchesTarget(next, e, ctx.target)).sort((x, y) => (y.mtimeMs ?? 0) - (x.mtimeMs ?? 0));
		next = {...next, cursor: (pre ?? matches[0])?.path};
	}
	next.preselect = undefined;
	return withLoads(next, ctx);
}

export function pickerIdent(s: PickerState, path: string, key: string, ident: IdentInfo | null): PickerState {
	return {...s, idents: {...s.idents, [path]: {key, ident}}};
}

/** A file's facts arrived (highlight rested, or Enter is waiting for them). */
export function pickerFacts(s: PickerState, file: FileRef, facts: Facts, ctx: PickerContext): Step<PickerState, PickerIntent> {
	const kept = Object.entries(s.facts).filter(([p]) => p !== file.path).slice(-(factsKept - 1));
	let next: PickerState = {...s, facts: Object.fromEntries([...kept, [file.path, {key: file.key, facts}]])};
	if (facts.state === 'ok') {
		const id = facts.image.ident;
		const identKeyOfFile = file.key.replace(/@.*$/, '');
		next = pickerIdent(next, file.path, identKeyOfFile, id ? {flavour: id.flavour, target: id.target, version: id.version} : null);
	}
	if (next.choosing !== file.path) return withLoads(next, ctx);
	next = {...next, choosing: undefined};
	if (facts.state === 'error') return {state: {...next, notice: `Cannot use this file: ${facts.message}`}};
	return {state: next, intent: {type: 'chosen', path: file.path, image: facts.image}};
}

export function pickerBusy(s: PickerState): boolean {
	return s.listing.state === 'loading' || s.choosing !== undefined;
}

function enter(s: PickerState, dir: string, cursor?: string): Step<PickerState> {
	const seq = s.seq + 1;
	return {
		state: {...s, dir, seq, listing: {state: 'loading'}, cursor, filter: '', filtering: false, notice: undefined},
		commands: [{type: 'read-folder', dir, seq}],
	};
}

function up(s: PickerState): Step<PickerState> {
	const parent = dirname(s.dir);
	return parent === s.dir ? {state: s} : enter(s, parent, s.dir);
}

function choose(s: PickerState, e: Entry | undefined, ctx: PickerContext): Step<PickerState, PickerIntent> {
	if (!e) return {state: s};
	if (e.kind === 'up') return up(s);
	if (e.kind === 'dir') return enter(s, e.path);
	const facts = factsOf(s, e, ctx.address);
	if (facts?.state === 'ok') return {state: {...s, cursor: e.path, notice: undefined}, intent: {type: 'chosen', path: e.path, image: facts.image}};
	if (facts?.state === 'error') return {state: {...s, cursor: e.path, notice: `Cannot use this file: ${facts.message}`}};
	return withLoads({...s, cursor: e.path, choosing: e.path, notice: undefined}, ctx);
}

function move(s: PickerState, delta: number | 'home' | 'end', ctx: PickerContext): Step<PickerState> {
	const shown = shownEntries(s);
	if (shown.length === 0) return {state: s};
	const at = cursorIndex(s, shown);
	const to = delta === 'home' ? 0 : delta === 'end' ? shown.length - 1 : Math.max(0, Math.min(shown.length - 1, at + delta));
	return withLoads({...s, cursor: shown[to]!.path, notice: undefined}, ctx);
}

export function pickerKey(s: PickerState, k: KeyPress, ctx: PickerContext): Step<PickerState, PickerIntent> {
	const page = Math.max(1, ctx.pageRows - 1);
	const moves: Partial<Record<KeyPress['name'], number | 'home' | 'end'>> = {up: -1, down: 1, pageup: -page, pagedown: page, home: 'home', end: 'end'};
	const delta = moves[k.name];
	if (delta !== undefined) return move(s, delta, ctx);
	if (s.filtering) {
		if (k.name === 'escape') return withLoads({...s, filter: '', filtering: false}, ctx);
		if (k.name === 'return') {
			const current = currentEntry(s);
			return choose({...s, filtering: false, cursor: current?.path ?? s.cursor}, current, ctx);
		}
		if (k.name === 'backspace') return withLoads({...s, filter: s.filter.slice(0, -1)}, ctx);
		if (isPrintable(k)) return withLoads({...s, filter: s.filter + k.ch}, ctx);
		return {state: s};
	}
	if (isChar(k, 'k')) return move(s, -1, ctx);
	if (isChar(k, 'j')) return move(s, 1, ctx);
	if (k.name === 'return' || k.name === 'right') {
		const current = currentEntry(s);
		if (k.name === 'right' && current?.kind === 'file') return {state: s};
		return choose(s, current, ctx);
	}
	if (k.name === 'backspace' || k.name === 'left') return up(s);
	if (isChar(k, '/')) return {state: {...s, filtering: true, notice: undefined}};
	if (isChar(k, 's')) return withLoads({...s, sort: s.sort === 'name' ? 'date' : 'name'}, ctx);
	if (k.name === 'escape') return s.filter ? withLoads({...s, filter: ''}, ctx) : {state: s, intent: {type: 'back'}};
	return {state: s};
}

/** The hint that fits what the picker shows (a bad file, an image that does not fit). */
export function pickerHint(s: PickerState, ctx: {address?: number}): HintId | undefined {
	const facts = factsOf(s, currentEntry(s), ctx.address);
	return facts?.state === 'error' ? facts.hint : undefined;
}

