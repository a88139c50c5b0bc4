// Flash on connect: a row per board (its id, name, phase and progress, its result or why it was
// skipped), the counts, the highlighted board's whole story under the list, and the keys that stop
// (first no new boards, then the flashes under way too). At the end the job's summary; Enter goes
// back to the device list. Everything here comes from the job's events (use-fleet-state.ts).
import {basename} from 'node:path';
import type {Board} from '../devices/types.js';
import type {FirmwareImage} from '../firmware/image.js';
import {formatDuration} from '../format.js';
import {tuiHint} from '../hints.js';
import type {JobResult} from '../jobs/types.js';
import {waitLeft, waitTexts} from './progress.js';
import {fitEnd, fitMiddle, phaseLabels, progressBar, progressFraction, progressStats} from './screen-text.js';
import {useContext} from 'react';
import {blank, chromeLines, Frame, listRow, para, PromptContext, useTerminalSize, useTheme, useWidth, type KeyHelp, type Line} from './ui.js';
import {fleetCounts, fleetPageRows, fleetSelectedIndex, fleetWindow, type FleetRow, type FleetViewState} from './use-fleet-state.js';
import {waitPhases} from './use-job-state.js';
import type {Glyphs} from './theme.js';
import type {TerminalSize} from './types.js';

/** "STM32F405" from "STM32F405/F407 (1 MiB)"; a flight controller's target. */
function shortName(b: Board): string {
	if (b.kind === 'serial') return b.fc?.target ?? b.name;
	return /^(STM32[A-Z]\d\w\d|AT32F\d{3})/i.exec(b.chip ?? '')?.[1] ?? b.chip ?? b.name;
}

/** What a row says after its id and name: where its flash is, or how it ended. */
function rowState(r: FleetRow, g: Glyphs, room: number): {mark: string; text: string; role?: Line['role']} {
	if (!r.started) return {mark: g.dash, text: `skipped: ${r.skipped ?? ''}`, role: 'dim'};
	const res = r.result;
	if (res?.ok) {
		const d = res.data;
		return {mark: g.done, text: `flashed${d ? ` in ${formatDuration(d.durationMs)}` : ''}${r.seenAgain ? ', then seen again' : ''}`, role: 'ok'};
	}
	if (res) return {mark: g.failed, text: `${res.cancelled ? 'stopped' : 'FAILED'}: ${res.error?.message ?? res.summary}`, role: 'error'};
	const p = r.progress;
	if (!p) return {mark: g.active, text: 'starting...', role: 'accent'};
	const label = phaseLabels[p.phase];
	if (waitPhases.has(p.phase) && p.expectedMs !== undefined && !(p.total > 0 && p.done >= p.total)) return {mark: g.active, text: `${label}, ${waitLeft(p).replace(/ \(of .*/, '')}`, role: 'accent'};
	const fraction = progressFraction(p);
	const bar = Math.max(4, Math.min(12, room - label.length - 6));
	return {mark: g.active, text: `${label.padEnd(6)} ${progressBar(fraction, bar, g.barFull, g.barEmpty)} ${String(Math.floor(fraction * 100)).padStart(3)}%`, role: 'accent'};
}

/** The highlighted board in a few lines: the reason, the error and its hint, or where it is. */
function details(r: FleetRow, width: number, g: Glyphs): Line[] {
	const out: Line[] = [{text: fitEnd(`${r.boardId}: ${r.board.kind === 'serial' ? r.board.port : (r.board.chip ?? r.board.name)}`, width, g.ellipsis), role: 'dim'}];
	const res = r.result;
	if (!r.started) out.push(...para(r.skipped ?? '', width, undefined, '  '));
	else if (res && !res.ok) {
		out.push(...para(res.error?.message ?? res.summary, width, 'error', '  '));
		if (res.error?.hintId) out.push(...para(`${g.warn} ${tuiHint(res.error.hintId).title}: press ? for what to do.`, width, 'warn', '  '));
	} else if (res) {
		const d = res.data;
		const facts = [d?.verified ? 'verified' : 'not verified', d?.firmware?.matchesImage ? 'runs the flashed image' : d?.left ? 'firmware started' : ''];
		if (d?.settings) facts.push(d.settings.restored ? `settings restored (${d.settings.applied} lines${d.settings.rejected.length ? `, ${d.settings.rejected.length} refused` : ''})` : 'settings not restored');
		out.push(...para(`Flashed: ${facts.filter(Boolean).join(', ')}.${r.seenAgain ? ` ${r.seenAgain}` : ''}`, width, 'ok', '  '));
	} else {
		const p = r.progress;
		if (p) out.push(...para(waitPhases.has(p.phase) && p.expectedMs !== undefined ? `${waitTexts[p.phase]}: ${waitLeft(p)}.` : `${phaseLabels[p.phase]}: ${progressStats(p)}`, width, undefined, '  '));
		const w = r.warnings.at(-1);
		if (w) out.push(...para(`${g.warn} ${w.text}`, width, 'warn', '  '));
		else if (r.info) out.push(...para(r.info, width, 'dim', '  '));
	}
	return out.slice(0, 3);
}

