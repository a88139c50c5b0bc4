// `fcflash-tui leave`: the leave job with the CLI as its front end.
import type {CliFlags} from '../cli/flags.js';
import type {Reporter} from '../cli/reporter.js';
import {runCliJob} from '../cli/run-job.js';
import {openBoardSource} from '../devices/board-source.js';
import {UsageError} from '../errors.js';
import {startLeaveJob} from '../jobs/leave-job.js';
import {usbTracer} from './trace.js';

export async function leaveCommand(args: string[], flags: CliFlags, reporter: Reporter): Promise<number> {
	if (args.length > 0) throw new UsageError(`leave takes no arguments (use --device ID), got: ${args.join(' ')}`);
	const source = await openBoardSource(flags);
	try {
		const context = {source, interaction: 'none' as const, trace: flags.verbose ? usbTracer(process.stderr) : undefined};
		return await runCliJob(reporter, (listener) => startLeaveJob(context, {device: flags.device}, listener));
	} finally {
		await source.close?.();
	}
}
