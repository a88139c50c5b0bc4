// The lines a settings restore did not bring back, one key (r) away from the result: those the new
// firmware refused (with its message) and those that still differ afterwards. Scrolled by entry;
// Esc or Enter returns to the result. Pure functions of state and key; the lines are the job's.
import type {FlashReport} from '../jobs/types.js';
import type {Step} from './commands.js';
import {isChar, type KeyPress} from './keys.js';

export interface SettingsLinesState {
	/** The first entry shown. */
	offset: number;
}

export type SettingsLinesIntent = {type: 'back'};

export interface SettingsLine {
	kind: 'rejected' | 'remaining';
	line: string;
	message?: string;
}

/** The entries of the list, refused lines first (the job puts arming-critical ones first). */
export function settingsLines(settings: FlashReport['settings'] | undefined): SettingsLine[] {
	if (!settings) return [];
	return [
		...settings.rejected.map((r): SettingsLine => ({kind: 'rejected', line: r.line, message: r.message})),
		...settings.remaining.map((line): SettingsLine => ({kind: 'remaining', line})),
	];
}

export function settingsLinesKey(s: SettingsLinesState, k: KeyPress, count: number): Step<SettingsLinesState, SettingsLinesIntent> {
	const last = Math.max(0, count - 1);
	const to = (offset: number) => ({state: {offset: Math.max(0, Math.min(last, offset))}});
	if (k.name === 'escape' || k.name === 'return') return {state: s, intent: {type: 'back'}};
	if (k.name === 'up' || isChar(k, 'k')) return to(s.offset - 1);
	if (k.name === 'down' || isChar(k, 'j')) return to(s.offset + 1);
	if (k.name === 'pageup') return to(s.offset - 5);
	if (k.name === 'pagedown') return to(s.offset + 5);
	if (k.name === 'home') return to(0);
	if (k.name === 'end') return to(last);
	return {state: s};
}
