// Stand-ins for the job layer (jobs/flash-job.ts, backup-job.ts, leave-job.ts) until it lands:
// the same StartJob shape (jobs/types.ts) over today's engine (runFlashJob, readMainFlash,
// startFirmware), so the TUI already consumes jobs only. When the job modules exist, tui.ts
// points TuiServices.jobs at them and this file goes.
import {mkdirSync, renameSync, existsSync, writeFileSync, unlinkSync} from 'node:fs';
import {createHash} from 'node:crypto';
import {dirname} from 'node:path';
import type {Board, DfuBoard} from '../devices/types.js';
import type {FirmwareImage} from '../firmware/image.js';
import {hints, type HintId} from '../hints.js';
import type {
	BackupReport,
	BackupRequest,
	BoardState,
	FlashReport,
	FlashRequest,
	Job,
	JobError,
	JobEvent,
	JobKind,
	JobListener,
	JobPhase,
	JobResult,
	LeaveReport,
	LeaveRequest,
	Question,
	Reply,
	StartJob,
} from '../jobs/types.js';
import {boardName, boardStateText, errorHint, errorText, imageWarnings} from './screen-text.js';
import {formatBytes, formatDuration, hex32} from '../format.js';

type Ask = Question extends infer Q ? (Q extends {id: number} ? Omit<Q, 'id'> : never) : never;

interface Control {
	signal: AbortSignal;
	emit(e: JobEvent): void;
	ask(q: Ask): Promise<Reply | 'stopped'>;
	readonly hungUp: boolean;
}

class Failure extends Error {
	constructor(
		readonly error: JobError,
		readonly boardState: BoardState,
		readonly cancelled = false,
	) {
		super(error.message);
	}
}

function jobError(error: unknown): JobError {
	const code = (error as {exitCode?: number}).exitCode ?? 1;
	const hintId = errorHint(error) ?? null;
	return {code: code as JobError['code'], message: errorText(error), hint: hintId ? hints[hintId].text : null, hintId};
}

const fail = (code: number, message: string, boardState: BoardState, hintId: HintId | null = null, cancelled = false) =>
	new Failure({code: code as JobError['code'], message, hint: hintId ? hints[hintId].text : null, hintId}, boardState, cancelled);

/** The Job plumbing: start on the next tick, one open question at a time, stop, hangup, done. */
function makeJob<Data extends {boardState: BoardState}>(
	kind: JobKind,
	listener: JobListener,
	run: (ctl: Control) => Promise<{data: Data; summary: string; fields?: Record<string, unknown>}>,
	onHangupResult?: (result: JobResult<Data>) => Promise<void>,
): Job<Data> {
	const abort = new AbortController();
	let hungUp = false;
	let nextId = 1;
	let open: {id: number; resolve: (r: Reply | 'stopped') => void} | undefined;
	const emit = (e: JobEvent) => {
		try {
			listener(e);
		} catch {
			// A front end's bug must not stop the job half-way.
		}
	};
	const ctl: Control = {
		signal: abort.signal,
		emit,
		ask(q) {
			const id = nextId++;
			if (abort.signal.aborted) return Promise.resolve('stopped');
			return new Promise((resolve) => {
				open = {id, resolve};
				emit({type: 'question', question: {...q, id} as Question});
			});
		},
		get hungUp() {
			return hungUp;
		},
	};
	let resolveDone: (r: JobResult<Data>) => void = () => {};
	const done = new Promise<JobResult<Data>>((r) => (resolveDone = r));
	setImmediate(() => {
		run(ctl)
			.then(
				({data, summary, fields}): JobResult<Data> => ({kind, ok: true, exitCode: 0, fields: fields ?? {}, summary, data, cancelled: false}),
				(error: unknown): JobResult<Data> => {
					const f =
						error instanceof Failure
							? error
							: abort.signal.aborted
								? fail(130, errorText(error), 'untouched', 'interrupted', true)
								: new Failure(jobError(error), 'untouched');
					const state = f.boardState;
					return {
						kind,
						ok: false,
						exitCode: f.error.code,
						fields: {},
						summary: `${f.error.message} ${boardStateText[state]}`,
						error: f.error,
						data: {boardState: state} as Data,
						cancelled: f.cancelled,
					};
				},
			)
			.then(async (result) => {
				if (open) emit({type: 'question-closed', id: open.id});
				open = undefined;
				emit({type: 'result', result});
				// The log is written before `done` resolves: after a hang-up the process exits then.
				if (hungUp) await onHangupResult?.(result).catch(() => {});
				resolveDone(result);
			});
	});
	return {
		kind,
		answer(id, reply) {
			if (!open || open.id !== id) return;
			const o = open;
			open = undefined;
			o.resolve(reply);
		},
		stop() {
			abort.abort();
			if (open) {
				const o = open;
				open = undefined;
				emit({type: 'question-closed', id: o.id});
				o.resolve('stopped');
			}
		},
		hangup() {
			hungUp = true;
		},
		done,
	};
}

