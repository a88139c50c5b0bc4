// `fcflash-tui backup OUT.bin`: the backup job with the CLI as its front end.
import type {CliFlags} from '../cli/flags.js';
import type {Reporter} from '../cli/reporter.js';
import {runCliJob} from '../cli/run-job.js';
import {openBoardSource} from '../devices/board-source.js';
import {UsageError} from '../errors.js';
import {startBackupJob} from '../jobs/backup-job.js';
import {usbTracer} from './trace.js';

export async function backupCommand(args: string[], flags: CliFlags, reporter: Reporter): Promise<number> {
	if (args.length !== 1) throw new UsageError(`backup needs one output file: fcflash-tui backup OUT.bin${args.length ? ` (got ${args.join(' ')})` : ''}`);
	const source = await openBoardSource(flags);
	try {
		const context = {source, interaction: 'none' as const, trace: flags.verbose ? usbTracer(process.stderr) : undefined};
		return await runCliJob(reporter, (listener) => startBackupJob(context, {out: args[0]!, device: flags.device, reboot: flags.reboot, baud: flags.baud}, listener));
	} finally {
		await source.close?.();
	}
}
