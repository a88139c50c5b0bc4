// One key, the way every screen reducer sees it, and the reader that turns terminal input into
// keys. Input is read here, not through Ink's useInput: Ink passes a run of plain characters as
// one event ("\r\r", three Backspaces, a paste) and reads "Esc, Up" typed ahead as one Alt-Up, so
// a burst of keys would lose some. Here every key of a chunk is its own key, in order.

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

const named: Record<string, Exclude<KeyName, 'char'>> = {
	A: 'up',
	B: 'down',
	C: 'right',
	D: 'left',
	H: 'home',
	F: 'end',
	'1~': 'home',
	'7~': 'home',
	'4~': 'end',
	'8~': 'end',
	'3~': 'backspace',
	'5~': 'pageup',
	'6~': 'pagedown',
};

/**
 * Split raw terminal input into keys, in order. An escape sequence (CSI `ESC [ ... final` or SS3
 * `ESC O x`) is one key; ESC followed by anything else is the Escape key, then that key (so "Esc,
 * Up" typed ahead as ESC ESC [ A is two keys, not Alt-Up); every other character is one key.
 * Returns the keys and what is left of an escape sequence cut off at the end of the input.
 */
export function splitKeys(raw: string): {keys: KeyPress[]; rest: string} {
	const keys: KeyPress[] = [];
	for (let i = 0; i < raw.length; ) {
		if (raw[i] === '\x1b' && (raw[i + 1] === '[' || raw[i + 1] === 'O')) {
			let j = i + 2;
			// CSI: parameter and intermediate bytes, then one final byte (0x40-0x7e).
			if (raw[i + 1] === '[') while (j < raw.length && raw.charCodeAt(j) >= 0x20 && raw.charCodeAt(j) <= 0x3f) j++;
			if (j >= raw.length) return {keys, rest: raw.slice(i)};
			const body = raw.slice(i + 2, j + 1);
			// Modifiers (Ctrl-Up is ESC [ 1 ; 5 A) do not change what the key does here.
			const name = named[body.replace(/^1;\d+(?=[A-Z])/, '').replace(/^(\d+);\d+~$/, '$1~')];
			if (name) keys.push(key(name));
			i = j + 1;
			continue;
		}
		if (raw[i] === '\x1b' && i === raw.length - 1) return {keys, rest: raw.slice(i)};
		const c = String.fromCodePoint(raw.codePointAt(i)!);
		keys.push(charKey(c));
		i += c.length;
	}
	return {keys, rest: ''};
}

/** Split raw terminal input into keys (a cut-off escape sequence at the end counts as Escape). */
export function parseKeys(raw: string): KeyPress[] {
	const {keys, rest} = splitKeys(raw);
	return rest ? [...keys, key('escape')] : keys;
}

/**
 * Keys from a stream of input chunks. An escape sequence cut between two reads (a slow link) is
 * completed by the next chunk; a lone ESC with nothing after it for `escapeMs` is the Escape key.
 */
export class KeyReader {
	private rest = '';
	private timer: NodeJS.Timeout | undefined;

	constructor(
		private readonly onKeys: (keys: KeyPress[]) => void,
		private readonly escapeMs = 30,
	) {}

	push(chunk: string): void {
		if (this.timer) clearTimeout(this.timer);
		this.timer = undefined;
		const {keys, rest} = splitKeys(this.rest + chunk);
		this.rest = rest;
		if (keys.length > 0) this.onKeys(keys);
		if (rest) this.timer = setTimeout(() => this.flush(), this.escapeMs);
	}

	private flush() {
		this.timer = undefined;
		const rest = this.rest;
		this.rest = '';
		if (rest) this.onKeys(parseKeys(rest));
	}

	close(): void {
		if (this.timer) clearTimeout(this.timer);
		this.timer = undefined;
		this.rest = '';
	}
}
