// Screen 2: pick the firmware file. Folders and .hex/.bin/.dfu files, `/` to filter, the
// highlighted file's facts and warnings (does not fit the board, built for another target).
import {Box} from 'ink';
import {formatBytes} from '../format.js';
import {boardName, fitMiddle, imageFacts} from './describe.js';
import {Frame, Line, Row, useTerminalSize, useTheme, useWidth} from './ui.js';
import {useFirmwarePicker, type PickerProps} from './use-firmware-picker.js';

export function FirmwarePicker(props: PickerProps) {
	const theme = useTheme();
	const width = useWidth();
	const {rows} = useTerminalSize();
	const p = useFirmwarePicker(props);
	const keys = p.filtering
		? [
				{key: 'type', label: 'to filter'},
				{key: 'Enter', label: 'choose'},
				{key: 'Esc', label: 'leave filter'},
			]
		: [
				{key: 'Enter', label: 'choose'},
				{key: '/', label: 'filter'},
				{key: 'Bksp/Left', label: 'up'},
				{key: 'Esc', label: 'back'},
				{key: '?', label: 'help'},
				{key: 'q', label: 'quit'},
			];
	const listRows = Math.max(3, rows - 15);
	const first = Math.max(0, Math.min(p.index - Math.floor(listRows / 2), p.entries.length - listRows));
	const visible = p.entries.slice(first, first + listRows);
	const label = (e: (typeof p.entries)[number]) =>
		e.kind === 'up' ? `${theme.glyphs.up}${theme.glyphs.folder}  (up a folder)` : e.kind === 'dir' ? `${e.name}${theme.glyphs.folder}` : `${e.name}  ${formatBytes(e.size ?? 0)}`;
	const facts = p.facts;
	return (
		<Frame title={`Firmware for ${props.board ? boardName(props.board) : 'the board'}`} keys={keys} status={p.notice}>
			<Line role="accent">{fitMiddle(p.dir, width, theme.glyphs.ellipsis)}</Line>
			<Line role={p.filtering ? 'accent' : 'dim'}>{p.filtering ? `Filter: ${p.filter}_` : p.filter ? `Filter: ${p.filter}  (Esc clears)` : 'Press / to filter'}</Line>
			{p.error ? <Line role="error">{p.error}</Line> : null}
			<Box flexDirection="column" height={listRows}>
				{p.entries.length <= (p.entries[0]?.kind === 'up' ? 1 : 0) ? (
					<Line role="dim">{p.filter ? '  Nothing matches the filter.' : '  No folders or .hex/.bin/.dfu files here.'}</Line>
				) : null}
				{visible.map((e, i) => (
					<Row key={e.path} selected={first + i === p.index} text={label(e)} role={e.kind === 'file' ? undefined : 'dim'} />
				))}
			</Box>
			<Box flexDirection="column" height={5}>
				{facts === undefined ? (
					<Line role="dim">{p.current?.kind === 'dir' ? 'Enter opens the folder.' : ''}</Line>
				) : facts.state === 'loading' ? (
					<Line role="dim">Reading the file...</Line>
				) : facts.state === 'error' ? (
					<Line role="error">{`${theme.glyphs.failed} ${facts.message}`}</Line>
				) : (
					<>
						{imageFacts(facts.image, facts.size).map((line) => (
							<Line key={line}>{line}</Line>
						))}
						{facts.warnings.length === 0 ? (
							<Line role="ok">{props.board?.kind === 'dfu' && props.board.layout ? `${theme.glyphs.done} Fits this board.` : ''}</Line>
						) : (
							facts.warnings.map((w) => <Line key={w.text} role={w.blocking ? 'error' : 'warn'}>{`${theme.glyphs.warn} ${w.text}`}</Line>)
						)}
					</>
				)}
			</Box>
		</Frame>
	);
}
