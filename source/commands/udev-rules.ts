// `fcflash-tui udev-rules [--install]`: print the rules file, or install it when already root.
import type {CliFlags} from '../cli/flags.js';
import type {Reporter} from '../cli/reporter.js';
import {UsageError} from '../errors.js';
import {effectiveUid, findUdevadm, installRules} from '../udev/install.js';
import {rulesPath, rulesText} from '../udev/rules.js';

export async function udevRulesCommand(args: string[], flags: CliFlags, reporter: Reporter): Promise<number> {
	if (args.length > 0) throw new UsageError(`udev-rules takes no arguments, got: ${args.join(' ')}`);
	const text = rulesText();
	const path = rulesPath();
	if (!flags.install) {
		if (reporter.mode === 'json') reporter.result(true, {path, installed: false, rules: text});
		else process.stdout.write(text);
		return 0;
	}
	const result = installRules({path, uid: effectiveUid(), udevadm: findUdevadm(), text});
	const summary = [
		`Installed ${path}.`,
		result.reloaded ? 'udev reloaded its rules and re-triggered the devices: replug the board.' : result.reloadProblem,
		'Users also need the groups: sudo usermod -a -G plugdev,dialout USER (then log in again).',
	]
		.filter(Boolean)
		.join('\n');
	reporter.result(true, {path, installed: true, bytes: result.bytes, reloaded: result.reloaded, warning: result.reloadProblem ?? null}, summary);
	return 0;
}
