// Screen 3b: the confirmation naming board, file and what will be erased; and the unprotect
// confirmation for a read-protected chip (it is wiped).
import {Text} from 'ink';
import {basename} from 'node:path';
import {formatBytes} from '../format.js';
import type {Board} from '../devices/types.js';
import type {FirmwareImage} from '../firmware/image.js';
import {boardName, eraseSummary, imageWarnings} from './describe.js';
import type {FlashChoices} from './types.js';
import {Frame, Line, useTheme, Para} from './ui.js';
import {useConfirm, type ConfirmKeys} from './use-confirm.js';

const keys = [
	{key: 'y', label: 'yes'},
	{key: 'n/Enter/Esc', label: 'back'},
	{key: '?', label: 'help'},
];

export function Confirm(props: ConfirmKeys & {board: Board; file: string; image: FirmwareImage; choices: FlashChoices}) {
	const theme = useTheme();
	useConfirm(props);
	const c = props.choices;
	const then = [`write ${formatBytes(props.image.bytes)}`, c.verify ? 'verify' : 'no verify', 'start the firmware'];
	if (props.board.kind === 'serial' && c.reboot) then.unshift('reboot it into DFU');
	const warnings = imageWarnings(props.board, props.image);
	return (
		<Frame title="Confirm" keys={keys}>
			<Line bold>Flash this board?</Line>
			<Text> </Text>
			<Line>{`Board:  ${boardName(props.board)}`}</Line>
			<Line>{`File:   ${basename(props.file)}`}</Line>
			{props.image.ident ? <Line>{`        ${props.image.ident.flavour} ${props.image.ident.version} ${props.image.ident.target}`}</Line> : null}
			<Line role={c.fullErase ? 'warn' : undefined}>{`Erase:  ${eraseSummary(props.board, props.image, c.fullErase)}`}</Line>
			<Line>{`Then:   ${then.join(', ')}`}</Line>
			{warnings.map((w) => (
				<Line key={w.text} role="warn">{`${theme.glyphs.warn} ${w.text}`}</Line>
			))}
			<Text> </Text>
			<Line bold role="accent">
				Press y to flash. n, Enter or Esc go back.
			</Line>
		</Frame>
	);
}

export function Unprotect(props: ConfirmKeys & {board: Board}) {
	useConfirm(props);
	return (
		<Frame title="Read-protected chip" keys={keys}>
			<Line bold role="error">{`${boardName(props.board)} is read-protected.`}</Line>
			<Text> </Text>
			<Para>{'It refuses erase and write until read protection is lifted. Unprotecting WIPES THE WHOLE CHIP (firmware and settings) and resets it; then the image is flashed.'}</Para>
			<Text> </Text>
			<Line bold role="accent">
				Press y to unprotect (wipe) and flash. n, Enter or Esc go back.
			</Line>
		</Frame>
	);
}
