// Screen 6: how the job ended. Success: what was done. Failure or stop: the job's message, what
// the board holds now and what to do, and the matching hint.
import {basename} from 'node:path';
import {formatBytes, formatDuration, hex32} from '../format.js';
import {tuiHint} from '../hints.js';
import type {BackupReport, FlashReport, LeaveReport} from '../jobs/types.js';
import type {BackupResult} from '../settings/backup.js';
import {settingsLines} from './use-settings-lines-state.js';
import {boardName, boardStateText, fitMiddle, wrapPath, type KnownBoard} from './screen-text.js';
import {blank, chromeLines, Frame, para, useTerminalSize, useTheme, useWidth, type KeyHelp, type Line} from './ui.js';
import type {JobView} from './use-job-state.js';

/** Sections separated by blank lines while they fit, packed when the terminal is short. */
function stack(sections: Line[][], room: number): Line[] {
	const parts = sections.filter((x) => x.length > 0);
	const total = parts.reduce((n, x) => n + x.length, 0);
	const gaps = total + parts.length - 1 <= room;
	return parts.flatMap((x, i) => (gaps && i > 0 ? [blank, ...x] : x));
}

export function Result(props: {job: JobView; quitting: boolean; known?: KnownBoard}) {
	const theme = useTheme();
	const width = useWidth();
	const {rows} = useTerminalSize();
	const g = theme.glyphs;
	const j = props.job;
	const r = j.result!;
	const lines = j.kind === 'flash' ? settingsLines((r.data as FlashReport | undefined)?.settings) : [];
	const keys: KeyHelp[] = props.quitting
		? []
		: [
				{key: 'Enter', label: 'device list'},
				...(lines.length ? [{key: 'r', label: 'refused lines'}] : []),
				{key: '?', label: 'help'},
				{key: 'q', label: 'quit'},
			];
	const room = rows - chromeLines(width, keys);
	const next: Line[] = props.quitting ? [{text: 'Quitting...', role: 'dim'}] : [{text: 'Press Enter to return to the device list.', role: 'accent'}];
	const name = boardName(j.board, props.known);
	if (r.ok) {
		const facts: Line[] = [];
		let head = `${g.done} Done`;
		if (j.kind === 'flash') {
			const d = r.data as FlashReport | undefined;
			head = `${g.done} Flashed successfully${d ? ` in ${formatDuration(d.durationMs)}` : ''}`;
			facts.push({text: `Board:     ${name}`});
			if (j.file) facts.push({text: `File:      ${basename(j.file)}`});
			if (d?.erase) {
				const held = d.erase.unchanged ? `; ${d.erase.unchanged} sector${d.erase.unchanged === 1 ? '' : 's'} already held this firmware` : '';
				const blank = d.erase.blank ? `; ${d.erase.blank} blank, written without an erase` : '';
				facts.push(...para(`Erased:    ${d.erase.sectors} sector${d.erase.sectors === 1 ? '' : 's'}, ${formatBytes(d.erase.bytes)}${d.erase.mode === 'mass' ? ' (whole chip)' : ''}${held}${blank}`, width, undefined, '           '));
			}
			if (d?.written !== undefined) facts.push({text: `Written:   ${formatBytes(d.written)}${d.kept ? ` (+${formatBytes(d.kept)} already there)` : ''}${d.skipped ? ` (+${formatBytes(d.skipped)} of 0xFF skipped)` : ''}`});
			if (d) facts.push({text: `Verified:  ${d.verified ? 'yes, the flash reads back the image' : 'NO (verify was off)'}`, role: d.verified ? 'ok' : 'warn'});
			if (d?.recoveries) facts.push({text: `Recovered: ${d.recoveries} stuck-busy block${d.recoveries === 1 ? '' : 's'}, each read back and checked`, role: 'warn'});
			if (d) facts.push(...firmwareLines(d, width));
			facts.push(...settingsFacts(d, width));
			// Each refused line is also a warning of the job: they are one key (r) away, not repeated here.
			for (const w of d?.warnings ?? []) if (w.hint !== 'settings-rejected') facts.push(...para(`${g.warn} ${w.text}`, width, 'warn', '  '));
		} else if (j.kind === 'backup') {
			const d = r.data as BackupReport | undefined;
			head = `${g.done} Backed up${d?.bytes !== undefined ? ` ${formatBytes(d.bytes)}` : ''}${d ? ` in ${formatDuration(d.durationMs)}` : ''}`;
			facts.push({text: `Board:  ${name}`});
			const file = d?.file ?? j.file;
			if (file) facts.push(...para(`Saved:  ${file}`, width, 'ok', '        '));
			if (d?.address !== undefined) facts.push({text: `From:   ${hex32(d.address)}`});
			if (d?.sha256) facts.push({text: `SHA256: ${fitMiddle(d.sha256, width - 8, g.ellipsis)}`, role: 'dim'});
		} else if (j.kind === 'leave') {
			const d = r.data as LeaveReport | undefined;
			head = d?.alreadyRunning ? `${g.done} The board already runs its firmware` : `${g.done} Started the firmware`;
			facts.push({text: `Board:  ${name}`});
			if (d?.address !== undefined) facts.push({text: `From:   ${hex32(d.address)}`});
		} else if (j.kind === 'settings-backup') {
			const d = r.data as BackupResult | undefined;
			head = `${g.done} Saved the settings`;
			facts.push({text: `Board:     ${name}`});
			if (d) {
				facts.push(...wrapPath('File:      ', d.file, width, '           ').map((text) => ({text, role: 'ok' as const})));
				facts.push({text: `Contains:  ${d.lines} line${d.lines === 1 ? '' : 's'} of the CLI's diff all`});
				const fw = [d.board.variant, d.board.version, d.board.target].filter(Boolean).join(' ');
				if (fw) facts.push({text: `Firmware:  ${fw}`});
			} else facts.push(...para(r.summary, width));
		} else {
			facts.push(...para(r.summary, width));
		}
		const body = stack([[{text: head, role: 'ok', bold: true}], facts, next], room);
		return <Frame title="Done" keys={keys} body={body} />;
	}
	const verb = {flash: 'Flashing', backup: 'The backup', leave: 'Starting the firmware', 'settings-backup': 'The settings backup', 'on-connect': 'Flash on connect'}[j.kind];
	const head = `${g.failed} ${verb} ${r.cancelled ? 'was stopped' : 'failed'} (${name})`;
	const message = para(r.error?.message ?? r.summary, width);
	const state = (r.data as {boardState?: keyof typeof boardStateText} | undefined)?.boardState;
	const holds = state ? para(boardStateText[state], width, 'accent') : [];
	// What a flash kept for the pilot: the backup (when the message does not name it) and what runs.
	const kept: Line[] = [];
	if (j.kind === 'flash') {
		const d = r.data as FlashReport | undefined;
		if (d?.firmware?.variant) kept.push(...firmwareLines(d, width));
		const named = d?.settings?.backup ? (r.error?.message ?? r.summary).includes(d.settings.backup) : false;
		kept.push(...settingsFacts(d, width, !named));
	}
	const hintId = r.error?.hintId;
	const hint: Line[] = hintId ? [{text: `${g.warn} ${tuiHint(hintId).title}`, role: 'warn'}, ...para(tuiHint(hintId).text, width, undefined, '  ')] : r.error?.hint ? para(r.error.hint, width, 'warn') : [];
	const body = stack([para(head, width, 'error', '  ', true), message, kept, holds, hint, next], room);
	return <Frame title={r.cancelled ? 'Stopped' : 'Failed'} keys={keys} body={body} />;
}