export function Fleet(props: {rows: FleetRow[]; state: FleetViewState; file?: string; image?: FirmwareImage; stopping: boolean; stoppingAll: boolean; result?: JobResult; size: TerminalSize}) {
	const theme = useTheme();
	const width = useWidth();
	const {rows: height} = useTerminalSize();
	const g = theme.glyphs;
	const rows = props.rows;
	const c = fleetCounts(rows);
	const r = props.result;
	const keys: KeyHelp[] = r
		? [
				{key: 'Enter', label: 'device list'},
				{key: 'Up/Down', label: 'boards'},
				{key: '?', label: 'help'},
				{key: 'q', label: 'quit'},
			]
		: [
				{key: 'Up/Down', label: 'boards'},
				...(!props.stopping
					? [{key: 'Esc', label: 'stop taking boards'}]
					: !props.stoppingAll && c.running > 0
						? [{key: 'Esc', label: 'stop the flashes under way'}]
						: []),
				{key: 'q', label: 'quit'},
				{key: '?', label: 'help'},
			];
	const head: Line[] = [];
	if (props.file) {
		const ident = props.image?.ident;
		head.push({text: fitEnd(`File:  ${basename(props.file)}${ident ? `  (${ident.flavour} ${ident.version}, ${ident.target})` : ''}`, width, g.ellipsis), role: 'dim'});
	}
	head.push({text: `Tried ${c.tried}: ${c.flashed} flashed, ${c.failed} failed, ${c.running} under way; ${c.skipped} skipped`, bold: true});

	// What happens now, or how it ended.
	const foot: Line[] = [];
	if (r) {
		const message = (r.error?.message ?? r.summary).split('\n')[0]!;
		foot.push(...para(`${r.ok ? g.done : r.cancelled ? g.warn : g.failed} ${message}`, width, r.ok ? 'ok' : r.cancelled ? 'warn' : 'error', '  ', true));
		foot.push({text: 'Press Enter to return to the device list.', role: 'accent'});
	} else if (props.stoppingAll) foot.push(...para('Stopping the flashes under way at the next block boundary...', width, 'warn'));
	else if (props.stopping) foot.push(...para(`Not taking new boards: ${c.running} flash${c.running === 1 ? '' : 'es'} under way ${c.running === 1 ? 'finishes' : 'finish'} first.`, width, 'warn'));
	else foot.push(...para(rows.length ? 'Plug boards in: each that fits is flashed once.' : 'Waiting for boards: plug them in.', width, 'accent'));

	const index = fleetSelectedIndex(props.state, rows);
	const selected = rows[index];
	const more = selected ? details(selected, width, g) : [];
	// The stop question takes the status line(s).
	const room = height - chromeLines(width, keys, useContext(PromptContext));
	// The list gets what the rest leaves, and never more than the reducer pages by.
	// Head, blank, the two "more" lines, blank and up to 3 lines of details, blank, foot: the list
	// keeps its height whichever board is highlighted.
	const fixed = head.length + 1 + 2 + 1 + 3 + 1 + foot.length;
	const page = Math.max(1, Math.min(fleetPageRows(props.size), room - fixed));
	const first = fleetWindow(props.state, rows, page);
	const visible = rows.slice(first, first + page);
	const idWidth = Math.min(Math.max(12, ...rows.map((x) => x.boardId.length)), width >= 80 ? 26 : 20);
	const nameWidth = width >= 80 ? 11 : 10;
	const list: Line[] = [];
	if (first > 0) list.push({text: `  ${g.ellipsis} ${first} more above`, role: 'dim'});
	visible.forEach((row, i) => {
		const lead = `${fitMiddle(row.boardId, idWidth, g.ellipsis).padEnd(idWidth)} ${fitEnd(shortName(row.current ?? row.board), nameWidth, g.ellipsis).padEnd(nameWidth)} `;
		const room = width - g.pointer.length - 1 - 2 - lead.length;
		const st = rowState(row, g, room);
		list.push(listRow(first + i === index, fitEnd(`${st.mark} ${lead}${st.text}`, width - g.pointer.length - 1, g.ellipsis), g.pointer, st.role));
	});
	const below = rows.length - first - visible.length;
	if (below > 0) list.push({text: `  ${g.ellipsis} ${below} more below`, role: 'dim'});
	if (rows.length === 0) list.push({text: '  No board yet.', role: 'dim'});

	const body: Line[] = [...head, blank, ...list];
	if (more.length) body.push(blank, ...more);
	body.push(blank, ...foot);
	return <Frame title="Flash on connect" keys={keys} body={body} />;
}
