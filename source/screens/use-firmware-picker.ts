// File picker state: the folder, its entries (folders and .hex/.bin/.dfu files), the `/` filter,
// the highlighted entry, and the lazily parsed facts of the highlighted file (cached by path,
// size and mtime). Parsing waits until the highlight rests for a moment, so scrolling stays quick.
import {readdirSync, statSync} from 'node:fs';
import {basename, dirname, extname, join, resolve} from 'node:path';
import {useCallback, useEffect, useRef, useState, type MutableRefObject} from 'react';
import {useKeys} from './key-router.js';
import type {Board} from '../devices/types.js';
import type {FirmwareImage} from '../firmware/image.js';
import type {HintId} from '../hints.js';
import {errorHint, errorText, imageWarnings, type Warning} from './describe.js';

export const firmwareExtensions = new Set(['.hex', '.bin', '.dfu']);

export interface Entry {
	name: string;
	path: string;
	kind: 'up' | 'dir' | 'file';
	size?: number;
	mtimeMs?: number;
}

export type Facts =
	| {state: 'loading'}
	| {state: 'ok'; image: FirmwareImage; size: number; warnings: Warning[]}
	| {state: 'error'; message: string; hint?: HintId};

export interface PickerProps {
	startDir: string;
	preselect?: string;
	note?: string;
	board?: Board;
	/** .bin load address. */
	address?: number;
	active: boolean;
	textEntry: MutableRefObject<boolean>;
	screenHint: MutableRefObject<HintId | undefined>;
	loadImage(path: string, options: {address?: number}): Promise<FirmwareImage>;
	onChoose(file: string, image: FirmwareImage): void;
	onBack(): void;
	/** Milliseconds the highlight must rest before the file is parsed. */
	parseDelayMs?: number;
}

export function readFolder(dir: string): {entries: Entry[]; error?: string} {
	const entries: Entry[] = [];
	const parent = dirname(dir);
	if (parent !== dir) entries.push({name: '..', path: parent, kind: 'up'});
	let names: string[];
	try {
		names = readdirSync(dir);
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		return {entries, error: code === 'EACCES' || code === 'EPERM' ? `${dir}: permission denied` : `${dir}: cannot read (${code ?? String(error)})`};
	}
	const dirs: Entry[] = [];
	const files: Entry[] = [];
	for (const name of names) {
		if (name.startsWith('.')) continue;
		const path = join(dir, name);
		try {
			const st = statSync(path);
			if (st.isDirectory()) dirs.push({name, path, kind: 'dir'});
			else if (st.isFile() && firmwareExtensions.has(extname(name).toLowerCase())) files.push({name, path, kind: 'file', size: st.size, mtimeMs: st.mtimeMs});
		} catch {
			// A dangling link or a file that vanished: leave it out.
		}
	}
	const byName = (a: Entry, b: Entry) => a.name.localeCompare(b.name, undefined, {numeric: true, sensitivity: 'base'});
	return {entries: [...entries, ...dirs.sort(byName), ...files.sort(byName)]};
}

const cacheLimit = 12;

interface PickerState {
	dir: string;
	cursorName?: string;
	filter: string;
	filtering: boolean;
	notice?: string;
	listing: {entries: Entry[]; error?: string};
}

