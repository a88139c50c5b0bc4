// Flag and argument parsing shared by the commands.
import {UsageError} from '../errors.js';

export function parseAddress(text: string | undefined): number | undefined {
	if (text === undefined) return undefined;
	const t = text.trim();
	const n = /^0x[0-9a-f]+$/i.test(t) ? Number.parseInt(t, 16) : /^\d+$/.test(t) ? Number(t) : Number.NaN;
	if (!Number.isSafeInteger(n) || n < 0 || n > 0xffffffff) throw new UsageError(`--address "${text}" is not an address (use e.g. 0x08000000).`);
	return n;
}

export function requireFile(args: string[], command: string): string {
	if (args.length === 0) throw new UsageError(`${command} needs a firmware file: fcflash-tui ${command} FILE`);
	if (args.length > 1) throw new UsageError(`${command} takes one file, got ${args.length}: ${args.join(' ')}`);
	return args[0]!;
}
