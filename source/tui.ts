// The interactive terminal UI is loaded only from here, so headless commands never load Ink/React.
import type {CliFlags} from './cli.js';
import {UsageError} from './errors.js';

export async function runTui(_flags: CliFlags): Promise<number> {
	throw new UsageError('The interactive UI is not built yet: use the flash, inspect and list commands.');
}
