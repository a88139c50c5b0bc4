// The settings lines a restore did not bring back (r on the result): each refused line with the
// firmware's message, then the lines that still differ; where the whole backup is.
import type {FlashReport} from '../jobs/types.js';
import {blank, chromeLines, Frame, para, useTerminalSize, useTheme, useWidth, type KeyHelp, type Line} from './ui.js';
import {settingsLines, type SettingsLinesState} from './use-settings-lines-state.js';
import {wrapPath} from './screen-text.js';

const keys: KeyHelp[] = [
	{key: 'Up/Down', label: 'scroll'},
	{key: 'Esc', label: 'back'},
	{key: 'q', label: 'quit'},
];

export function SettingsLines(props: {settings: NonNullable<FlashReport['settings']>; state: SettingsLinesState}) {
	const theme = useTheme();
	const width = useWidth();
	const {rows} = useTerminalSize();
	const g = theme.glyphs;
	const st = props.settings;
	const entries = settingsLines(st);
	const offset = Math.min(props.state.offset, Math.max(0, entries.length - 1));
	const counts = [
		st.rejected.length ? `${st.rejected.length} line${st.rejected.length === 1 ? '' : 's'} refused by the new firmware` : '',
		st.remaining.length ? `${st.remaining.length} still different after the restore` : '',
	].filter(Boolean);
	const head: Line[] = [
		...para(`${counts.join(', ')}: set ${st.rejected.length + st.remaining.length === 1 ? 'it' : 'them'} by hand (Configurator).`, width, 'dim'),
		...(st.backup ? wrapPath('Backup: ', st.backup, width, '        ').map((text): Line => ({text, role: 'dim'})) : []),
		blank,
	];
	const room = rows - chromeLines(width, keys) - head.length - 1;
	const body: Line[] = [];
	if (offset > 0) body.push({text: `${g.ellipsis} ${offset} above (Up)`, role: 'dim'});
	let shown = 0;
	for (let i = offset; i < entries.length; i++) {
		const e = entries[i]!;
		const lines: Line[] = [];
		if (i === offset || entries[i - 1]!.kind !== e.kind) lines.push({text: e.kind === 'rejected' ? 'Refused by the new firmware:' : 'Still different after the restore:', role: 'warn', bold: true});
		lines.push(...para(e.kind === 'rejected' ? `${e.line} — ${e.message}` : e.line, width, undefined, '    '));
		if (shown > 0 && body.length + lines.length > room) break;
		body.push(...lines);
		shown++;
	}
	const below = entries.length - offset - shown;
	if (below > 0) body.push({text: `${g.ellipsis} ${below} more below (Down)`, role: 'dim'});
	return <Frame title="Settings not restored" keys={keys} body={[...head, ...body]} />;
}
