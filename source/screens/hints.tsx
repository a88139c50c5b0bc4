// Screen 7: troubleshooting. The hints for what just happened first, then the general list.
import {tuiHint} from '../hints.js';
import {chromeLines, Frame, para, useTerminalSize, useTheme, useWidth, type KeyHelp, type Line} from './ui.js';
import {hintList, type HintsState} from './use-hints-state.js';

const keys: KeyHelp[] = [
	{key: 'Up/Down', label: 'scroll'},
	{key: 'Esc', label: 'back'},
	{key: 'q', label: 'quit'},
];

export function Hints({state}: {state: HintsState}) {
	const theme = useTheme();
	const width = useWidth();
	const {rows} = useTerminalSize();
	const g = theme.glyphs;
	const list = hintList(state.context);
	const room = rows - chromeLines(width, keys) - 1;
	const body: Line[] = [];
	if (state.offset > 0) body.push({text: `${g.ellipsis} ${state.offset} above (Up)`, role: 'dim'});
	let shown = 0;
	for (const item of list.slice(state.offset)) {
		const h = tuiHint(item.id);
		const lines: Line[] = [
			...(shown > 0 ? [{text: ''}] : []),
			{text: `${item.context ? `${g.warn} ` : ''}${h.title}`, role: item.context ? 'warn' : 'accent', bold: true},
			...para(h.text, width - 2).map((l) => ({...l, text: `  ${l.text}`})),
		];
		if (shown > 0 && body.length + lines.length > room) break;
		body.push(...lines);
		shown++;
	}
	const below = list.length - state.offset - shown;
	if (below > 0) body.push({text: `${g.ellipsis} ${below} more below (Down)`, role: 'dim'});
	return <Frame title="Troubleshooting" keys={keys} body={body} />;
}
