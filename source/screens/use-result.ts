// Result screen keys: Enter (or Esc) returns to the device list.
import {useInput} from 'ink';

export function useResult({active, onDone}: {active: boolean; onDone(): void}) {
	useInput(
		(_input, key) => {
			if (key.return || key.escape) onDone();
		},
		{isActive: active},
	);
}
