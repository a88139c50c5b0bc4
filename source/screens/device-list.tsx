// Screen 1: the connected boards. DFU boards and serial flight controllers, live on plug/unplug.
import {tuiHint, type HintId} from '../hints.js';
import {boardDetails, boardTitle} from './screen-text.js';
import {blank, chromeLines, Frame, listRow, para, useTerminalSize, useTheme, useWidth, type KeyHelp, type Line} from './ui.js';
import {knownBoard, selectedIndex, shownBoards, type DeviceListState} from './use-device-list-state.js';

const emptyHints: HintId[] = ['cable', 'udev', 'boot-button'];

export const deviceListKeys: KeyHelp[] = [
	{key: 'Up/Down', label: 'move'},
	{key: 'Enter', label: 'flash'},
	{key: 's', label: 'start firmware'},
	{key: 'b', label: 'back up'},
	{key: '?', label: 'help'},
	{key: 'q', label: 'quit'},
];

export function DeviceList({state}: {state: DeviceListState}) {
	const theme = useTheme();
	const width = useWidth();
	const {rows} = useTerminalSize();
	const g = theme.glyphs;
	const room = rows - chromeLines(width, deviceListKeys, state.notice);
	const body: Line[] = [];
	const boards = shownBoards(state);
	if (state.sourceError) {
		body.push(...para(`Cannot look for boards: ${state.sourceError.message}`, width, 'error'));
		if (state.sourceError.hint) body.push(blank, ...para(tuiHint(state.sourceError.hint).text, width));
	} else if (!state.boards) {
		body.push({text: 'Looking for boards...', role: 'dim'});
	} else if (boards.length === 0) {
		body.push(...para('No board found. Plug one in: this list updates by itself.', width, undefined, '', true));
		for (const id of emptyHints) {
			const lines = [blank, {text: `${g.warn} ${tuiHint(id).title}`, role: 'warn' as const}, ...para(tuiHint(id).text, width, undefined, '  ')];
			if (body.length + lines.length > room) break;
			body.push(...lines);
		}
	} else {
		const index = selectedIndex(state, boards);
		const rowsOf = (i: number): Line[] => {
			const b = boards[i]!;
			const known = knownBoard(state, b);
			const second = b.problem ? `${g.warn} ${b.problem.message}` : boardDetails(b, known);
			return [listRow(i === index, boardTitle(b, known), g.pointer, b.problem ? 'error' : undefined), ...para(second, width - 4, b.problem ? 'error' : 'dim').map((l) => ({...l, text: `    ${l.text}`}))];
		};
		body.push({text: `${boards.length} board${boards.length === 1 ? '' : 's'} connected (updates on plug/unplug)`, role: 'dim'});
		// The boards that fit, keeping the highlighted one in view.
		const space = room - 1 - 2;
		let first = index;
		let used = rowsOf(index).length;
		let last = index;
		while (last + 1 < boards.length && used + rowsOf(last + 1).length <= space) used += rowsOf(++last).length;
		while (first > 0 && used + rowsOf(first - 1).length <= space) used += rowsOf(--first).length;
		if (first > 0) body.push({text: `  ${g.ellipsis} ${first} more above`, role: 'dim'});
		for (let i = first; i <= last; i++) body.push(...rowsOf(i));
		if (last + 1 < boards.length) body.push({text: `  ${g.ellipsis} ${boards.length - last - 1} more below`, role: 'dim'});
	}
	return <Frame title="Choose a board" keys={deviceListKeys} body={body} status={state.notice} />;
}
