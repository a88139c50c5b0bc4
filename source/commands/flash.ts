// `fcflash-tui flash FILE`: the flash job with the CLI as its front end.
import type {CliFlags} from '../cli/flags.js';
import type {Reporter} from '../cli/reporter.js';
import {cliInteraction, runCliJob} from '../cli/run-job.js';
import {openBoardSource} from '../devices/board-source.js';
import {UsageError} from '../errors.js';
import {parseAddress} from '../jobs/address.js';
import {startFlashJob} from '../jobs/flash-job.js';
import {requireFile, waitMs} from './args.js';
import {usbTracer} from './trace.js';

export async function flashCommand(args: string[], flags: CliFlags, reporter: Reporter): Promise<number> {
	const file = requireFile(args, 'flash');
	const address = flags.address === undefined ? undefined : parseAddress(flags.address);
	const request = {
		file,
		address,
		device: flags.device,
		fullErase: flags.fullErase,
		verify: flags.verify,
		reboot: flags.reboot,
		baud: flags.baud,
		yes: flags.yes,
		force: flags.force,
		unprotect: flags.unprotect,
		waitMs: waitMs(flags),
	};
	if (flags.onConnect && flags.device) throw new UsageError('--on-connect flashes every board that is plugged in; --device names one. Use one or the other.');
	const source = await openBoardSource(flags);
	let touched = false;
	try {
		if (flags.onConnect) {
			const {startOnConnectJob} = await import('../jobs/on-connect-job.js');
			return await runCliJob(reporter, (listener) => startOnConnectJob({source, interaction: cliInteraction(flags)}, {...request, count: flags.count}, listener));
		}
		return await runCliJob(reporter, (listener) =>
			startFlashJob({source, interaction: cliInteraction(flags), trace: flags.verbose ? usbTracer(process.stderr) : undefined}, request, (event) => {
				if (event.type === 'progress' && (event.phase === 'erase' || event.phase === 'write' || event.phase === 'unprotect')) touched = true;
				listener(event);
			}),
		);
	} finally {
		// The emulated board keeps its flash after a run that touched it (success or failure).
		if (touched) await source.saveState?.();
		await source.close?.();
	}
}
