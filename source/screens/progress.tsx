// Screen 5: a job under way (flash, backup, leave). Its phases, a bar for the current one with
// bytes, rate and ETA, or elapsed against expected time for a phase the board does not report
// (a full chip erase); what the job says; the stop question.
import {basename} from 'node:path';
import {boardName, fitMiddle, phaseLabels, progressBar, progressFraction, progressStats, type KnownBoard} from './screen-text.js';
import {blank, Frame, para, useTheme, useWidth, type Line} from './ui.js';
import type {JobView} from './use-job-state.js';
import type {TuiJobKind} from './types.js';

export const jobTitles: Record<TuiJobKind, string> = {
	flash: 'Flashing',
	backup: 'Backing up the flash',
	leave: 'Starting the firmware',
	'settings-backup': 'Backing up the settings',
};

export function Progress(props: {job: JobView; known?: KnownBoard}) {
	const theme = useTheme();
	const width = useWidth();
	const g = theme.glyphs;
	const j = props.job;
	const p = j.progress;
	const barWidth = Math.max(10, Math.min(40, width - 30));
	const body: Line[] = [{text: `Board: ${boardName(j.board, props.known)}`, role: 'dim'}];
	if (j.file) body.push({text: j.kind === 'backup' ? `To:    ${fitMiddle(j.file, width - 7, g.ellipsis)}` : `File:  ${basename(j.file)}`, role: 'dim'});
	body.push(blank);
	const phases = j.phases.length > 0 ? j.phases : p ? [p.phase] : [];
	for (const phase of phases) {
		const done = j.finished.includes(phase);
		const current = !done && phase === p?.phase;
		const glyph = done ? g.done : current ? g.active : g.pending;
		const label = phaseLabels[phase].padEnd(18);
		let text = `${glyph} ${label}`;
		if (current && p) {
			const fraction = progressFraction(p);
			text += ` ${progressBar(fraction, barWidth, g.barFull, g.barEmpty)} ${String(Math.floor(fraction * 100)).padStart(3)}%`;
		}
		body.push({text: ` ${text}`, role: done ? 'ok' : current ? 'accent' : 'dim', bold: current});
	}
	body.push(blank);
	body.push({text: p ? ` ${progressStats(p)}` : j.phases.length ? ' Starting...' : ' Opening the board...'});
	if (j.info) body.push(...para(j.info, width - 1, 'dim').map((l) => ({...l, text: ` ${l.text}`})).slice(0, 2));
	for (const w of j.warnings) body.push(...para(`${g.warn} ${w.text}`, width, 'warn', '  '));
	const status = j.stopping ? 'Stopping at the next block boundary...' : undefined;
	return (
		<Frame
			title={jobTitles[j.kind]}
			keys={[
				{key: 'q', label: 'stop (asks first)'},
				{key: '?', label: 'help'},
			]}
			body={body}
			status={status}
		/>
	);
}
