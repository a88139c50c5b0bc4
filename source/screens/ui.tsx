// Shared pieces every screen renders with: the theme and size contexts and the frame (title, rule,
// body, rule, status, key help). Screens hand the frame whole lines, already wrapped or fitted to
// the width, so the frame knows its height: it always fits rows x columns. The terminal never wraps
// a line of ours.
import {createContext, useContext} from 'react';
import {Box, Text} from 'ink';
import {detectTheme, type ColorRole, type Theme} from './theme.js';
import {fitEnd, wrapText} from './screen-text.js';
import type {TerminalSize} from './types.js';

export const ThemeContext = createContext<Theme>(detectTheme());
export const useTheme = () => useContext(ThemeContext);

export const SizeContext = createContext<TerminalSize>({columns: 80, rows: 24});
export const useTerminalSize = () => useContext(SizeContext);

/** Usable width: at most 100 columns, so lines stay readable on a wide terminal. */
export function useWidth(): number {
	return Math.max(20, Math.min(useTerminalSize().columns, 100));
}

/** One line of a screen. */
export interface Line {
	text: string;
	role?: ColorRole;
	bold?: boolean;
}

export const blank: Line = {text: ''};

/** Prose as lines: wrapped at words, continuation lines indented by `indent` (never a stray space). */
export function para(text: string, width: number, role?: ColorRole, indent = '', bold?: boolean): Line[] {
	return wrapText(text, width, indent).map((t) => ({text: t, role, bold}));
}

export interface KeyHelp {
	key: string;
	label: string;
}

/** Lines the frame itself takes around the body, for screens that size a list to the rest. */
export function chromeLines(width: number, keys: KeyHelp[], status?: string): number {
	return 3 + keyLines(keys, width).length + (status ? wrapText(status, width).length : 0);
}

function keyLines(keys: KeyHelp[], width: number): string[] {
	const lines: string[] = [];
	let line = '';
	for (const k of keys) {
		const item = `${k.key} ${k.label}`;
		if (line && line.length + 2 + item.length > width) {
			lines.push(line);
			line = item;
		} else line = line ? `${line}  ${item}` : item;
	}
	if (line) lines.push(line);
	return lines.slice(0, 2).map((l) => fitEnd(l, width, '...'));
}

export function Frame(props: {title: string; keys: KeyHelp[]; body: Line[]; status?: string; statusRole?: ColorRole}) {
	const theme = useTheme();
	const width = useWidth();
	const {rows} = useTerminalSize();
	const g = theme.glyphs;
	const prompt = useContext(PromptContext);
	const statusText = prompt ?? props.status;
	const status = statusText ? wrapText(theme.t(statusText), width) : [];
	const help = keyLines(
		props.keys.map((k) => ({key: theme.t(k.key), label: theme.t(k.label)})),
		width,
	);
	const room = Math.max(1, rows - 3 - status.length - help.length);
	let body = props.body;
	if (body.length > room) body = [...body.slice(0, room - 1), {text: `${g.ellipsis} (the terminal is too short for the rest)`, role: 'dim'}];
	const title = fitEnd(theme.t(`fcflash-tui ${g.dash} ${props.title}`), width, g.ellipsis);
	return (
		<Box flexDirection="column" width={width}>
			<Text bold color={theme.c('title')} wrap="truncate">
				{title}
			</Text>
			<Text color={theme.c('dim')}>{g.rule.repeat(width)}</Text>
			{body.map((l, i) => (
				<Row key={i} line={l} width={width} />
			))}
			<Text color={theme.c('dim')}>{g.rule.repeat(width)}</Text>
			{status.map((t, i) => (
				<Text key={`s${i}`} bold color={theme.c(prompt ? 'warn' : (props.statusRole ?? 'warn'))} wrap="truncate">
					{t}
				</Text>
			))}
			{help.map((t, i) => (
				<Text key={`k${i}`} color={theme.c('dim')} wrap="truncate">
					{t}
				</Text>
			))}
		</Box>
	);
}

function Row({line, width}: {line: Line; width: number}) {
	const theme = useTheme();
	const text = fitEnd(theme.t(line.text), width, theme.glyphs.ellipsis);
	return (
		<Text color={line.role ? theme.c(line.role) : undefined} bold={line.bold} wrap="truncate">
			{text === '' ? ' ' : text}
		</Text>
	);
}

/** A list row: pointer when highlighted. */
export function listRow(selected: boolean, text: string, pointer: string, role?: ColorRole): Line {
	return {text: `${selected ? pointer : ' '.repeat(pointer.length)} ${text}`, role: selected ? 'accent' : role, bold: selected};
}

/** The stop question, shown on every screen while it is open (it replaces the screen's status). */
export const PromptContext = createContext<string | undefined>(undefined);
