// Screen 2: pick the firmware file. Folders and .hex/.bin/.dfu files with the target and version
// each file is built for (the board's own are marked), `/` to filter, `s` to sort, and the facts of
// the highlighted file (what it holds, whether it fits the board).
import {formatBytes} from '../format.js';
import {boardName, fitMiddle, imageFacts, imageWarnings, type KnownBoard} from './screen-text.js';
import {blank, chromeLines, Frame, listRow, para, useTerminalSize, useTheme, useWidth, type KeyHelp, type Line} from './ui.js';
import type {Board} from '../devices/types.js';
import type {Theme} from './theme.js';
import {
	cursorIndex,
	factsOf,
	identOf,
	matchesTarget,
	pickerWindow,
	shownEntries,
	type Entry,
	type PickerState,
} from './use-firmware-picker-state.js';

/** Rows the facts box takes at least (what a file holds, and one verdict line): the list keeps its height. */
const factsRows = 4;

export function pickerKeys(filtering: boolean): KeyHelp[] {
	return filtering
		? [
				{key: 'type', label: 'to filter'},
				{key: 'Up/Down', label: 'move'},
				{key: 'Enter', label: 'choose'},
				{key: 'Esc', label: 'leave filter'},
			]
		: [
				{key: 'Enter', label: 'choose'},
				{key: '/', label: 'filter'},
				{key: 's', label: 'sort'},
				{key: 'Bksp/Left', label: 'up'},
				{key: 'Home/End', label: 'first/last'},
				{key: 'Esc', label: 'back'},
				{key: '?', label: 'help'},
				{key: 'q', label: 'quit'},
			];
}

function dateText(ms?: number): string {
	if (!ms) return '';
	const d = new Date(ms);
	return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

type PickerProps = {state: PickerState; board: Board; known?: KnownBoard; target?: string; address?: number; pageRows: number};

/** The facts box of the highlighted entry: what the file holds, and the verdict on it for this board. */
function factsBox(s: PickerState, current: Entry | undefined, props: PickerProps, width: number, g: Theme['glyphs']): {about: Line[]; verdict: Line[]} {
	if (!current || current.kind !== 'file') {
		return {about: [{text: current?.kind === 'dir' ? 'Enter opens the folder.' : current?.kind === 'up' ? 'Enter goes up a folder.' : '', role: 'dim'}], verdict: []};
	}
	const facts = factsOf(s, current, props.address);
	if (!facts) return {about: [{text: 'Reading the file...', role: 'dim'}], verdict: []};
	if (facts.state === 'error') return {about: [], verdict: para(`${g.failed} ${facts.message}`, width, 'error', '  ')};
	const about = imageFacts(facts.image, facts.size).map((text): Line => ({text}));
	const warnings = imageWarnings(props.board, facts.image);
	if (warnings.length === 0) return {about, verdict: [{text: props.board.kind === 'dfu' && props.board.layout ? `${g.done} Fits this board.` : '', role: 'ok'}]};
	return {about, verdict: warnings.flatMap((w) => para(`${g.warn} ${w.text}`, width, w.fit ? 'error' : 'warn', '  '))};
}

export function FirmwarePicker(props: PickerProps) {
	const theme = useTheme();
	const width = useWidth();
	const {rows} = useTerminalSize();
	const g = theme.glyphs;
	const s = props.state;
	const keys = pickerKeys(s.filtering);
	const status = s.choosing ? 'Reading the file...' : s.notice;
	const room = rows - chromeLines(width, keys, status);
	const shown = shownEntries(s);
	const index = cursorIndex(s, shown);
	const {about, verdict} = factsBox(s, shown[index], props, width, g);
	// The verdict (a warning, an error) is shown whole: the list, which scrolls, gives up its rows.
	const listRows = Math.max(1, Math.min(props.pageRows, room - 3 - Math.max(factsRows, about.length + verdict.length)));
	const body: Line[] = [];
	body.push({text: fitMiddle(s.dir, width, g.ellipsis), role: 'accent'});
	const sortText = s.sort === 'name' ? 'by name' : 'newest first';
	body.push(
		s.filtering
			? {text: `Filter: ${s.filter}_`, role: 'accent'}
			: {text: s.filter ? `Filter: ${s.filter}  (Esc clears)   sorted ${sortText}` : `/ filters, s sorts (now ${sortText})`, role: 'dim'},
	);
	const {first, rows: visible} = pickerWindow(s, listRows, shown);
	const wide = width >= 80;
	const label = (e: Entry): string => {
		if (e.kind === 'up') return `  ${g.up}${g.folder}  (up a folder)`;
		if (e.kind === 'dir') return `  ${e.name}${g.folder}`;
		const ident = identOf(s, e);
		const identText = ident === undefined ? g.ellipsis : ident === null ? '-' : `${ident.target} ${ident.version}`;
		const mark = matchesTarget(s, e, props.target) ? g.done : ident && props.target ? g.warn : ' ';
		const extra = wide ? (s.sort === 'date' ? dateText(e.mtimeMs) : formatBytes(e.size ?? 0)).padStart(10) : '';
		const right = `${identText.padEnd(wide ? 24 : 20)}${extra}`;
		const nameWidth = Math.max(8, width - 2 - 2 - right.length - 2);
		return `${mark} ${fitMiddle(e.name, nameWidth, g.ellipsis).padEnd(nameWidth)}  ${right}`;
	};
	if (s.listing.state === 'loading') body.push({text: '  Reading the folder...', role: 'dim'});
	else if (s.listing.error) body.push(...para(s.listing.error, width, 'error').slice(0, 2));
	if (s.listing.state === 'ready' && shown.filter((e) => e.kind !== 'up').length === 0) {
		body.push({text: s.filter ? '  Nothing matches the filter.' : '  No folders or .hex/.bin/.dfu files here.', role: 'dim'});
	}
	for (let i = 0; i < visible.length; i++) {
		const e = visible[i]!;
		body.push(listRow(first + i === index, label(e), g.pointer, e.kind === 'file' ? undefined : 'dim'));
	}
	while (body.length < 2 + listRows) body.push(blank);
	body.length = 2 + listRows;
	body.push({text: shown.length > listRows ? `${first + 1}-${first + visible.length} of ${shown.length}` : '', role: 'dim'});
	// On a terminal too short even for that, what the file holds gives way; the verdict never does.
	body.push(...about.slice(0, Math.max(0, room - body.length - verdict.length)), ...verdict);
	return <Frame title={`Firmware for ${boardName(props.board, props.known)}`} keys={keys} body={body} status={status} />;
}
