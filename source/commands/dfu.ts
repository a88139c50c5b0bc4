// `fcflash-tui dfu`: the dfu job with the CLI as its front end.
import type {CliFlags} from '../cli/flags.js';
import type {Reporter} from '../cli/reporter.js';
import {runCliJob} from '../cli/run-job.js';
import {openBoardSource} from '../devices/board-source.js';
import {UsageError} from '../errors.js';
import {startDfuJob} from '../jobs/dfu-job.js';

export async function dfuCommand(args: string[], flags: CliFlags, reporter: Reporter): Promise<number> {
	if (args.length > 0) throw new UsageError(`dfu takes no arguments (use --device ID), got: ${args.join(' ')}`);
	if (!flags.reboot) throw new UsageError('dfu reboots a flight controller into DFU; --no-reboot contradicts it.');
	const source = await openBoardSource(flags);
	try {
		return await runCliJob(reporter, (listener) => startDfuJob({source, interaction: 'none'}, {device: flags.device, baud: flags.baud}, listener));
	} finally {
		await source.close?.();
	}
}
