// Screen 4b: the result. Time, bytes, verified or not; or the failure with its hint.
import {Box, Text} from 'ink';
import {basename} from 'node:path';
import {formatBytes, formatDuration} from '../format.js';
import type {Board} from '../devices/types.js';
import {hints} from '../hints.js';
import {boardName} from './describe.js';
import type {Outcome} from './types.js';
import {Frame, Line, useTheme, Para} from './ui.js';
import {useResult} from './use-result.js';

export function Result(props: {outcome: Outcome; board: Board; file: string; active: boolean; onDone(): void}) {
	const theme = useTheme();
	const g = theme.glyphs;
	useResult(props);
	const keys = [
		{key: 'Enter', label: 'device list'},
		{key: '?', label: 'help'},
		{key: 'q', label: 'quit'},
	];
	const o = props.outcome;
	if (o.ok) {
		const r = o.result;
		return (
			<Frame title="Done" keys={keys}>
				<Line bold role="ok">{`${g.done} Flashed successfully in ${formatDuration(r.durationMs)}`}</Line>
				<Text> </Text>
				<Line>{`Board:     ${boardName(r.board)}`}</Line>
				<Line>{`File:      ${basename(props.file)}`}</Line>
				<Line>{`Erased:    ${r.erase.sectors} sector${r.erase.sectors === 1 ? '' : 's'}, ${formatBytes(r.erase.bytes)}${r.erase.mode === 'sectors' ? '' : ' (whole chip)'}`}</Line>
				<Line>{`Written:   ${formatBytes(r.written)}${r.skipped ? ` (+${formatBytes(r.skipped)} of 0xFF skipped)` : ''}`}</Line>
				<Line role={r.verified ? 'ok' : 'warn'}>{`Verified:  ${r.verified ? 'yes, the flash reads back the image' : 'NO (verify was off)'}`}</Line>
				<Line>{`Started:   ${r.left ? 'yes, the board runs the new firmware' : 'no'}`}</Line>
				<Text> </Text>
				<Line role="accent">Press Enter to return to the device list.</Line>
			</Frame>
		);
	}
	const hint = o.hint ? hints[o.hint] : undefined;
	return (
		<Frame title={o.cancelled ? 'Stopped' : 'Failed'} keys={keys}>
			<Line bold role="error">{`${g.failed} ${o.cancelled ? 'Flashing was stopped' : 'Flashing failed'} (${boardName(props.board)})`}</Line>
			<Text> </Text>
			<Para>{o.message}</Para>
			{hint ? (
				<Box flexDirection="column" marginTop={1}>
					<Line role="warn">{`${g.warn} ${hint.title}`}</Line>
					<Para>{hint.text}</Para>
				</Box>
			) : null}
			<Text> </Text>
			<Line role="accent">Press Enter to return to the device list, ? for more help.</Line>
		</Frame>
	);
}
