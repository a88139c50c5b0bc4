// Screen 3: flash options. Space toggles, Enter asks the job to start (it asks for confirmation).
import {basename} from 'node:path';
import type {Board} from '../devices/types.js';
import type {FirmwareImage} from '../firmware/image.js';
import {tuiHint} from '../hints.js';
import {boardName, type KnownBoard} from './screen-text.js';
import {blank, Frame, para, useTheme, useWidth, type Line} from './ui.js';
import {optionRows, optionsCursor, type OptionId, type OptionsState} from './use-options-state.js';

export function Options(props: {state: OptionsState; board: Board; known?: KnownBoard; file: string; image: FirmwareImage; onConnect?: boolean}) {
	const theme = useTheme();
	const width = useWidth();
	const g = theme.glyphs;
	const s = props.state;
	const c = s.choices;
	const box = (on: boolean) => (on ? g.checked : g.unchecked);
	const dfu = props.board.kind === 'dfu';
	// One reason for every row a board in DFU does not need (said once).
	const notRelevant = 'Not needed: the board is in DFU (no settings to read).';
	const cursor = optionsCursor(s, props);
	const keeps = !dfu && c.reboot && c.keepSettings;
	const describe: Record<OptionId, {label: string; value: string; help: string}> = {
		fullErase: {
			label: 'Full chip erase',
			value: box(c.fullErase),
			help: c.fullErase
				? keeps
					? 'Erases the whole chip; the settings are backed up first and restored afterwards.'
					: 'Erases the whole chip: settings (PIDs, rates, modes) are LOST.'
				: 'Off: only the sectors the image uses are erased; settings are kept.',
		},
		verify: {label: 'Verify', value: box(c.verify), help: c.verify ? 'Reads the flash back and compares it.' : 'Off: the flash is not read back.'},
		noReboot: {
			label: 'No reboot sequence',
			value: dfu ? g.dash : box(!c.reboot),
			help: dfu ? notRelevant : c.reboot ? 'Off: the flight controller is asked over serial to reboot into DFU first.' : 'On: the board must already be in DFU (hold BOOT while plugging in).',
		},
		baud: {
			label: 'Baud rate',
			value: dfu || !c.reboot ? g.dash : String(c.baud),
			help: dfu ? notRelevant : !c.reboot ? 'Not used: no reboot request is sent.' : 'Serial speed of the reboot request; Space cycles.',
		},
		keepSettings: {
			label: 'Keep settings (backup and restore)',
			value: dfu || !c.reboot ? g.dash : box(c.keepSettings),
			help: dfu
				? notRelevant
				: !c.reboot
					? 'Not possible without the reboot: the settings are read over the CLI that reboots the board.'
					: c.keepSettings
						? 'The settings are backed up over its CLI before the flash and restored once the new firmware runs; the backup file is kept.'
						: 'Off: no backup; the new firmware may start with its defaults (set the board up again).',
		},
		address: {label: 'Address (.bin)', value: c.address + (cursor === 'address' ? '_' : ''), help: 'Load address of the raw binary: 0x and hex digits, or decimal; Backspace deletes.'},
		onConnect: {
			label: 'Flash on connect',
			value: '',
			help: 'Enter: flash every board plugged in now or later that the image fits, once each, with these options.',
		},
	};
	const labelWidth = Math.max(...Object.values(describe).map((d) => d.label.length)) + 1;
	const action = (id: OptionId) => id === 'onConnect';
	const body: Line[] = [
		{text: `Board: ${boardName(props.board, props.known)}`, role: 'dim'},
		{text: `File:  ${basename(props.file)}`, role: 'dim'},
		blank,
	];
	let lastHelp = '';
	for (const r of optionRows(props.board, props.image, c, props.onConnect)) {
		const d = describe[r.id];
		const selected = r.id === cursor;
		const pointer = selected ? g.pointer : ' '.repeat(g.pointer.length);
		// The action row stands apart: it is not an option of this flash but another way to flash.
		if (action(r.id)) body.push(blank, {text: `${pointer} ${d.label}: every board plugged in ${g.ellipsis}`, role: selected ? 'accent' : undefined, bold: selected});
		else body.push({text: `${pointer} ${d.label.padEnd(labelWidth)} ${d.value}`, role: !r.relevant ? 'dim' : selected ? 'accent' : undefined, bold: selected});
		if ((selected || !r.relevant) && d.help !== lastHelp) body.push(...para(d.help, width - 4, 'dim', '').map((l) => ({...l, text: `    ${l.text}`})));
		if (selected || !r.relevant) lastHelp = d.help;
	}
	if (s.error) {
		body.push(blank, ...para(`${g.failed} ${s.error.message}`, width, 'error', '  '));
		if (s.error.hint) body.push(...para(`${tuiHint(s.error.hint).title}: press ? for what to do.`, width, 'warn'));
	}
	const status = s.busy === 'reloading' ? 'Reading the file at the new address...' : s.busy === 'starting' ? 'Checking the board and the image...' : undefined;
	return (
		<Frame
			title="Options"
			keys={[
				{key: 'Up/Down', label: 'move'},
				{key: 'Space', label: 'toggle'},
				{key: 'Enter', label: cursor === 'onConnect' ? 'flash on connect' : 'continue'},
				{key: 'Esc', label: 'back'},
				{key: '?', label: 'help'},
				{key: 'q', label: 'quit'},
			]}
			body={body}
			status={status}
			statusRole="dim"
		/>
	);
}
