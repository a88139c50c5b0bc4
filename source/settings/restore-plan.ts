// What a restore sends, decided before anything is sent. The backup's own lines in their order
// (contexts matter: `profile 1` before its settings), with `defaults nosave` first so the board
// starts from its defaults, and `save` last. Comments, mcu_id and signature are not sent, nor is any
// line that is not a settings command (a hand-edited file could hold `bl` or `motor 0 2000`).
//
// Betaflight refuses `save` after a `batch start` in which any line failed, until `batch end`
// acknowledges the errors (`###ERROR IN save: ERRORS WERE DETECTED...###`); a backup from
// `diff all` has `batch start` and relies on `save`, so the plan ends an open batch itself.
import type {DiffEntry, ParsedSettings} from './diff-text.js';

export interface PlannedLine {
	/** Line number in the backup (0 for a line the plan adds). */
	line: number;
	text: string;
	/** An assignment (counts as applied when accepted). */
	setting: boolean;
}

export interface RestorePlan {
	/** Sent in order; then `save`. */
	lines: PlannedLine[];
	/** In the backup but never sent: not settings commands. */
	notSent: DiffEntry[];
}

/** `defaults nosave` (Betaflight and relatives) or `defaults noreboot` (INAV). */
export const defaultsLine = (variant: string | undefined) => (variant?.toUpperCase() === 'INAV' ? 'defaults noreboot' : 'defaults nosave');

export function planRestore(backup: ParsedSettings, variant?: string): RestorePlan {
	const lines: PlannedLine[] = [];
	const notSent: DiffEntry[] = [];
	let sawDefaults = false;
	let batchOpen = false;
	for (const e of backup.entries) {
		switch (e.kind) {
			case 'blank':
			case 'comment':
			case 'info':
				continue;
			case 'other':
				notSent.push(e);
				continue;
			case 'control': {
				const words = e.text.toLowerCase().split(/\s+/);
				if (words[0] === 'save') continue; // sent once, at the end
				if (words[0] === 'defaults') {
					// Only a defaults that keeps the CLI open, and only before any setting.
					if (sawDefaults || lines.some((l) => l.setting) || !/^(nosave|noreboot)$/.test(words[1] ?? '')) continue;
					sawDefaults = true;
				}
				if (words[0] === 'batch') batchOpen = words[1] === 'start' ? true : words[1] === 'end' ? false : batchOpen;
				lines.push({line: e.line, text: e.text, setting: false});
				continue;
			}
			case 'context':
			case 'action':
				lines.push({line: e.line, text: e.text, setting: false});
				continue;
			case 'assignment':
				if (!sawDefaults) {
					// No defaults line before the first setting: start from defaults anyway.
					const at = lines.length && /^batch start$/i.test(lines[0]!.text) ? 1 : 0;
					lines.splice(at, 0, {line: 0, text: defaultsLine(variant ?? backup.header.variant), setting: false});
					sawDefaults = true;
				}
				lines.push({line: e.line, text: e.text, setting: true});
				continue;
		}
	}
	if (!sawDefaults) lines.unshift({line: 0, text: defaultsLine(variant ?? backup.header.variant), setting: false});
	if (batchOpen) lines.push({line: 0, text: 'batch end', setting: false});
	return {lines, notSent};
}

/** Rejections that decide whether the quad arms and flies: ports, modes, pins, motors, features. */
const CRITICAL_COMMANDS = new Set(['aux', 'serial', 'resource', 'map', 'feature', 'mixer', 'mmix', 'timer', 'dma']);
const MOTOR_SETTING = /^(motor_|dshot_|mixer_type$|yaw_motors_reversed$|min_throttle$|max_throttle$|min_command$|use_unsynced_pwm$)/;

export function isCritical(line: string): boolean {
	const words = line.trim().split(/\s+/);
	const command = words[0]?.toLowerCase() ?? '';
	if (CRITICAL_COMMANDS.has(command)) return true;
	return command === 'set' && MOTOR_SETTING.test(words[1]?.toLowerCase() ?? '');
}

/** Critical rejections first, each group in backup order. */
export function orderRejected<T extends {line: string}>(rejected: readonly T[]): T[] {
	return [...rejected.filter((r) => isCritical(r.line)), ...rejected.filter((r) => !isCritical(r.line))];
}
