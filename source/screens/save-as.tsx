// Backing up the flash of a board in DFU: where the file goes (prefilled, editable).
import type {Board} from '../devices/types.js';
import {boardName, type KnownBoard} from './screen-text.js';
import {blank, Frame, para, useWidth, type Line} from './ui.js';
import type {SaveAsState} from './use-save-as-state.js';

export function SaveAs(props: {board: Board; state: SaveAsState; known?: KnownBoard}) {
	const width = useWidth();
	const body: Line[] = [
		...para(`Back up the whole flash of ${boardName(props.board, props.known)} to a file. Nothing on the board changes.`, width),
		blank,
		{text: 'File (type to change it):', role: 'dim'},
		// The end of the path is where typing happens: keep it in view.
		...para(`${props.state.text}_`, width, 'accent'),
	];
	return (
		<Frame
			title="Back up the flash"
			keys={[
				{key: 'Enter', label: 'back up'},
				{key: 'Bksp', label: 'delete'},
				{key: 'Esc', label: 'cancel'},
			]}
			body={body}
			status={props.state.notice}
		/>
	);
}
