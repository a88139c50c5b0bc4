// The file name for a flash backup: prefilled with a path in the backups folder, editable.
import type {Step} from './commands.js';
import {isPrintable, type KeyPress} from './keys.js';

export interface SaveAsState {
	text: string;
	notice?: string;
}

export type SaveAsIntent = {type: 'save'; path: string} | {type: 'back'};

export function saveAsKey(s: SaveAsState, k: KeyPress): Step<SaveAsState, SaveAsIntent> {
	if (k.name === 'escape') return {state: s, intent: {type: 'back'}};
	if (k.name === 'return') {
		const path = s.text.trim();
		if (!path) return {state: {...s, notice: 'Type a file name for the backup.'}};
		return {state: s, intent: {type: 'save', path}};
	}
	if (k.name === 'backspace') return {state: {text: s.text.slice(0, -1)}};
	if (isPrintable(k)) return {state: {text: s.text + k.ch}};
	return {state: s};
}
