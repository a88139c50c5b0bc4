// Argument checks shared by the commands: what the flags parser cannot say.
import {UsageError} from '../errors.js';
import {defaultWaitMs} from '../jobs/reboot.js';

export function requireFile(args: string[], command: string): string {
	if (args.length === 0) throw new UsageError(`${command} needs a firmware file: fcflash-tui ${command} FILE`);
	if (args.length > 1) throw new UsageError(`${command} takes one file, got ${args.length}: ${args.join(' ')}`);
	return args[0]!;
}

/** --wait S: how long to wait for the DFU board after the reboot attempts. */
export function waitMs(flags: {wait?: number}): number {
	if (flags.wait === undefined) return defaultWaitMs;
	if (!Number.isFinite(flags.wait) || flags.wait <= 0) throw new UsageError(`--wait ${flags.wait}: give the seconds to wait, e.g. --wait 60.`);
	return flags.wait * 1000;
}