export interface LegacyDeps {
	/** The board lock (resolves with its release), loaded when a job needs it. */
	lock(board: {id: string; simulated?: boolean}): Promise<() => void>;
	logAfterHangup(line: string): Promise<void>;
}

function phasesFor(board: Board, verify: boolean): JobPhase[] {
	const phases: JobPhase[] = board.kind === 'serial' ? ['reboot', 'wait'] : [];
	phases.push('erase', 'write');
	if (verify) phases.push('verify');
	phases.push('leave');
	return phases;
}

async function eraseText(board: Board, image: FirmwareImage, fullErase: boolean): Promise<string> {
	if (fullErase) {
		const size = board.kind === 'dfu' && board.flashSize ? ` (${formatBytes(board.flashSize)})` : '';
		return `the WHOLE chip${size}: settings are lost`;
	}
	if (board.kind !== 'dfu' || !board.layout) return 'only the sectors the image uses (known once the board is in DFU); settings are kept where the image leaves them out';
	const [{planFlash}, {parseLayout}] = await Promise.all([import('../dfu/plan.js'), import('../dfu/layout.js')]);
	const plan = planFlash(image, parseLayout(board.layout));
	const first = plan.sectors[0]!;
	const last = plan.sectors.at(-1)!;
	return `${plan.sectors.length} sector${plan.sectors.length === 1 ? '' : 's'}, ${formatBytes(plan.eraseBytes)} (${hex32(first.start)}-${hex32(last.start + last.size - 1)}); the rest is kept`;
}

/**
 * Progress with the time spent in the phase, and an event at least every second while the board
 * reports nothing (a mass erase, a long sector erase), so the screen never looks frozen.
 */
function clockTicker(ctl: Control, expected: (phase: JobPhase) => number | undefined) {
	let last: {phase: JobPhase; done: number; total: number; rate: number} | undefined;
	let phaseStart = performance.now();
	let timer: NodeJS.Timeout | undefined;
	let stopped = false;
	const send = () => {
		if (timer) clearTimeout(timer);
		timer = undefined;
		if (!last || stopped) return;
		const elapsed = performance.now() - phaseStart;
		ctl.emit({type: 'progress', ...last, elapsedMs: Math.round(elapsed), expectedMs: expected(last.phase)});
		// The next whole second of the phase: the time shown changes then.
		if (last.done < last.total) timer = setTimeout(send, (Math.floor(elapsed / 1000) + 1) * 1000 - elapsed + 2);
	};
	return {
		progress(p: {phase: JobPhase; done: number; total: number; rate: number}) {
			if (p.phase !== last?.phase) phaseStart = performance.now();
			last = {phase: p.phase, done: p.done, total: p.total, rate: p.rate};
			send();
		},
		stop: () => {
			stopped = true;
			if (timer) clearTimeout(timer);
		},
	};
}

