// Screen 3a: flash options. Space toggles, Enter advances to the confirmation.
import {Box, Text} from 'ink';
import {basename} from 'node:path';
import {boardName} from './describe.js';
import {Frame, Line, useTheme, useWidth} from './ui.js';
import {useOptions, type OptionId, type OptionsProps} from './use-options.js';
import {fitEnd} from './describe.js';

export function Options(props: OptionsProps) {
	const theme = useTheme();
	const width = useWidth();
	const o = useOptions(props);
	const c = props.choices;
	const g = theme.glyphs;
	const box = (on: boolean) => (on ? g.checked : g.unchecked);
	const dfu = props.board.kind === 'dfu';
	const notRelevant = 'not relevant: the board is already in DFU';
	const describe: Record<OptionId, {label: string; value: string; help: string}> = {
		fullErase: {
			label: 'Full chip erase',
			value: box(c.fullErase),
			help: c.fullErase ? 'Erases the whole chip: settings (PIDs, rates, modes) are LOST.' : 'Off: only the sectors the image uses are erased; settings are kept.',
		},
		verify: {label: 'Verify', value: box(c.verify), help: c.verify ? 'Reads the flash back and compares it.' : 'Off: the flash is not read back.'},
		noReboot: {
			label: 'No reboot sequence',
			value: dfu ? g.dash : box(!c.reboot),
			help: dfu ? notRelevant : c.reboot ? 'The FC is asked over serial to reboot into DFU first.' : 'On: the FC must already be in DFU (hold BOOT).',
		},
		baud: {label: 'Baud rate', value: dfu ? g.dash : String(c.baud), help: dfu ? notRelevant : 'Serial speed for the reboot request; Space cycles.'},
		address: {label: 'Address (.bin)', value: c.address + (o.cursor === 'address' ? '_' : ''), help: 'Load address of the raw binary; type hex, Backspace deletes.'},
	};
	return (
		<Frame
			title="Options"
			keys={[
				{key: 'Up/Down', label: 'move'},
				{key: 'Space', label: 'toggle'},
				{key: 'Enter', label: 'continue'},
				{key: 'Esc', label: 'back'},
				{key: '?', label: 'help'},
			]}
			status={o.busy ? 'Reading the file at the new address...' : o.error}
		>
			<Line role="dim">{`Board: ${boardName(props.board)}`}</Line>
			<Line role="dim">{`File:  ${basename(props.file)}`}</Line>
			<Text> </Text>
			{o.rows.map((r) => {
				const d = describe[r.id];
				const selected = r.id === o.cursor;
				const pointer = selected ? g.pointer : ' '.repeat(g.pointer.length);
				const color = !r.relevant ? theme.c('dim') : selected ? theme.c('accent') : undefined;
				return (
					<Box key={r.id} flexDirection="column">
						<Text color={color} bold={selected}>
							{fitEnd(`${pointer} ${d.label.padEnd(20)} ${d.value}`, width, g.ellipsis)}
						</Text>
						<Text color={theme.c('dim')}>{fitEnd(`    ${d.help}`, width, g.ellipsis)}</Text>
					</Box>
				);
			})}
		</Frame>
	);
}
