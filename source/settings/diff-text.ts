// Reading a CLI `diff all` (Betaflight, INAV; also `dump` and hand-edited files) as settings rather
// than text: a sequence of contexts (`profile 1`, `rateprofile 0`, `battery_profile 0`,
// `mixer_profile 1`, ...) and assignments, each with a key that names one setting within its
// context, so two texts compare as (context, key) -> value:
//   set pid_roll_p = 45      -> pid_roll_p          = 45
//   feature -GPS             -> feature GPS         = off
//   aux 0 0 0 1700 2100 0 0  -> aux 0               = 0 0 1700 2100 0 0
//   resource MOTOR 1 B07     -> resource MOTOR 1    = B07
//   mode_color 6 0 1         -> mode_color 6 0      = 1
// Comments, `batch start/end`, `defaults nosave`, `save`, `mcu_id` and `signature` are not settings.

export type EntryKind =
	| 'blank'
	| 'comment'
	/** batch start/end, defaults, save: shape the replay, not settings. */
	| 'control'
	/** mcu_id, signature, version: what the board is, never replayed. */
	| 'info'
	/** profile N, rateprofile N, battery_profile N, mixer_profile N, control_profile N. */
	| 'context'
	| 'assignment'
	/** `mmix reset`, `smix reset`: replayed in order, nothing to compare. */
	| 'action'
	/** Not a settings command (bl, exit, motor, flash_erase...): never sent to a board. */
	| 'other';

export interface DiffEntry {
	/** 1-based line number in the text. */
	line: number;
	/** The line without surrounding whitespace. */
	text: string;
	kind: EntryKind;
	/** The context in effect: '' for the master settings, else e.g. 'profile 1'. */
	context: string;
	/** Assignments: the setting within its context ('p_roll', 'aux 0', 'feature GPS'). */
	key?: string;
	value?: string;
	/** The CLI command (first word, lower case). */
	command: string;
}

export interface SettingsHeader {
	/** "Betaflight", "INAV", ... from the `# version` comment. */
	flavour?: string;
	/** MSP FC_VARIANT spelling: BTFL, INAV, CLFL, EMUF. */
	variant?: string;
	version?: string;
	/** Target or MCU: "STM32F405", "SITL", "MATEKF405". */
	target?: string;
	/** The identification comment as written. */
	identLine?: string;
}

export interface ParsedSettings {
	header: SettingsHeader;
	/** From the `mcu_id` line. */
	mcuId?: string;
	entries: DiffEntry[];
	/** One per (context, key): the last in the text wins, as it would on the board. */
	assignments: DiffEntry[];
}

const CONTEXTS = new Set(['profile', 'rateprofile', 'battery_profile', 'mixer_profile', 'control_profile']);
const CONTROL = new Set(['batch', 'defaults', 'save']);
const INFO = new Set(['mcu_id', 'signature', 'version']);
/** On/off flags: `feature -GPS`. */
const FLAGS = new Set(['feature', 'beeper', 'beacon', 'blackbox']);
/** One value for the whole command. */
const SINGLE = new Set(['map', 'mixer', 'name', 'board_name', 'manufacturer_id']);
/** The first argument is an index: `aux 0 ...`, `serial 3 ...`, `led 12 ...`. */
const INDEXED = new Set([
	'aux',
	'adjrange',
	'rxrange',
	'rxfail',
	'serial',
	'led',
	'color',
	'mmix',
	'smix',
	'servo',
	'vtx',
	'timer',
	'timer_output_mode',
	'logic',
	'gvar',
	'pid',
	'safehome',
	'fwapproach',
	'temp_sensor',
	'wp',
	'osd_custom_elements',
	'geozone',
	'programming',
]);
/** Two indexes: `mode_color <mode> <function> <color>`, INAV `osd_layout <layout> <item> ...`. */
const TWO_INDEXED = new Set(['mode_color', 'osd_layout']);
/** The last argument is the value and everything before it names the setting. */
const LAST_IS_VALUE = new Set(['resource', 'dma']);

export function variantOfFlavour(flavour: string | undefined): string | undefined {
	switch (flavour?.toLowerCase()) {
		case 'betaflight':
			return 'BTFL';
		case 'inav':
			return 'INAV';
		case 'cleanflight':
			return 'CLFL';
		case 'emuflight':
			return 'EMUF';
		default:
			return undefined;
	}
}

/**
 * The identification comment: `# Betaflight / SITL (SITL) 4.5.6 Dec  1 2026 / 08:26:41 () MSP API:
 * 1.46` or `# INAV/MATEKF405 7.1.2 Jul 12 2024 / 13:33:48 (7df1a3a6)`. Looser than the firmware
 * image's ident: a SITL or local build has an empty or odd revision.
 */