/** What runs after the flash: only what was seen (the firmware identified over MSP after the start). */
function firmwareLines(d: FlashReport, width: number): Line[] {
	const fw = d.firmware;
	const running = fw ? [fw.variant, fw.version, fw.target].filter(Boolean).join(' ') : '';
	const text = !d.left
		? 'no, the firmware was not started'
		: fw?.matchesImage
			? `${running}, the flashed image`
			: fw
				? running
					? `${running}, NOT the flashed image`
					: 'not seen (the flight controller did not come back)'
				: 'started (no serial port seen afterwards to check)';
	return para(`Running:   ${text}`, width, fw?.matchesImage ? 'ok' : fw ? 'warn' : undefined, '           ');
}

/** The restore in one line (applied, refused, still different) and where the backup is. */
function settingsFacts(d: FlashReport | undefined, width: number, withBackup = true): Line[] {
	const st = d?.settings;
	if (!st) return [];
	const n = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;
	let text: string;
	if (!st.restored) text = st.backup ? 'not restored (the backup is kept)' : 'not backed up';
	else if (st.applied === 0 && st.rejected.length === 0 && st.remaining.length === 0) text = 'kept: the board already held every setting of the backup';
	else {
		text = `restored: ${n(st.applied, 'line')} applied`;
		if (st.rejected.length) text += `, ${st.rejected.length} refused by the firmware`;
		if (st.remaining.length) text += `, ${st.remaining.length} still differ${st.remaining.length === 1 ? 's' : ''}`;
		if (st.rejected.length || st.remaining.length) text += ' (r lists them)';
	}
	const out = para(`Settings:  ${text}`, width, st.rejected.length || st.remaining.length || !st.restored ? 'warn' : 'ok', '           ');
	if (st.backup && withBackup) out.push(...wrapPath('Backup:    ', st.backup, width, '           ').map((text) => ({text, role: 'dim' as const})));
	return out;
}
