// One key, the way every screen reducer sees it. Ink parses a chunk of stdin into events, but a run
// of plain characters arrives as one event ("\r\r", three Backspaces "\x7f\x7f\x7f", a paste): we
// split such a run into one key per character, so a burst is handled key by key, in order.
import type {Key as InkKey} from 'ink';

export type KeyName =
	| 'up'
	| 'down'
	| 'left'
	| 'right'
	| 'pageup'
	| 'pagedown'
	| 'home'
	| 'end'
	| 'return'
	| 'escape'
	| 'backspace'
	| 'tab'
	| 'char';

export interface KeyPress {
	name: KeyName;
	/** The character for 'char' keys (a space is ' '). */
	ch?: string;
	/** Ctrl held: `ch` is the letter ('c' for Ctrl-C). */
	ctrl?: boolean;
}

export const key = (name: Exclude<KeyName, 'char'>): KeyPress => ({name});
export const char = (ch: string): KeyPress => ({name: 'char', ch});
export const ctrl = (ch: string): KeyPress => ({name: 'char', ch, ctrl: true});

export const isChar = (k: KeyPress, ...chars: string[]) => k.name === 'char' && !k.ctrl && chars.includes(k.ch ?? '');
export const isCtrlC = (k: KeyPress) => k.name === 'char' && k.ctrl === true && k.ch === 'c';
/** A character that may be typed into a text field. */
export const isPrintable = (k: KeyPress) => k.name === 'char' && !k.ctrl && (k.ch ?? '') >= ' ';

/** One raw character (not part of an escape sequence) as a key. */
export function charKey(c: string): KeyPress {
	if (c === '\r' || c === '\n') return key('return');
	if (c === '\t') return key('tab');
	if (c === '\x7f' || c === '\b') return key('backspace');
	if (c === '\x1b') return key('escape');
	const code = c.codePointAt(0) ?? 0;
	if (code >= 1 && code <= 26) return ctrl(String.fromCharCode(code + 96));
	return char(c);
}

/** The keys in one Ink input event. */
export function keysFromInk(input: string, k: InkKey): KeyPress[] {
	if (k.upArrow) return [key('up')];
	if (k.downArrow) return [key('down')];
	if (k.leftArrow) return [key('left')];
	if (k.rightArrow) return [key('right')];
	if (k.pageUp) return [key('pageup')];
	if (k.pageDown) return [key('pagedown')];
	if (k.home) return [key('home')];
	if (k.end) return [key('end')];
	if (k.return) return [key('return')];
	if (k.escape) return [key('escape')];
	if (k.tab) return [key('tab')];
	// Ink names \x7f "delete" and \b "backspace"; both erase the character before the cursor here.
	if (k.backspace || k.delete) return [key('backspace')];
	if (k.ctrl && input.length === 1) return [ctrl(input)];
	return [...input].map(charKey);
}

/** Split raw terminal input into keys the way Ink and keysFromInk together do (tests, scripts). */
export function parseKeys(raw: string): KeyPress[] {
	const out: KeyPress[] = [];
	const named: Record<string, KeyName> = {A: 'up', B: 'down', C: 'right', D: 'left', H: 'home', F: 'end', '5~': 'pageup', '6~': 'pagedown', '1~': 'home', '4~': 'end', '3~': 'backspace'};
	for (let i = 0; i < raw.length; ) {
		if (raw[i] === '\x1b' && (raw[i + 1] === '[' || raw[i + 1] === 'O')) {
			let j = i + 2;
			while (j < raw.length && !/[A-Za-z~]/.test(raw[j]!)) j++;
			const body = raw.slice(i + 2, j + 1);
			const name = named[body];
			if (name) out.push(key(name as Exclude<KeyName, 'char'>));
			i = j + 1;
			continue;
		}
		const c = String.fromCodePoint(raw.codePointAt(i)!);
		out.push(charKey(c));
		i += c.length;
	}
	return out;
}
