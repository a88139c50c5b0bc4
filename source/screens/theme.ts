// The look of the TUI in one table: colours by role and the glyph sets. Components ask the theme
// for a role's colour (undefined when colours are off) and for glyphs, never hard-code either.
// ASCII glyphs when the terminal cannot show UTF-8 (POSIX locale, TERM=dumb/linux, common on a Pi
// over SSH); no colour at all with NO_COLOR (https://no-color.org) or TERM=dumb.

export type ColorRole = 'accent' | 'ok' | 'warn' | 'error' | 'dim' | 'title';

export interface Glyphs {
	pointer: string;
	checked: string;
	unchecked: string;
	done: string;
	active: string;
	pending: string;
	failed: string;
	barFull: string;
	barEmpty: string;
	ellipsis: string;
	rule: string;
	folder: string;
	up: string;
	warn: string;
	dash: string;
}

export const unicodeGlyphs: Glyphs = {
	pointer: '❯',
	checked: '[x]',
	unchecked: '[ ]',
	done: '✔',
	active: '▶',
	pending: '·',
	failed: '✘',
	barFull: '█',
	barEmpty: '░',
	ellipsis: '…',
	rule: '─',
	folder: '/',
	up: '..',
	warn: '⚠',
	dash: '–',
};

export const asciiGlyphs: Glyphs = {
	pointer: '>',
	checked: '[x]',
	unchecked: '[ ]',
	done: '+',
	active: '>',
	pending: '-',
	failed: 'x',
	barFull: '#',
	barEmpty: '.',
	ellipsis: '...',
	rule: '-',
	folder: '/',
	up: '..',
	warn: '!',
	dash: '-',
};

const palette: Record<ColorRole, string> = {
	accent: 'cyan',
	ok: 'green',
	warn: 'yellow',
	error: 'red',
	dim: 'gray',
	title: 'blueBright',
};

export interface Theme {
	unicode: boolean;
	color: boolean;
	glyphs: Glyphs;
	/** The colour for a role, or undefined when colours are off (pass straight to <Text color>). */
	c(role: ColorRole): string | undefined;
	/** Text as the terminal can show it: unchanged with UTF-8, transliterated to ASCII otherwise. */
	t(text: string): string;
}

const asciiMap: Record<string, string> = {'…': '...', '–': '-', '—': '-', '→': '->', '←': '<-', '‘': "'", '’': "'", '“': '"', '”': '"', '×': 'x', '°': 'deg', 'µ': 'u'};

export function toAscii(text: string): string {
	// eslint-disable-next-line no-control-regex
	return text.replace(/[^\x00-\x7e]/g, (ch) => asciiMap[ch] ?? '?');
}

export function makeTheme(options: {unicode: boolean; color: boolean}): Theme {
	return {
		unicode: options.unicode,
		color: options.color,
		glyphs: options.unicode ? unicodeGlyphs : asciiGlyphs,
		c: (role) => (options.color ? palette[role] : undefined),
		t: options.unicode ? (text) => text : toAscii,
	};
}

/** The locale in effect for character encoding: LC_ALL, else LC_CTYPE, else LANG (POSIX order). */
export function localeIsUtf8(env: NodeJS.ProcessEnv): boolean {
	const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || '';
	return /utf-?8/i.test(locale);
}

export function detectTheme(env: NodeJS.ProcessEnv = process.env): Theme {
	const term = env.TERM ?? '';
	const plainTerm = term === 'dumb' || term === 'linux';
	const unicode = localeIsUtf8(env) && !plainTerm;
	const color = !env.NO_COLOR && term !== 'dumb';
	return makeTheme({unicode, color});
}
