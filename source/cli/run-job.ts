// The CLI front end of a job: render its events with the reporter, answer its questions with a y/N
// prompt on the terminal, wire the process signals, and return the job's exit code. No policy here:
// which questions come, and what an answer means, is the job's.
import {createInterface, type Interface} from 'node:readline';
import {bindSignals} from '../jobs/signals.js';
import type {ConfirmFacts, Interaction, Job, JobEvent, JobListener, Question} from '../jobs/types.js';
import {detachFromTerminal} from '../terminal-gone.js';
import {phaseTitles, type Reporter} from './reporter.js';

/** The interaction a CLI command offers: a prompt only on a terminal, never with --yes or --json. */
export function cliInteraction(flags: {yes?: boolean; json?: boolean}): Interaction {
	return !flags.yes && !flags.json && process.stdin.isTTY && process.stderr.isTTY ? 'confirm' : 'none';
}

export function confirmText(facts: ConfirmFacts): string {
	const b = facts.board;
	const name = b.kind === 'dfu' ? (b.chip ?? b.name) : `${b.fc?.target ?? b.name} on ${b.port}`;
	const ident = facts.image.ident ? ` (${facts.image.ident.flavour} ${facts.image.ident.version} for ${facts.image.ident.target})` : '';
	return [
		`Board:  ${name} (${b.id})`,
		`File:   ${facts.file}${ident}`,
		...(facts.runs ? [`Runs:   ${facts.runs}`] : []),
		`Erase:  ${facts.erase}`,
		`Then:   ${facts.steps.join(', ')}`,
		...facts.warnings.map((w) => `warning: ${w.text}`),
	].join('\n');
}

function questionText(q: Question): string {
	switch (q.kind) {
		case 'confirm':
			return q.facts.offersSerial
				? `${confirmText(q.facts)}\nFlash it? y: in DFU now, s: start it and ask again from its serial port [y/s/N] `
				: `${confirmText(q.facts)}\nFlash it? [y/N] `;
		case 'unprotect':
			return 'The chip is read-protected. Unprotecting WIPES THE WHOLE CHIP. Unprotect and flash? [y/N] ';
		case 'continue-without-backup':
			return `The settings backup failed: ${q.reason}\nFlash without a backup (settings may be lost)? [y/N] `;
		case 'restore-other-board':
			return `The backup is from MCU ${q.backupMcuId}, this board is ${q.boardMcuId}. Restore it anyway? [y/N] `;
		case 'confirm-restore':
			return `Replace the settings of ${q.board.kind === 'serial' ? q.board.port : q.board.id} with ${q.file} (the board reboots)? [y/N] `;
		case 'confirm-fleet':
			return `Flash ${q.file} onto ${q.count ? `the next ${q.count} boards` : 'every board'} plugged in (boards it does not fit are skipped)? [y/N] `;
	}
}

/**
 * Flash on connect on the CLI: one line per board per phase change (several boards run at once, so
 * no progress bars), a bell when a board is done; in JSON each board's progress as a single flash
 * sends it, and every event carries the board's id.
 */
class FleetLines {
	private readonly phase = new Map<string, string>();
	constructor(private readonly reporter: Reporter) {}

	event(boardId: string, event: JobEvent): void {
		const r = this.reporter;
		if (event.type === 'progress') {
			// JSON: the same events a single flash sends (its throttle, per board), each with the board's id.
			if (r.mode === 'json') r.jsonProgress(event, boardId);
			else if (this.phase.get(boardId) !== event.phase) r.info(`${boardId}  ${phaseTitles[event.phase]}...`);
			this.phase.set(boardId, event.phase);
		} else if (event.type === 'warning') r.warn({text: `${boardId}: ${event.warning.text}`});
		else if (event.type === 'result') {
			const res = event.result;
			if (r.mode === 'json') r.event({event: 'board-result', boardId, ok: res.ok, ...res.fields, ...(res.error ? {error: res.error} : {})});
			else r.info(`${boardId}  ${res.ok ? 'done' : 'FAILED'}: ${res.ok ? res.summary.split('\n')[0] : res.error?.message}${r.mode === 'tty' ? '\x07' : ''}`);
		}
	}

	skipped(boardId: string, reason: string): void {
		if (this.reporter.mode === 'json') this.reporter.event({event: 'board-skipped', boardId, reason});
		else this.reporter.info(`${boardId}  skipped: ${reason}`);
	}
}

/** Start a job with the CLI as its front end; resolves with the exit code. */
export async function runCliJob<Data>(reporter: Reporter, start: (listener: JobListener) => Job<Data>): Promise<number> {
	let prompt: {id: number; rl: Interface} | undefined;
	let job: Job<Data> | undefined;
	const closePrompt = () => {
		prompt?.rl.close();
		prompt = undefined;
	};
	const ask = (q: Question) => {
		closePrompt();
		const rl = createInterface({input: process.stdin, output: process.stderr, terminal: Boolean(process.stdin.isTTY)});
		prompt = {id: q.id, rl};
		// Ctrl-C at the prompt is an interruption (exit 130), not an error.
		rl.on('SIGINT', () => job?.stop());
		// readline passes on its input's errors: EIO from a hung-up terminal is handled as a hang-up
		// (bindSignals listens on the stream itself), not as a crash.
		rl.on('error', () => {});
		rl.question(questionText(q), (answer) => {
			closePrompt();
			const a = answer.trim();
			job?.answer(q.id, /^y(es)?$/i.test(a) ? 'yes' : /^s(erial)?$/i.test(a) ? 'serial' : 'no');
		});
	};
	const fleet = new FleetLines(reporter);
	const listener = (event: JobEvent) => {
		switch (event.type) {
			case 'fleet':
				return fleet.event(event.boardId, event.event);
			case 'board-skipped':
				return fleet.skipped(event.boardId, event.reason);
			case 'progress':
				return reporter.progress(event);
			case 'info':
				return reporter.info(event.text);
			case 'warning':
				return reporter.warn(event.warning);
			case 'question':
				return ask(event.question);
			case 'question-closed':
				if (prompt?.id === event.id) closePrompt();
				return;
			case 'board':
			case 'phases':
			case 'result':
				return;
		}
	};
	job = start(listener);
	const unbind = bindSignals(job, {
		onHangup: () => {
			reporter.mute();
			closePrompt();
			detachFromTerminal();
		},
	});
	try {
		const result = await job.done;
		return reporter.jobResult(result);
	} finally {
		closePrompt();
		unbind();
	}
}
