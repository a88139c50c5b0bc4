// Shared pieces every screen renders with: the theme context, the terminal size, and the frame
// (title, rule, body, key help). Lines are fitted to the width here, never wrapped by the terminal.
import {createContext, useContext, useEffect, useState, type ReactNode} from 'react';
import {Box, Text, useStdout} from 'ink';
import {detectTheme, type ColorRole, type Theme} from './theme.js';
import {fitEnd} from './describe.js';

export const ThemeContext = createContext<Theme>(detectTheme());
export const useTheme = () => useContext(ThemeContext);

export interface TerminalSize {
	columns: number;
	rows: number;
}

const SizeContext = createContext<TerminalSize>({columns: 80, rows: 24});

/** Provides the terminal size to every screen, following resizes (one listener). Falls back to 80x24. */
export function SizeProvider(props: {children: ReactNode}) {
	const {stdout} = useStdout();
	const read = () => ({columns: stdout.columns || 80, rows: stdout.rows || 24});
	const [size, setSize] = useState(read);
	useEffect(() => {
		const onResize = () => setSize(read());
		stdout.on('resize', onResize);
		return () => {
			stdout.off('resize', onResize);
		};
	}, [stdout]);
	return <SizeContext.Provider value={size}>{props.children}</SizeContext.Provider>;
}

export const useTerminalSize = () => useContext(SizeContext);

/** Usable width: at most 100 columns so lines stay readable on a wide terminal. */
export function useWidth(): number {
	return Math.max(20, Math.min(useTerminalSize().columns, 100) - 1);
}

export function Line(props: {children: string; role?: ColorRole; bold?: boolean; width?: number}) {
	const theme = useTheme();
	const width = useWidth();
	return (
		<Text color={props.role ? theme.c(props.role) : undefined} bold={props.bold} wrap="truncate-end">
			{fitEnd(theme.t(props.children), props.width ?? width, theme.glyphs.ellipsis)}
		</Text>
	);
}

export interface KeyHelp {
	key: string;
	label: string;
}

export function Frame(props: {title: string; keys: KeyHelp[]; children: ReactNode; status?: string}) {
	const theme = useTheme();
	const width = useWidth();
	const help = props.keys.map((k) => `${k.key} ${k.label}`).join('  ');
	return (
		<Box flexDirection="column" width={width}>
			<Text bold color={theme.c('title')}>
				{fitEnd(theme.t(`fcflash-tui ${theme.glyphs.dash} ${props.title}`), width, theme.glyphs.ellipsis)}
			</Text>
			<Text color={theme.c('dim')}>{theme.glyphs.rule.repeat(width)}</Text>
			<Box flexDirection="column">{props.children}</Box>
			<Text color={theme.c('dim')}>{theme.glyphs.rule.repeat(width)}</Text>
			{props.status ? <Line role="warn">{props.status}</Line> : null}
			<Line role="dim">{help}</Line>
		</Box>
	);
}

/** A highlighted list row: pointer and accent colour (plain bold without colours). */
export function Row(props: {selected: boolean; text: string; role?: ColorRole; indent?: number}) {
	const theme = useTheme();
	const width = useWidth();
	const pointer = props.selected ? theme.glyphs.pointer : ' '.repeat(theme.glyphs.pointer.length);
	const pad = ' '.repeat(props.indent ?? 0);
	return (
		<Text color={props.selected ? theme.c('accent') : props.role ? theme.c(props.role) : undefined} bold={props.selected}>
			{fitEnd(theme.t(`${pad}${pointer} ${props.text}`), width, theme.glyphs.ellipsis)}
		</Text>
	);
}

/** Prose that may wrap (hint texts, error messages), in the terminal's character set. */
export function Para(props: {children: string; role?: ColorRole}) {
	const theme = useTheme();
	return (
		<Text wrap="wrap" color={props.role ? theme.c(props.role) : undefined}>
			{theme.t(props.children)}
		</Text>
	);
}