export function legacyFlashJob(deps: LegacyDeps): StartJob<FlashRequest, FlashReport> {
	return (context, request, listener) =>
		makeJob<FlashReport>(
			'flash',
			listener,
			async (ctl) => {
				const board = request.board!;
				const image = request.image!;
				const file = request.file ?? image.file;
				const verify = request.verify !== false;
				const started = performance.now();
				ctl.emit({type: 'phases', phases: phasesFor(board, verify)});
				ctl.emit({type: 'board', board});
				if (board.kind === 'serial' && request.reboot === false) {
					throw fail(3, `${board.port} runs its firmware and "No reboot sequence" is on: put the board in DFU first (hold BOOT while plugging it in), or turn the option off.`, 'untouched', 'boot-button');
				}
				const warnings = imageWarnings(board, image);
				const fit = warnings.find((w) => w.fit);
				if (fit) throw fail(2, `${fit.text} Nothing was erased.`, 'untouched', 'image-fit');
				const {targetMismatch} = await import('../devices/target-match.js');
				const mismatch = targetMismatch(image, board);
				const steps = [`write ${formatBytes(image.bytes)}`, verify ? 'verify' : 'no verify', 'start the firmware'];
				if (board.kind === 'serial') steps.unshift('reboot it into DFU');
				const reply = await ctl.ask({
					kind: 'confirm',
					facts: {board, file, image, erase: await eraseText(board, image, request.fullErase === true), steps, warnings: [], mismatch},
					requires: mismatch ? 'force' : 'yes',
				});
				if (reply === 'stopped') throw fail(130, 'Stopped before anything was written.', 'untouched', null, true);
				if (reply === 'no' || (mismatch && reply !== 'force')) throw fail(5, 'Not confirmed: nothing was written.', 'untouched');
				const [{runFlashJob}, {ReadProtectedError, CancelledError}] = await Promise.all([import('../flash-job.js'), import('../errors.js')]);
				const expectedMs = (phase: JobPhase) => (phase === 'erase' && request.fullErase ? 8000 * Math.max(1, Math.round(((board.kind === 'dfu' ? board.flashSize : 0) ?? 0) / 1048576)) : undefined);
				let reached: JobPhase | undefined;
				let dfu: DfuBoard | undefined = board.kind === 'dfu' ? board : undefined;
				const release = await deps.lock(board);
				const ticker = clockTicker(ctl, expectedMs);
				const attempt = (unprotect: boolean) =>
					runFlashJob(context.source, board, image, {
						fullErase: request.fullErase,
						verify,
						reboot: request.reboot,
						baud: request.baud,
						unprotect,
						signal: ctl.signal,
						onProgress: (p) => {
							reached = p.phase;
							ticker.progress(p);
						},
						onInfo: (text) => ctl.emit({type: 'info', text}),
						confirm: async (f) => {
							dfu = f.board;
							if (f.board !== board) ctl.emit({type: 'board', board: f.board});
							return true;
						},
					});
				const state = (): BoardState =>
					reached === 'erase' || reached === 'write' || reached === 'verify' ? 'partly-written' : reached === 'leave' ? 'written' : dfu && board.kind === 'serial' ? 'in-dfu' : 'untouched';
				try {
					let result;
					try {
						result = await attempt(false);
					} catch (error) {
						if (!(error instanceof ReadProtectedError)) throw error;
						const yes = await ctl.ask({kind: 'unprotect', board: dfu ?? board});
						if (yes !== 'yes' && yes !== 'force') throw fail(1, 'The chip is read-protected and was not unprotected: nothing was written.', board.kind === 'serial' ? 'in-dfu' : 'untouched', 'read-protect', yes === 'stopped');
						result = await attempt(true);
					}
					const data: FlashReport = {
						board,
						dfu: result.board,
						erase: {...result.erase, unchanged: 0, blank: 0},
						written: result.written,
						skipped: result.skipped,
						verified: result.verified,
						left: result.left,
						recoveries: result.recoveries,
						durationMs: Math.round(performance.now() - started),
						warnings: [],
						settings: null,
						firmware: null,
						boardState: result.left ? 'running' : 'written',
					};
					return {data, summary: `Flashed ${file} to ${boardName(board)} in ${formatDuration(data.durationMs)}.`};
				} catch (error) {
					if (error instanceof Failure) throw error;
					const cancelled = error instanceof CancelledError || ctl.signal.aborted;
					const e = jobError(error);
					if (cancelled) throw new Failure({...e, code: 130, hintId: e.hintId ?? 'interrupted', hint: e.hint ?? hints.interrupted.text}, state(), true);
					throw new Failure(e, state());
				} finally {
					ticker.stop();
					release();
				}
			},
			(r) => deps.logAfterHangup(r.ok ? `ok ${request.file ?? request.image?.file} -> ${request.board?.id}` : `failed ${r.error?.message ?? r.summary}`),
		);
}