export function parseIdentComment(line: string): SettingsHeader | undefined {
	const text = line.replace(/^#\s*/, '').trim();
	let m = /^(Betaflight|Cleanflight|EmuFlight|Emuflight)\s*\/\s*(\S+)\s*\(([^)]*)\)\s+(\d+\.\d+\.\d+\S*)/.exec(text);
	if (m) return {flavour: m[1], variant: variantOfFlavour(m[1]), target: m[2], version: m[4], identLine: text};
	m = /^INAV\/(\S+)\s+(\d+\.\d+\.\d+\S*)/.exec(text);
	if (m) return {flavour: 'INAV', variant: 'INAV', target: m[1], version: m[2], identLine: text};
	return undefined;
}

/** The key and value of an assignment line, or undefined when the command is not a setting. */
function assignmentOf(command: string, args: string): {key: string; value: string} | undefined {
	if (command === 'set') {
		const eq = args.indexOf('=');
		if (eq < 0) return undefined;
		const name = args.slice(0, eq).trim().toLowerCase();
		return name ? {key: name, value: args.slice(eq + 1).trim()} : undefined;
	}
	const words = args.split(/\s+/).filter(Boolean);
	if (FLAGS.has(command)) {
		if (words.length !== 1) return undefined;
		const off = words[0]!.startsWith('-');
		const name = (off ? words[0]!.slice(1) : words[0]!).toUpperCase();
		return name ? {key: `${command} ${name}`, value: off ? 'off' : 'on'} : undefined;
	}
	if (SINGLE.has(command)) return {key: command, value: args.trim()};
	if (command === 'vtxtable') {
		const [sub, ...rest] = words;
		if (!sub) return undefined;
		if (sub.toLowerCase() === 'band' && rest.length) return {key: `vtxtable band ${rest[0]}`, value: rest.slice(1).join(' ')};
		return {key: `vtxtable ${sub.toLowerCase()}`, value: rest.join(' ')};
	}
	if (INDEXED.has(command)) {
		if (!words.length) return undefined;
		return {key: `${command} ${words[0]}`, value: words.slice(1).join(' ')};
	}
	if (TWO_INDEXED.has(command)) {
		if (words.length < 3) return undefined;
		return {key: `${command} ${words[0]} ${words[1]}`, value: words.slice(2).join(' ')};
	}
	if (LAST_IS_VALUE.has(command)) {
		if (words.length < 2) return undefined;
		return {key: [command, ...words.slice(0, -1).map((w) => w.toUpperCase())].join(' '), value: words.at(-1)!.toUpperCase()};
	}
	return undefined;
}

/** `mmix reset`, `smix reset`, `mmix load X`, `resource reset`: steps, not values. */
function isAction(command: string, args: string): boolean {
	const first = args.split(/\s+/)[0]?.toLowerCase();
	return (['mmix', 'smix', 'resource', 'led', 'servo'].includes(command) && (first === 'reset' || first === 'load')) || (command === 'mixer' && first === 'list');
}

export function parseSettings(text: string): ParsedSettings {
	const header: SettingsHeader = {};
	let mcuId: string | undefined;
	let context = '';
	const entries: DiffEntry[] = [];
	const last = new Map<string, DiffEntry>();
	text.split(/\r?\n|\r/).forEach((raw, i) => {
		const line = raw.trim();
		const entry: DiffEntry = {line: i + 1, text: line, kind: 'other', context, command: ''};
		if (!line) entry.kind = 'blank';
		else if (line.startsWith('#')) {
			entry.kind = 'comment';
			if (!header.identLine) Object.assign(header, parseIdentComment(line));
		} else {
			const space = line.search(/\s/);
			const command = (space < 0 ? line : line.slice(0, space)).toLowerCase();
			const args = space < 0 ? '' : line.slice(space + 1).trim();
			entry.command = command;
			if (CONTEXTS.has(command)) {
				entry.kind = 'context';
				context = args ? `${command} ${args}` : context;
				entry.context = context;
			} else if (CONTROL.has(command)) entry.kind = 'control';
			else if (INFO.has(command)) {
				entry.kind = 'info';
				if (command === 'mcu_id' && /^[0-9a-f]+$/i.test(args)) mcuId = args.toLowerCase();
			} else if (isAction(command, args)) entry.kind = 'action';
			else {
				const a = assignmentOf(command, args);
				if (a) {
					entry.kind = 'assignment';
					entry.key = a.key;
					entry.value = a.value;
					last.set(settingId(entry), entry);
				}
			}
		}
		entries.push(entry);
	});
	const assignments = entries.filter((e) => e.kind === 'assignment' && last.get(settingId(e)) === e);
	return {header, mcuId, entries, assignments};
}

/** (context, key) as one string: 'profile 1|p_roll', '|feature GPS'. */
export const settingId = (e: Pick<DiffEntry, 'context' | 'key'>) => `${e.context}|${e.key}`;

/** A value as the board would print it: trimmed; flags and lookup words compare case-blind. */
export function sameValue(a: string | undefined, b: string | undefined): boolean {
	if (a === undefined || b === undefined) return false;
	const x = a.trim();
	const y = b.trim();
	return x === y || x.toUpperCase() === y.toUpperCase();
}
