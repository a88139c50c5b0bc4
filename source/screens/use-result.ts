// Result screen keys: Enter (or Esc) returns to the device list.
import {useKeys} from './key-router.js';

export function useResult({active, onDone}: {active: boolean; onDone(): void}) {
	useKeys(
		(_input, key) => {
			if (key.return || key.escape) onDone();
		},
		{isActive: active},
	);
}
