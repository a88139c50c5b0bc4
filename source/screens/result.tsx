// Screen 6: how the job ended. Success: what was done. Failure or stop: the job's message, what
// the board holds now and what to do, and the matching hint.
import {basename} from 'node:path';
import {formatBytes, formatDuration, hex32} from '../format.js';
import {tuiHint} from '../hints.js';
import type {BackupReport, FlashReport, LeaveReport} from '../jobs/types.js';
import {boardName, boardStateText, fitMiddle, type KnownBoard} from './screen-text.js';
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
	const keys: KeyHelp[] = props.quitting
		? []
		: [
				{key: 'Enter', label: 'device list'},
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
			// Only what was seen: the firmware identified over MSP after the start.
			if (d) {
				const fw = d.firmware;
				const running = fw ? [fw.variant, fw.version, fw.target].filter(Boolean).join(' ') : '';
				facts.push({
					text: `Running:   ${!d.left ? 'no, the firmware was not started' : fw?.matchesImage ? `${running}, the flashed image` : fw ? `${running || 'unidentified'}` : 'started (no serial port seen afterwards to check)'}`,
					role: fw?.matchesImage ? 'ok' : undefined,
				});
			}
			if (d?.settings) {
				const st = d.settings;
				const rejected = st.rejected.length ? `, ${st.rejected.length} rejected` : '';
				facts.push(...para(`Settings:  ${st.restored ? `restored (${st.applied} lines${rejected})` : 'not restored'}${st.backup ? `; backup in ${st.backup}` : ''}`, width, undefined, '           '));
			}
			for (const w of d?.warnings ?? []) facts.push(...para(`${g.warn} ${w.text}`, width, 'warn', '  '));
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
		} else {
			facts.push(...para(r.summary, width));
		}
		const body = stack([[{text: head, role: 'ok', bold: true}], facts, next], room);
		return <Frame title="Done" keys={keys} body={body} />;
	}
	const verb = {flash: 'Flashing', backup: 'The backup', leave: 'Starting the firmware', 'settings-backup': 'The settings backup'}[j.kind];
	const head = `${g.failed} ${verb} ${r.cancelled ? 'was stopped' : 'failed'} (${name})`;
	const message = para(r.error?.message ?? r.summary, width);
	const state = (r.data as {boardState?: keyof typeof boardStateText} | undefined)?.boardState;
	const holds = state ? para(boardStateText[state], width, 'accent') : [];
	const hintId = r.error?.hintId;
	const hint: Line[] = hintId ? [{text: `${g.warn} ${tuiHint(hintId).title}`, role: 'warn'}, ...para(tuiHint(hintId).text, width, undefined, '  ')] : r.error?.hint ? para(r.error.hint, width, 'warn') : [];
	const body = stack([para(head, width, 'error', '  ', true), message, holds, hint, next], room);
	return <Frame title={r.cancelled ? 'Stopped' : 'Failed'} keys={keys} body={body} />;
}