export function legacyBackupJob(deps: LegacyDeps): StartJob<BackupRequest, BackupReport> {
	return (context, request, listener) =>
		makeJob<BackupReport>('backup', listener, async (ctl) => {
			const board = request.board;
			if (!board || board.kind !== 'dfu') throw fail(2, 'Only a board in DFU can have its flash backed up.', 'untouched');
			const started = performance.now();
			ctl.emit({type: 'phases', phases: ['read']});
			if (existsSync(request.out)) throw fail(2, `${request.out} exists already: choose another file name.`, 'in-dfu');
			const [{readMainFlash}, {openDfuTarget, closeDfuTarget}] = await Promise.all([import('../commands/backup.js'), import('../dfu/target.js')]);
			const release = await deps.lock(board);
			const target = await openDfuTarget(await context.source.openDfu(board));
			try {
				const dump = await readMainFlash(target, {signal: ctl.signal, onProgress: (p) => ctl.emit({type: 'progress', phase: 'read', done: p.done, total: p.total, rate: p.rate})});
				const tmp = `${request.out}.tmp`;
				try {
					mkdirSync(dirname(request.out), {recursive: true});
					writeFileSync(tmp, dump.data);
					renameSync(tmp, request.out);
				} catch (error) {
					try {
						unlinkSync(tmp);
					} catch {
						// Nothing was written.
					}
					throw fail(2, `Cannot write the backup to ${request.out}: ${(error as Error).message}`, 'in-dfu');
				}
				const sha256 = createHash('sha256').update(dump.data).digest('hex');
				const data: BackupReport = {board, file: request.out, address: dump.address, bytes: dump.data.length, sha256, durationMs: Math.round(performance.now() - started), boardState: 'in-dfu'};
				return {data, summary: `Backed up ${formatBytes(dump.data.length)} to ${request.out}.`};
			} catch (error) {
				if (error instanceof Failure) throw error;
				throw new Failure(jobError(error), 'in-dfu', ctl.signal.aborted);
			} finally {
				await closeDfuTarget(target).catch(() => {});
				release();
			}
		});
}

export function legacyLeaveJob(deps: LegacyDeps): StartJob<LeaveRequest, LeaveReport> {
	return (context, request, listener) =>
		makeJob<LeaveReport>('leave', listener, async (ctl) => {
			const board = request.board;
			if (!board) throw fail(2, 'No board was chosen.', 'untouched');
			if (board.kind === 'serial') return {data: {board, alreadyRunning: true, boardState: 'running'}, summary: `${board.port} already runs its firmware.`};
			ctl.emit({type: 'phases', phases: ['leave']});
			const [{openDfuTarget, closeDfuTarget}, {startFirmware}, {readMemory}] = await Promise.all([import('../dfu/target.js'), import('../dfu/flash.js'), import('../dfu/upload.js')]);
			const release = await deps.lock(board);
			const target = await openDfuTarget(await context.source.openDfu(board));
			try {
				const address = Math.min(...target.flash.sectors.map((s) => s.start));
				let vectors: Uint8Array | undefined;
				try {
					await readMemory(target, address, 8, (_at, chunk) => (vectors = chunk), {what: 'Reading the vector table'});
				} catch {
					vectors = undefined;
				}
				if (vectors && vectors.every((b) => b === 0xff)) throw fail(1, `The flash is blank at ${hex32(address)}: there is no firmware to start. Flash one first.`, 'in-dfu', 'boot-button');
				ctl.emit({type: 'progress', phase: 'leave', done: 0, total: 1, rate: 0});
				await startFirmware(target, address);
				ctl.emit({type: 'progress', phase: 'leave', done: 1, total: 1, rate: 0});
				return {data: {board, address, alreadyRunning: false, boardState: 'running'}, summary: `Started the firmware at ${hex32(address)}.`};
			} catch (error) {
				if (error instanceof Failure) throw error;
				throw new Failure(jobError(error), 'in-dfu');
			} finally {
				await closeDfuTarget(target).catch(() => {});
				release();
			}
		});
}
