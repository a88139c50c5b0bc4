// `fcflash-tui settings backup|restore|diff`: the settings jobs with the CLI as their front end.
import type {CliFlags} from '../cli/flags.js';
import type {Reporter} from '../cli/reporter.js';
import {cliInteraction, runCliJob} from '../cli/run-job.js';
import {openBoardSource} from '../devices/board-source.js';
import {UsageError} from '../errors.js';
import {startSettingsBackupJob, startSettingsDiffJob, startSettingsRestoreJob} from '../jobs/settings-job.js';

export async function settingsCommand(args: string[], flags: CliFlags, reporter: Reporter): Promise<number> {
	const [action, ...rest] = args;
	const usage = 'settings backup [--out FILE] | settings restore FILE [--yes] [--force] | settings diff FILE';
	if (action !== 'backup' && action !== 'restore' && action !== 'diff') throw new UsageError(`Usage: fcflash-tui ${usage}`);
	if (action === 'backup' ? rest.length !== 0 : rest.length !== 1) throw new UsageError(`Usage: fcflash-tui ${usage}`);
	const source = await openBoardSource(flags);
	try {
		const context = {source, interaction: cliInteraction(flags)};
		if (action === 'backup') return await runCliJob(reporter, (l) => startSettingsBackupJob(context, {device: flags.device, out: flags.out}, l));
		const request = {device: flags.device, file: rest[0]!, yes: flags.yes, force: flags.force};
		if (action === 'restore') return await runCliJob(reporter, (l) => startSettingsRestoreJob(context, request, l));
		return await runCliJob(reporter, (l) => startSettingsDiffJob(context, request, l));
	} finally {
		await source.close?.();
	}
}
