// Screen 1: the connected boards. DFU boards and serial flight controllers, live on plug/unplug.
import {Box} from 'ink';
import {hints, type HintId} from '../hints.js';
import {boardDetails, boardTitle} from './describe.js';
import {Frame, Line, Row, useTerminalSize, useTheme, Para} from './ui.js';
import {useDeviceList, type DeviceListProps} from './use-device-list.js';

const emptyHints: HintId[] = ['cable', 'udev', 'boot-button'];

export function DeviceList(props: DeviceListProps) {
	const theme = useTheme();
	const {rows} = useTerminalSize();
	const {boards, loaded, index, notice} = useDeviceList(props);
	const keys = [
		{key: 'Up/Down', label: 'move'},
		{key: 'Enter', label: 'choose'},
		{key: '?', label: 'help'},
		{key: 'q', label: 'quit'},
	];
	// Two lines per board; keep the frame below the terminal height.
	const fitsBoards = Math.max(1, Math.floor((rows - 8) / 2));
	const first = Math.max(0, Math.min(index - fitsBoards + 1, boards.length - fitsBoards));
	const visible = boards.slice(first, first + fitsBoards);
	return (
		<Frame title="Choose a board" keys={keys} status={notice}>
			{props.sourceError ? (
				<>
					<Line role="error">{`Cannot look for boards: ${props.sourceError.message}`}</Line>
					{props.sourceError.hint ? <Para>{hints[props.sourceError.hint].text}</Para> : null}
				</>
			) : !loaded ? (
				<Line role="dim">Looking for boards...</Line>
			) : boards.length === 0 ? (
				<>
					<Line bold>No board found. Plug one in: this list updates by itself.</Line>
					{emptyHints.map((id) => (
						<Box key={id} flexDirection="column" marginTop={1}>
							<Line role="warn">{`${theme.glyphs.warn} ${hints[id].title}`}</Line>
							<Para>{hints[id].text}</Para>
						</Box>
					))}
				</>
			) : (
				<>
					<Line role="dim">{`${boards.length} board${boards.length === 1 ? '' : 's'} connected (updates on plug/unplug)`}</Line>
					{first > 0 ? <Line role="dim">{`  ${theme.glyphs.ellipsis} ${first} more above`}</Line> : null}
					{visible.map((b, i) => (
						<Box key={b.id} flexDirection="column">
							<Row selected={first + i === index} text={boardTitle(b)} role={b.problem ? 'error' : undefined} />
							<Line role={b.problem ? 'error' : 'dim'}>{`    ${b.problem ? `${theme.glyphs.warn} ${b.problem.message}` : boardDetails(b)}`}</Line>
						</Box>
					))}
					{first + fitsBoards < boards.length ? <Line role="dim">{`  ${theme.glyphs.ellipsis} ${boards.length - first - fitsBoards} more below`}</Line> : null}
				</>
			)}
		</Frame>
	);
}
