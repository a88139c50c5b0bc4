// Hints screen state: the hint list (those that fit what just happened first, then the general
// ones) and the scroll offset. Esc or Enter returns to exactly where `?` was pressed.
import {generalHints, type HintId} from '../hints.js';
import type {Step} from './commands.js';
import {isChar, type KeyPress} from './keys.js';

export interface HintsState {
	context: HintId[];
	offset: number;
}

export type HintsIntent = {type: 'back'};

export function hintList(context: HintId[]): {id: HintId; context: boolean}[] {
	const seen = new Set<HintId>();
	const out: {id: HintId; context: boolean}[] = [];
	for (const id of context) if (!seen.has(id)) seen.add(id), out.push({id, context: true});
	for (const id of generalHints) if (!seen.has(id)) seen.add(id), out.push({id, context: false});
	return out;
}

export function hintsKey(s: HintsState, k: KeyPress): Step<HintsState, HintsIntent> {
	const last = hintList(s.context).length - 1;
	const to = (offset: number) => ({state: {...s, offset: Math.max(0, Math.min(last, offset))}});
	if (k.name === 'escape' || k.name === 'return') return {state: s, intent: {type: 'back'}};
	if (k.name === 'up' || isChar(k, 'k')) return to(s.offset - 1);
	if (k.name === 'down' || isChar(k, 'j')) return to(s.offset + 1);
	if (k.name === 'pageup') return to(s.offset - 3);
	if (k.name === 'pagedown') return to(s.offset + 3);
	if (k.name === 'home') return to(0);
	if (k.name === 'end') return to(last);
	return {state: s};
}
