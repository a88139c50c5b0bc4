// A yes/no question: only `y` says yes; `n`, Enter and Esc go back (CONTRACT: Enter never flashes).
import {useInput} from 'ink';

export interface ConfirmKeys {
	active: boolean;
	onYes(): void;
	onNo(): void;
}

export function useConfirm({active, onYes, onNo}: ConfirmKeys) {
	useInput(
		(input, key) => {
			if (input === 'y' || input === 'Y') onYes();
			else if (input === 'n' || input === 'N' || key.return || key.escape) onNo();
		},
		{isActive: active},
	);
}