export function useFirmwarePicker(props: PickerProps) {
	// One mutable store read by the key handler, so several keys in one read (paste, tmux
	// send-keys) each see the result of the previous one; a tick re-renders.
	const store = useRef<PickerState | undefined>(undefined);
	if (!store.current) {
		const dir = resolve(props.startDir);
		store.current = {dir, cursorName: props.preselect ? basename(props.preselect) : undefined, filter: '', filtering: false, notice: props.note, listing: readFolder(dir)};
	}
	const [, setTick] = useState(0);
	const set = (patch: Partial<PickerState>) => {
		Object.assign(store.current!, patch);
		setTick((n) => n + 1);
	};
	const cache = useRef(new Map<string, {key: string; facts: Facts}>());
	useEffect(() => () => void (props.textEntry.current = false), [props.textEntry]);

	const derive = () => {
		const st = store.current!;
		const needle = st.filter.toLowerCase();
		const shown = needle ? st.listing.entries.filter((e) => e.kind === 'up' || e.name.toLowerCase().includes(needle)) : st.listing.entries;
		let index = shown.findIndex((e) => e.name === st.cursorName);
		// Nothing highlighted yet: the first file (what the pilot came for), else the first folder.
		if (index < 0) index = shown.findIndex((e) => e.kind === 'file');
		if (index < 0) index = shown.findIndex((e) => e.kind !== 'up');
		if (index < 0) index = 0;
		return {shown, index, current: shown[index]};
	};
	const {shown, index, current} = derive();
	const {dir, filter, filtering, notice} = store.current;

	const cacheKey = (e: Entry) => `${e.size}:${e.mtimeMs}:${e.name.toLowerCase().endsWith('.bin') ? props.address : ''}`;
	const cached = current?.kind === 'file' ? cache.current.get(current.path) : undefined;
	const facts: Facts | undefined = current?.kind === 'file' ? (cached && cached.key === cacheKey(current) ? cached.facts : {state: 'loading'}) : undefined;
	// Warnings depend on the chosen board, so they are worked out on every render from the cached image.
	const shownFacts: Facts | undefined = facts?.state === 'ok' ? {...facts, warnings: imageWarnings(props.board, facts.image)} : facts;

	const load = useCallback(
		async (entry: Entry): Promise<Facts> => {
			const key = cacheKey(entry);
			const hit = cache.current.get(entry.path);
			if (hit && hit.key === key && hit.facts.state !== 'loading') return hit.facts;
			let facts: Facts;
			try {
				const image = await props.loadImage(entry.path, entry.name.toLowerCase().endsWith('.bin') ? {address: props.address} : {});
				facts = {state: 'ok', image, size: entry.size ?? image.bytes, warnings: []};
			} catch (error) {
				facts = {state: 'error', message: errorText(error), hint: errorHint(error) ?? 'bad-file'};
			}
			cache.current.delete(entry.path);
			cache.current.set(entry.path, {key, facts});
			while (cache.current.size > cacheLimit) cache.current.delete(cache.current.keys().next().value!);
			setTick((n) => n + 1);
			return facts;
		},
		// eslint-disable-next-line react-hooks/exhaustive-deps
		[props.loadImage, props.address],
	);

	// Parse the highlighted file once the highlight rests.
	useEffect(() => {
		if (!current || current.kind !== 'file' || facts?.state !== 'loading') return;
		const timer = setTimeout(() => void load(current), props.parseDelayMs ?? 80);
		return () => clearTimeout(timer);
	});

	useEffect(() => {
		const warn = shownFacts?.state === 'ok' ? shownFacts.warnings[0]?.hint : undefined;
		props.screenHint.current = shownFacts?.state === 'error' ? shownFacts.hint : warn;
	});
	useEffect(() => () => void (props.screenHint.current = undefined), [props.screenHint]);

	const enter = (target: string, from?: string) => {
		props.textEntry.current = false;
		set({dir: target, cursorName: from, filter: '', filtering: false, notice: undefined, listing: readFolder(target)});
	};
	const up = () => {
		const at = store.current!.dir;
		const parent = dirname(at);
		if (parent !== at) enter(parent, basename(at));
	};
	const choose = async (entry: Entry | undefined) => {
		if (!entry) return;
		if (entry.kind === 'up') return up();
		if (entry.kind === 'dir') return enter(entry.path);
		const f = await load(entry);
		if (f.state === 'error') return set({notice: `Cannot use this file: ${f.message}`});
		if (f.state !== 'ok') return;
		const blocking = imageWarnings(props.board, f.image).find((w) => w.blocking);
		if (blocking) return set({notice: 'This file cannot be flashed to this board: pick another file.'});
		props.onChoose(entry.path, f.image);
	};
	const move = (delta: number) => {
		const {shown, index} = derive();
		const next = shown[Math.max(0, Math.min(shown.length - 1, index + delta))];
		set({cursorName: next?.name ?? store.current!.cursorName, notice: undefined});
	};
	const setFiltering = (on: boolean) => {
		props.textEntry.current = on;
		set({filtering: on});
	};

	useKeys(
		(input, key) => {
			const st = store.current!;
			if (st.filtering) {
				if (key.escape) {
					props.textEntry.current = false;
					set({filter: '', filtering: false});
				} else if (key.return) {
					setFiltering(false);
					void choose(derive().current);
				} else if (key.upArrow) move(-1);
				else if (key.downArrow) move(1);
				else if (key.pageUp) move(-10);
				else if (key.pageDown) move(10);
				else if (key.backspace || key.delete) set({filter: st.filter.slice(0, -1)});
				else if (input && !key.ctrl && !key.meta && !key.tab && input >= ' ') set({filter: st.filter + input});
				return;
			}
			if (key.upArrow || input === 'k') move(-1);
			else if (key.downArrow || input === 'j') move(1);
			else if (key.pageUp) move(-10);
			else if (key.pageDown) move(10);
			else if (key.return || key.rightArrow) {
				const current = derive().current;
				if (key.rightArrow && current?.kind === 'file') return;
				void choose(current);
			} else if (key.backspace || key.delete || key.leftArrow) up();
			else if (input === '/') setFiltering(true);
			else if (key.escape) {
				if (st.filter) set({filter: ''});
				else props.onBack();
			}
		},
		{isActive: props.active},
	);

	return {dir, entries: shown, index, current, facts: shownFacts, filter, filtering, notice, error: store.current.listing.error};
}
