// Screen 5: troubleshooting. The hint for what just happened first, then the general list.
import {Box} from 'ink';
import {hints, type HintId} from '../hints.js';
import {Frame, Line, useTerminalSize, useTheme, useWidth, Para} from './ui.js';
import {useHints} from './use-hints.js';

export function Hints(props: {context: HintId[]; active: boolean; onBack(): void}) {
	const theme = useTheme();
	const width = useWidth();
	const {rows} = useTerminalSize();
	const {list, offset} = useHints(props);
	// Show whole hints from the offset while they fit (title + wrapped text + gap).
	let budget = rows - 7;
	const shown: typeof list = [];
	for (const item of list.slice(offset)) {
		const h = hints[item.id];
		const lines = 1 + h.text.split('\n').reduce((n, part) => n + Math.max(1, Math.ceil(part.length / (width - 2))), 0);
		if (shown.length > 0 && lines > budget) break;
		shown.push(item);
		budget -= lines + 1;
	}
	const below = list.length - offset - shown.length;
	return (
		<Frame
			title="Troubleshooting"
			keys={[
				{key: 'Up/Down', label: 'scroll'},
				{key: 'Esc', label: 'back'},
				{key: 'q', label: 'quit'},
			]}
		>
			{offset > 0 ? <Line role="dim">{`${theme.glyphs.ellipsis} ${offset} above`}</Line> : null}
			{shown.map((item, i) => (
				<Box key={item.id} flexDirection="column" marginTop={i === 0 ? 0 : 1}>
					<Line bold role={item.context ? 'warn' : 'accent'}>{`${item.context ? `${theme.glyphs.warn} ` : ''}${hints[item.id].title}`}</Line>
					<Box paddingLeft={2}>
						<Para>{hints[item.id].text}</Para>
					</Box>
				</Box>
			))}
			{below > 0 ? <Line role="dim">{`${theme.glyphs.ellipsis} ${below} more below (Down)`}</Line> : null}
		</Frame>
	);
}
