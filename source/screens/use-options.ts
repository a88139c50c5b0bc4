// Options state: which option is highlighted, Space toggles (or cycles the baud rate), typing edits
// the .bin address, Enter checks the choices (reloading a .bin at a new address) and advances.
import {useRef, useState} from 'react';
import {useKeys} from './key-router.js';
import type {Board} from '../devices/types.js';
import type {FirmwareImage} from '../firmware/image.js';
import {errorText, imageWarnings} from './describe.js';
import type {FlashChoices} from './types.js';

export type OptionId = 'fullErase' | 'verify' | 'noReboot' | 'baud' | 'address';

export const baudRates = [115200, 230400, 250000, 400000, 460800, 500000, 921600, 1000000];

export interface OptionsProps {
	board: Board;
	file: string;
	image: FirmwareImage;
	choices: FlashChoices;
	active: boolean;
	setChoices(choices: Partial<FlashChoices>): void;
	loadImage(path: string, options: {address?: number}): Promise<FirmwareImage>;
	onNext(image: FirmwareImage): void;
	onBack(): void;
}

export function parseAddressText(text: string): number | undefined {
	const t = text.trim();
	if (!/^(0x)?[0-9a-f]{1,8}$/i.test(t)) return undefined;
	return Number.parseInt(t.replace(/^0x/i, ''), 16);
}

export function optionRows(board: Board, image: FirmwareImage): {id: OptionId; relevant: boolean}[] {
	const serial = board.kind === 'serial';
	const rows: {id: OptionId; relevant: boolean}[] = [
		{id: 'fullErase', relevant: true},
		{id: 'verify', relevant: true},
		{id: 'noReboot', relevant: serial},
		{id: 'baud', relevant: serial},
	];
	if (image.format === 'bin') rows.push({id: 'address', relevant: true});
	return rows;
}

export function useOptions(props: OptionsProps) {
	const rows = optionRows(props.board, props.image);
	const usable = rows.filter((r) => r.relevant).map((r) => r.id);
	const [cursor, setCursorState] = useState<OptionId>(usable[0]!);
	// Keys can arrive several in one read: handlers work on the latest values, not the last render's.
	const cursorRef = useRef<OptionId>(cursor);
	const setCursor = (id: OptionId) => {
		cursorRef.current = id;
		setCursorState(id);
	};
	const latest = useRef(props.choices);
	latest.current = props.choices;
	const setChoices = (patch: Partial<FlashChoices>) => {
		latest.current = {...latest.current, ...patch};
		props.setChoices(patch);
	};
	const [error, setError] = useState<string | undefined>(undefined);
	const [busy, setBusy] = useState(false);
	const toggle = (id: OptionId) => {
		const c = latest.current;
		setError(undefined);
		if (id === 'fullErase') setChoices({fullErase: !c.fullErase});
		else if (id === 'verify') setChoices({verify: !c.verify});
		else if (id === 'noReboot') setChoices({reboot: !c.reboot});
		else if (id === 'baud') setChoices({baud: baudRates[(Math.max(0, baudRates.indexOf(c.baud)) + 1) % baudRates.length]!});
	};

	const next = async () => {
		const c = latest.current;
		let image = props.image;
		if (image.format === 'bin') {
			const address = parseAddressText(c.address);
			if (address === undefined) return setError(`"${c.address}" is not a hex address like 0x08000000.`);
			if (address !== image.low) {
				setBusy(true);
				try {
					image = await props.loadImage(props.file, {address});
				} catch (e) {
					return setError(errorText(e));
				} finally {
					setBusy(false);
				}
			}
		}
		const blocking = imageWarnings(props.board, image).find((w) => w.blocking);
		if (blocking) return setError(blocking.text);
		props.onNext(image);
	};

	useKeys(
		(input, key) => {
			if (busy) return;
			const cursor = cursorRef.current;
			const at = Math.max(0, usable.indexOf(cursor));
			const c = latest.current;
			if (key.upArrow || (input === 'k' && cursor !== 'address')) setCursor(usable[Math.max(0, at - 1)]!);
			else if (key.downArrow || (input === 'j' && cursor !== 'address')) setCursor(usable[Math.min(usable.length - 1, at + 1)]!);
			else if (input === ' ') toggle(cursor);
			else if (key.return) void next();
			else if (key.escape) props.onBack();
			else if (cursor === 'address') {
				setError(undefined);
				if (key.backspace || key.delete) setChoices({address: c.address.slice(0, -1)});
				else if (/^[0-9a-fA-FxX]+$/.test(input)) setChoices({address: (c.address + input).slice(0, 10)});
			}
		},
		{isActive: props.active},
	);

	return {rows, cursor, error, busy};
}
