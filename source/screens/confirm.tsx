// Screen 4: the job's questions. The flash confirmation shows what the job will do (board, file,
// what is erased, the steps, warnings); a wrong-target image needs the typed word `force`. The
// unprotect question says the chip is wiped.
import {basename} from 'node:path';
import type {Question} from '../jobs/types.js';
import {boardName, type KnownBoard} from './screen-text.js';
import {blank, Frame, para, useTheme, useWidth, type Line} from './ui.js';
import {needsForce, type QuestionState} from './use-confirm-state.js';
import type {FlashChoices} from './types.js';

const yesNoKeys = [
	{key: 'y', label: 'yes'},
	{key: 'n/Enter/Esc', label: 'back'},
	{key: '?', label: 'help'},
];

const serialKeys = [{key: 'y', label: 'flash'}, {key: 's', label: 'start, ask again'}, ...yesNoKeys.slice(1)];

export function QuestionScreen(props: {question: Question; state: QuestionState; known?: KnownBoard; choices?: FlashChoices}) {
	const theme = useTheme();
	const width = useWidth();
	const g = theme.glyphs;
	const q = props.question;
	const body: Line[] = [];
	const fact = (label: string, text: string, role?: Line['role']) => body.push(...para(`${label.padEnd(8)}${text}`, width, role, '        '));
	if (q.kind === 'confirm') {
		const f = q.facts;
		const force = needsForce(q);
		body.push({text: force ? 'This image is built for another board. Flash it anyway?' : 'Flash this board?', bold: true, role: force ? 'warn' : undefined}, blank);
		fact('Board:', boardName(f.board, props.known));
		fact('File:', basename(f.file));
		if (f.image.ident) fact('Image:', `${f.image.ident.flavour} ${f.image.ident.version}, built for ${f.image.ident.target}`);
		if (f.runs) fact('Runs:', f.runs);
		fact('Erase:', f.erase, /WHOLE/.test(f.erase) ? 'warn' : undefined);
		fact('Then:', f.steps.join(', '));
		if (f.mismatch) body.push(...para(`${g.warn} ${f.mismatch}`, width, 'error', '  '));
		for (const w of f.warnings) body.push(...para(`${g.warn} ${w.text}`, width, 'warn', '  '));
		body.push(blank);
		if (force) {
			body.push(...para('Flashing firmware built for another target can leave the board unusable until it is flashed again. Type force and press Enter to flash anyway; Esc goes back.', width, 'accent'));
			body.push({text: `> ${props.state.typed}_`, role: 'accent', bold: true});
		} else if (f.offersSerial) {
			body.push(...para('Press y to flash it in DFU now, s to start its firmware and be asked again for its serial port (settings kept). n, Enter or Esc go back.', width, 'accent', '', true));
		} else body.push(...para('Press y to flash. n, Enter or Esc go back.', width, 'accent', '', true));
		return (
			<Frame
				title="Confirm"
				keys={force ? [{key: 'force Enter', label: 'flash'}, {key: 'Esc', label: 'back'}, {key: '?', label: 'help'}] : f.offersSerial ? serialKeys : yesNoKeys}
				body={body}
				status={props.state.notice}
			/>
		);
	}
	if (q.kind === 'unprotect') {
		body.push(...para(`${boardName(q.board)} is read-protected.`, width, 'error', '', true), blank);
		body.push(...para('It refuses erase and write until read protection is lifted. Unprotecting WIPES THE WHOLE CHIP (firmware and settings) and resets it; then the image is flashed.', width));
		body.push(blank, ...para('Press y to unprotect (wipe) and flash. n, Enter or Esc go back.', width, 'accent', '', true));
		return <Frame title="Read-protected chip" keys={yesNoKeys} body={body} />;
	}
	if (q.kind === 'continue-without-backup') {
		// The reason is the job's whole message ("The settings backup of PORT failed: ..."): said once.
		body.push(...para(q.reason, width, 'error'), blank);
		body.push(...para('Flash without a backup? The settings may be lost if the new firmware starts with defaults.', width));
		body.push(blank, ...para('Press y to flash without a backup. n, Enter or Esc stop.', width, 'accent', '', true));
		return <Frame title="No settings backup" keys={yesNoKeys} body={body} />;
	}
	if (q.kind === 'confirm-fleet') {
		body.push(...para('Flash this file onto every board that is plugged in now or later?', width, undefined, '', true), blank);
		fact('File:', basename(q.file));
		if (q.image.ident) fact('Image:', `${q.image.ident.flavour} ${q.image.ident.version}, built for ${q.image.ident.target}`);
		fact('Boards:', `each board the image fits, once${q.count ? `, until ${q.count} were tried` : ''}, several at once; the others are skipped, and the list says why.`);
		const c = props.choices;
		if (c) {
			fact('Erase:', c.fullErase ? 'the WHOLE chip of each board' : 'only the sectors the image uses', c.fullErase ? 'warn' : undefined);
			fact('Then:', [c.verify ? 'verify' : 'no verify', 'start the firmware', c.reboot && c.keepSettings ? 'a flight controller keeps its settings (backup and restore)' : ''].filter(Boolean).join(', '));
		}
		body.push(blank, ...para('Press y to start. n, Enter or Esc go back.', width, 'accent', '', true));
		return <Frame title="Flash on connect" keys={yesNoKeys} body={body} />;
	}
	if (q.kind === 'confirm-restore') {
		body.push(...para(`Replace the settings of ${boardName(q.board)} with ${basename(q.file)}? The board reboots.`, width, undefined, '', true));
		body.push(blank, ...para('Press y to restore. n, Enter or Esc go back.', width, 'accent', '', true));
		return <Frame title="Restore settings" keys={yesNoKeys} body={body} />;
	}
	body.push(...para(`The backup was made on MCU ${q.backupMcuId}, this board is MCU ${q.boardMcuId}.`, width, 'warn'), blank);
	body.push(...para('Type force and press Enter to restore it onto this board anyway. Esc skips the restore.', width, 'accent', '', true));
	return <Frame title="Another board's settings" keys={[{key: 'force Enter', label: 'restore'}, {key: 'Esc', label: 'back'}]} body={body} />;
}
