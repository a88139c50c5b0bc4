// A yes/no question: only `y` says yes; `n`, Enter and Esc go back (CONTRACT: Enter never flashes).
import {useKeys} from './key-router.js';

export interface ConfirmKeys {
	active: boolean;
	onYes(): void;
	onNo(): void;
}

export function useConfirm({active, onYes, onNo}: ConfirmKeys) {
	useKeys(
		(input, key) => {
			if (input === 'y' || input === 'Y') onYes();
			else if (input === 'n' || input === 'N' || key.return || key.escape) onNo();
		},
		{isActive: active},
	);
}
