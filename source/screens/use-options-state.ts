// Options state: the flash choices, the highlighted option, and the .bin address being typed.
// Space toggles (or cycles the baud rate), Enter advances. Pure functions of state and key.
import type {Board} from '../devices/types.js';
import type {FirmwareImage} from '../firmware/image.js';
import {AddressError, parseAddress} from '../jobs/address.js';
import type {HintId} from '../hints.js';
import type {Step} from './commands.js';
import {isChar, type KeyPress} from './keys.js';
import {defaultBinAddress, type FlashChoices, type TuiSettings} from './types.js';

/** The flash options, and one action row: flash on connect (every fitting board, with these options). */
export type OptionId = 'fullErase' | 'verify' | 'noReboot' | 'baud' | 'keepSettings' | 'address' | 'onConnect';

export const baudRates = [115200, 230400, 250000, 400000, 460800, 500000, 921600, 1000000];

export interface OptionsState {
	cursor: OptionId;
	choices: FlashChoices;
	error?: {message: string; hint?: HintId};
	/** Reloading a .bin at a new address, or waiting for the job's first question. */
	busy?: 'reloading' | 'starting';
}

export type OptionsIntent = {type: 'next'} | {type: 'back'} | {type: 'fleet'};

export function initialOptions(settings: TuiSettings): OptionsState {
	return {
		cursor: 'fullErase',
		choices: {
			fullErase: settings.fullErase,
			verify: settings.verify,
			reboot: settings.reboot,
			baud: settings.baud,
			keepSettings: settings.keepSettings ?? true,
			address: settings.address ?? defaultBinAddress,
		},
	};
}

/** The typed .bin address, read as --address is (jobs/address.ts): the number, or why not. */
export function addressChoice(text: string): {address: number} | {error: string} {
	try {
		return {address: parseAddress(text, 'The address')};
	} catch (error) {
		if (error instanceof AddressError) return {error: error.message};
		throw error;
	}
}

/** The option rows for this board and file; an irrelevant row is shown greyed and skipped. */
export function optionRows(board: Board, image: FirmwareImage, choices: FlashChoices, onConnect = false): {id: OptionId; relevant: boolean}[] {
	const serial = board.kind === 'serial';
	const rows: {id: OptionId; relevant: boolean}[] = [
		{id: 'fullErase', relevant: true},
		{id: 'verify', relevant: true},
		{id: 'noReboot', relevant: serial},
		// The baud rate is the reboot request's serial speed: nothing to set without the request.
		{id: 'baud', relevant: serial && choices.reboot},
		// The backup is taken over the CLI that then reboots the board: a board in DFU has no firmware to ask.
		{id: 'keepSettings', relevant: serial && choices.reboot},
	];
	if (image.format === 'bin') rows.push({id: 'address', relevant: true});
	if (onConnect) rows.push({id: 'onConnect', relevant: true});
	return rows;
}

export interface OptionsContext {
	board: Board;
	image: FirmwareImage;
	/** The on-connect job exists: the "Flash on connect" row is offered. */
	onConnect?: boolean;
}

/** The highlighted row: the state's cursor if it is usable here, else the first usable row. */
export function optionsCursor(s: OptionsState, ctx: OptionsContext): OptionId {
	const usable = optionRows(ctx.board, ctx.image, s.choices, ctx.onConnect).filter((r) => r.relevant);
	return usable.some((r) => r.id === s.cursor) ? s.cursor : usable[0]!.id;
}

export function optionsKey(s: OptionsState, k: KeyPress, ctx: OptionsContext): Step<OptionsState, OptionsIntent> {
	if (s.busy) return {state: s};
	const usable = optionRows(ctx.board, ctx.image, s.choices, ctx.onConnect)
		.filter((r) => r.relevant)
		.map((r) => r.id);
	const cursor = optionsCursor(s, ctx);
	const at = usable.indexOf(cursor);
	const c = s.choices;
	const set = (patch: Partial<FlashChoices>) => ({state: {...s, cursor, choices: {...c, ...patch}, error: undefined}});
	const onAddress = cursor === 'address';
	if (k.name === 'up' || (isChar(k, 'k') && !onAddress)) return {state: {...s, cursor: usable[Math.max(0, at - 1)]!}};
	if (k.name === 'down' || (isChar(k, 'j') && !onAddress)) return {state: {...s, cursor: usable[Math.min(usable.length - 1, at + 1)]!}};
	if (k.name === 'home') return {state: {...s, cursor: usable[0]!}};
	if (k.name === 'end') return {state: {...s, cursor: usable.at(-1)!}};
	if (k.name === 'return') return {state: {...s, cursor}, intent: {type: cursor === 'onConnect' ? 'fleet' : 'next'}};
	if (k.name === 'escape') return {state: {...s, cursor}, intent: {type: 'back'}};
	if (isChar(k, ' ')) {
		if (cursor === 'fullErase') return set({fullErase: !c.fullErase});
		if (cursor === 'verify') return set({verify: !c.verify});
		if (cursor === 'noReboot') return set({reboot: !c.reboot});
		if (cursor === 'keepSettings') return set({keepSettings: !c.keepSettings});
		if (cursor === 'baud') return set({baud: baudRates[(Math.max(0, baudRates.indexOf(c.baud)) + 1) % baudRates.length]!});
		return {state: s};
	}
	if (onAddress) {
		if (k.name === 'backspace') return set({address: c.address.slice(0, -1)});
		if (k.name === 'char' && !k.ctrl && /^[0-9a-fA-FxX]$/.test(k.ch ?? '')) return set({address: (c.address + k.ch).slice(0, 10)});
	}
	return {state: s};
}
