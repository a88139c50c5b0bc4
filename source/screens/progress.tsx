// Screen 5: a job under way (flash, backup, leave, settings backup). Its phases (those it announced,
// and any it reports unannounced, such as the smart flash's compare), a bar for the current one with
// bytes, rate and ETA, or elapsed against expected time for a phase the board does not report (a
// full chip erase); while it waits for the board (in DFU after the reboot, the new firmware, the chip
// after an unprotect) the time left of the wait, what to do, and the key that cancels; what the job
// says; the stop question.
import {basename} from 'node:path';
import type {JobPhase, ProgressEvent} from '../jobs/types.js';
import {boardName, fitMiddle, phaseLabels, progressBar, progressFraction, progressStats, wrapText, type KnownBoard} from './screen-text.js';
import {blank, chromeLines, Frame, para, useTerminalSize, useTheme, useWidth, type KeyHelp, type Line} from './ui.js';
import {shownPhases, waiting, type JobView} from './use-job-state.js';
import type {TuiJobKind} from './types.js';

export const jobTitles: Record<TuiJobKind, string> = {
	flash: 'Flashing',
	backup: 'Backing up the flash',
	leave: 'Starting the firmware',
	'settings-backup': 'Backing up the settings',
	'on-connect': 'Flash on connect',
};

/** What the job waits for in each of its waits. */
export const waitTexts: Partial<Record<JobPhase, string>> = {
	wait: 'Waiting for the board in DFU',
	firmware: 'Waiting for the flight controller to come back',
	unprotect: 'Waiting for the chip to come back after the unprotect',
};

/** "48 s left (of 60 s)": the time left of a wait, counted down from what the job allows. */
export function waitLeft(p: ProgressEvent): string {
	const left = Math.max(0, Math.ceil(((p.expectedMs ?? 0) - (p.elapsedMs ?? 0)) / 1000));
	return `${left} s left (of ${Math.round((p.expectedMs ?? 0) / 1000)} s)`;
}

export function Progress(props: {job: JobView; known?: KnownBoard}) {
	const theme = useTheme();
	const width = useWidth();
	const {rows} = useTerminalSize();
	const g = theme.glyphs;
	const j = props.job;
	const p = j.progress;
	const wait = waiting(j);
	const keys: KeyHelp[] = [
		{key: 'Esc', label: wait ? 'cancel (asks first)' : 'stop (asks first)'},
		{key: 'q', label: 'quit'},
		{key: '?', label: 'help'},
	];
	const status = j.stopping ? 'Stopping at the next block boundary...' : undefined;
	const barWidth = Math.max(10, Math.min(40, width - 30));
	const head: Line[] = [{text: `Board: ${boardName(j.board, props.known)}`, role: 'dim'}];
	if (j.file) head.push({text: j.kind === 'backup' ? `To:    ${fitMiddle(j.file, width - 7, g.ellipsis)}` : `File:  ${basename(j.file)}`, role: 'dim'});

	const phases = shownPhases(j);
	const currentPhase = phases.find((phase) => !j.finished.includes(phase) && phase === p?.phase);
	const row = (phase: JobPhase): Line => {
		const done = j.finished.includes(phase);
		const current = phase === currentPhase;
		let text = `${done ? g.done : current ? g.active : g.pending} ${phaseLabels[phase].padEnd(18)}`;
		if (current && p) {
			const fraction = progressFraction(p);
			text += ` ${progressBar(fraction, barWidth, g.barFull, g.barEmpty)} ${String(Math.floor(fraction * 100)).padStart(3)}%`;
		}
		return {text: ` ${text}`, role: done ? 'ok' : current ? 'accent' : 'dim', bold: current};
	};
	const full = phases.map(row);
	// Short of rows: the finished phases on one line, the ones to come on another.
	const grouped = (list: JobPhase[], glyph: string, role: Line['role']): Line[] =>
		list.length ? wrapText(`${glyph} ${list.map((x) => phaseLabels[x]).join(', ')}`, width - 1, '  ').map((text) => ({text: ` ${text}`, role})) : [];
	const at = currentPhase ? phases.indexOf(currentPhase) : -1;
	const compact = [
		...grouped(
			phases.filter((x) => j.finished.includes(x)),
			g.done,
			'ok',
		),
		...(currentPhase ? [row(currentPhase)] : []),
		...grouped(
			phases.filter((x, i) => !j.finished.includes(x) && x !== currentPhase && i > at),
			g.pending,
			'dim',
		),
	];

	const now: Line[] = [];
	if (wait) {
		now.push(...para(`${waitTexts[wait.phase]}: ${waitLeft(wait)}.`, width - 1, 'accent', '  ', true).map((l) => ({...l, text: ` ${l.text}`})));
	} else now.push({text: p ? ` ${progressStats(p)}` : j.phases.length ? ' Starting...' : ' Opening the board...'});
	const said: Line[] = [];
	// Hold BOOT and replug is advice for the wait; once the board is there it no longer applies.
	for (const w of j.warnings) if (w.hint !== 'boot-button' || wait?.phase === 'wait') said.push(...para(`${g.warn} ${w.text}`, width, 'warn', '  '));
	const info = j.info ? para(j.info, width - 1, 'dim').map((l) => ({...l, text: ` ${l.text}`})).slice(0, 3) : [];

	const room = rows - chromeLines(width, keys, status) - (status ? 0 : 1);
	const fixed = head.length + now.length + said.length;
	const list = fixed + full.length + 2 + info.length <= room ? full : compact;
	const body: Line[] = [...head];
	if (fixed + list.length + 2 + info.length <= room) body.push(blank);
	body.push(...list);
	if (body.length + now.length + said.length + info.length + 1 <= room) body.push(blank);
	body.push(...now);
	if (body.length + said.length + info.length <= room) body.push(...info);
	body.push(...said);
	return <Frame title={jobTitles[j.kind]} keys={keys} body={body} status={status} />;
}
