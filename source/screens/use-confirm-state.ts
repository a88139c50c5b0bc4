// The job's questions: the flash confirmation (only `y` says yes; a wrong-target image needs the
// typed word `force` and Enter, `y` alone does nothing there), the unprotect question (the chip is
// wiped) and the settings questions. Pure functions of state and key.
import type {Question, Reply} from '../jobs/types.js';
import type {Step} from './commands.js';
import {isChar, isPrintable, type KeyPress} from './keys.js';

export interface QuestionState {
	/** What has been typed towards `force`. */
	typed: string;
	notice?: string;
}

export type QuestionIntent = {type: 'reply'; reply: Reply};

export const initialQuestion = (): QuestionState => ({typed: ''});

/** A wrong-target image, and another board's settings backup, go ahead only on the typed word. */
export const needsForce = (q: Question) => (q.kind === 'confirm' && q.requires === 'force') || q.kind === 'restore-other-board';

export function questionKey(s: QuestionState, q: Question, k: KeyPress): Step<QuestionState, QuestionIntent> {
	const reply = (r: Reply) => ({state: s, intent: {type: 'reply' as const, reply: r}});
	if (needsForce(q)) {
		if (k.name === 'escape') return reply('no');
		if (k.name === 'return') {
			if (s.typed.trim().toLowerCase() === 'force') return reply('force');
			if (s.typed === '') return reply('no');
			return {state: {typed: '', notice: `"${s.typed}" is not the word force. Type force and press Enter to flash, or Esc to go back.`}};
		}
		if (k.name === 'backspace') return {state: {typed: s.typed.slice(0, -1)}};
		if (isPrintable(k) && s.typed.length < 12) return {state: {typed: s.typed + k.ch}};
		return {state: s};
	}
	if (isChar(k, 'y', 'Y')) return reply('yes');
	if (q.kind === 'confirm' && q.facts.offersSerial && isChar(k, 's', 'S')) return reply('serial');
	if (isChar(k, 'n', 'N') || k.name === 'return' || k.name === 'escape') return reply('no');
	return {state: s};
}
