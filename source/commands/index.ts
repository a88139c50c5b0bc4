// Commands other than flash and inspect, loaded on demand.
import type {CliFlags} from '../cli/flags.js';
import type {Reporter} from '../cli/reporter.js';
import {UsageError} from '../errors.js';

export async function runOther(command: string, args: string[], flags: CliFlags, reporter: Reporter): Promise<number> {
	switch (command) {
		case 'list':
			return (await import('./list.js')).listCommand(args, flags, reporter);
		case 'backup':
			return (await import('./backup.js')).backupCommand(args, flags, reporter);
		case 'leave':
			return (await import('./leave.js')).leaveCommand(args, flags, reporter);
		case 'dfu':
			return (await import('./dfu.js')).dfuCommand(args, flags, reporter);
		case 'settings':
			return (await import('./settings.js')).settingsCommand(args, flags, reporter);
		case 'doctor':
			return (await import('./doctor.js')).doctorCommand(args, flags, reporter);
		case 'udev-rules':
			return (await import('./udev-rules.js')).udevRulesCommand(args, flags, reporter);
		default:
			throw new UsageError(`Unknown command "${command}". Run fcflash-tui --help for the list.`);
	}
}
