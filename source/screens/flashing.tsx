// Screen 4a: flashing progress. Phases with a bar for the current one; bytes, rate and ETA.
import {Text} from 'ink';
import {basename} from 'node:path';
import type {Board} from '../devices/types.js';
import {boardName, phaseLabels, progressBar} from './describe.js';
import {Frame, Line, useTheme, useWidth} from './ui.js';
import type {FlashView} from './use-flash.js';

export function Flashing(props: {view: FlashView; board: Board; file: string; quitAsk: boolean}) {
	const theme = useTheme();
	const width = useWidth();
	const g = theme.glyphs;
	const v = props.view;
	const barWidth = Math.max(10, Math.min(40, width - 30));
	const status = props.quitAsk
		? 'Stop flashing and quit? The board stays in its bootloader; flash again later. y stop, n go on'
		: v.stopping
			? 'Stopping at the next block boundary...'
			: undefined;
	return (
		<Frame title="Flashing" keys={[{key: 'q', label: 'stop (asks first)'}, {key: '?', label: 'help'}]} status={status}>
			<Line role="dim">{`Board: ${boardName(props.board)}`}</Line>
			<Line role="dim">{`File:  ${basename(props.file)}`}</Line>
			<Text> </Text>
			{v.phases.map((phase) => {
				const done = v.finished.includes(phase);
				const current = !done && phase === v.current;
				const glyph = done ? g.done : current ? g.active : g.pending;
				const label = phaseLabels[phase].padEnd(16);
				const text = current ? `${glyph} ${label} ${progressBar(v.percent / 100, barWidth, g.barFull, g.barEmpty)} ${String(v.percent).padStart(3)}%` : `${glyph} ${label}`;
				return (
					<Line key={phase} role={done ? 'ok' : current ? 'accent' : 'dim'} bold={current}>
						{` ${text}`}
					</Line>
				);
			})}
			<Text> </Text>
			<Line>{v.current ? ` ${v.stats}` : ' Opening the board...'}</Line>
			<Line role="dim">{v.info ? ` ${v.info}` : ' '}</Line>
		</Frame>
	);
}
