// The app's one reducer. Every key goes through reduceApp, one at a time, in the order it was
// typed: it is handled by the screen that is current when it is processed, against the state the
// previous key left. While a screen waits for something it asked for (a folder being read, the
// file Enter chose being parsed, the job's first question), keys are queued and replayed once the
// answer is in, so a burst of keys ends where the same keys typed slowly would. State is split by
// screen: each screen's slice and reducer live in its use-<screen>-state.ts; the view says which
// screen is shown and carries what that screen needs.
import type {Board, FlightControllerInfo} from '../devices/types.js';
import type {FirmwareImage} from '../firmware/image.js';
import type {HintId} from '../hints.js';
import type {FlashReport, JobEvent, Reply} from '../jobs/types.js';
import type {Command, FileRef, Step} from './commands.js';
import {isChar, isCtrlC, type KeyPress} from './keys.js';
import {boardTarget, imageWarnings} from './screen-text.js';
import {
	deviceListBoards,
	deviceListHint,
	deviceListIdentified,
	deviceListKey,
	initialDeviceList,
	knownBoard,
	type DeviceListIntent,
	type DeviceListState,
} from './use-device-list-state.js';
import {
	currentEntry,
	factsOf,
	initialPicker,
	pickerBusy,
	pickerFacts,
	pickerFolder,
	pickerHint,
	pickerIdent,
	pickerKey,
	refreshPicker,
	type Entry,
	type Facts,
	type IdentInfo,
	type PickerContext,
	type PickerIntent,
	type PickerState,
} from './use-firmware-picker-state.js';
import {addressChoice, initialOptions, optionsKey, type OptionsIntent, type OptionsState} from './use-options-state.js';
import {initialQuestion, needsForce, questionKey, type QuestionIntent, type QuestionState} from './use-confirm-state.js';
import {hintsKey, type HintsState} from './use-hints-state.js';
import {saveAsKey, type SaveAsState} from './use-save-as-state.js';
import {settingsLines, settingsLinesKey, type SettingsLinesState} from './use-settings-lines-state.js';
import {fleetCounts, fleetKey, fleetPageRows, fleetSelectedIndex, initialFleetView, type FleetViewState} from './use-fleet-state.js';
import {jobEvent, jobRunning, newJob, type JobView} from './use-job-state.js';
import type {TerminalSize, TuiJobKind, TuiSettings} from './types.js';

export type View =
	| {screen: 'devices'}
	| {screen: 'firmware'; board: Board}
	| {screen: 'options'; board: Board; file: string; image: FirmwareImage}
	/** The job's open question (confirm, unprotect, settings); the question itself is job.question. */
	| {screen: 'question'; q: QuestionState}
	| {screen: 'progress'}
	/** Flash on connect: a row per board while the job runs, and its summary at the end. */
	| {screen: 'fleet'; s: FleetViewState}
	| {screen: 'result'}
	/** The settings lines a restore did not bring back (r on the result). */
	| {screen: 'settings-lines'; s: SettingsLinesState}
	| {screen: 'save-as'; board: Board; s: SaveAsState}
	| {screen: 'hints'; from: View; s: HintsState};

export type ScreenId = View['screen'];

export interface AppState {
	size: TerminalSize;
	settings: TuiSettings;
	/** Job kinds that exist in this build. */
	available: Record<TuiJobKind, boolean>;
	view: View;
	devices: DeviceListState;
	/** Created when the first board is chosen; kept (folder, cursor, filter) from then on. */
	picker?: PickerState;
	options: OptionsState;
	job?: JobView;
	/** Counter for jobs and reloads: answers for an older one are dropped. */
	seq: number;
	/** The .bin reload the options screen waits for, and what starts once the image is in. */
	reload?: {seq: number; then: 'flash' | 'fleet'};
	/** A stop question is open: "Stop it and quit?" (quit), or "Stop it?" and stay (stop). */
	ask?: 'quit' | 'stop';
	/** The user stopped the job to quit: quit with 130 once it has ended. */
	quitting: boolean;
	/** Keys typed while the current screen waits for an answer. */
	queue: KeyPress[];
	/** Set once the app quits: no key is handled after it. */
	exitCode?: number;
}

export type AppAction =
	| {type: 'key'; key: KeyPress}
	| {type: 'resize'; size: TerminalSize}
	| {type: 'source-error'; message: string; hint?: HintId}
	| {type: 'boards'; boards: Board[]}
	| {type: 'identified'; id: string; fc: FlightControllerInfo}
	| {type: 'folder'; seq: number; dir: string; entries: Entry[]; error?: string; idents?: PickerState['idents']}
	| {type: 'facts'; file: FileRef; facts: Facts}
	| {type: 'ident'; path: string; key: string; ident: IdentInfo | null}
	| {type: 'image'; seq: number; image?: FirmwareImage; error?: {message: string; hint?: HintId}}
	| {type: 'job'; seq: number; event: JobEvent}
	/** SIGTERM / SIGINT: stop a running job at a block boundary and quit, or quit now. */
	| {type: 'signal'};

export interface AppEnv {
	/** The default file of a flash backup of this board. */
	backupPath(board: Board): string;
}

const queueLimit = 200;
/** How long a stopped job's result stays on screen before the app quits. */
export const resultHoldMs = 1500;

export function initialApp(settings: TuiSettings, size: TerminalSize, available: Record<TuiJobKind, boolean>): AppState {
	return {
		size,
		settings,
		available,
		view: {screen: 'devices'},
		devices: initialDeviceList(),
		options: initialOptions(settings),
		seq: 0,
		quitting: false,
		queue: [],
	};
}

/** Rows of the picker's file list at this terminal size (the rest of the screen is fixed). */
export const pickerPageRows = (size: TerminalSize) => Math.max(3, size.rows - 13);

/** The screen that is current under the hints and the stop question. */
export const baseView = (v: View): View => (v.screen === 'hints' ? baseView(v.from) : v);

/** Show `view`; with the hints open, it is where Esc from the hints returns to. */
function show(s: AppState, view: View): AppState {
	return s.view.screen === 'hints' ? {...s, view: {...s.view, from: view}} : {...s, view};
}

function addressOf(text: string): number | undefined {
	const choice = addressChoice(text);
	return 'address' in choice ? choice.address : undefined;
}

export function pickerContext(s: AppState): PickerContext {
	const v = baseView(s.view);
	const board = v.screen === 'firmware' || v.screen === 'options' ? v.board : undefined;
	return {
		board,
		target: board ? boardTarget(board, knownBoard(s.devices, board)) : undefined,
		address: addressOf(s.options.choices.address),
		pageRows: pickerPageRows(s.size),
	};
}

/** True while a key cannot be handled yet by the current screen (it is queued). */
export function isBusy(s: AppState): boolean {
	const v = s.view;
	if (v.screen === 'firmware') return s.picker ? pickerBusy(s.picker) : false;
	if (v.screen === 'options') return s.options.busy !== undefined;
	return false;
}

/** The current screen takes typed text: q and ? are characters there. */
function takesText(s: AppState): boolean {
	const v = s.view;
	if (v.screen === 'firmware') return s.picker?.filtering === true;
	if (v.screen === 'question') return s.job?.question !== undefined && needsForce(s.job.question);
	return v.screen === 'save-as';
}

/** The hints that fit what the current screen shows, most specific first. */
export function screenHints(s: AppState): HintId[] {
	const v = baseView(s.view);
	const out: (HintId | undefined)[] = [s.job?.result?.error?.hintId ?? undefined];
	if (v.screen === 'devices') out.push(deviceListHint(s.devices));
	if (v.screen === 'firmware' && s.picker) {
		const ctx = pickerContext(s);
		out.push(pickerHint(s.picker, ctx));
		const facts = factsOf(s.picker, currentEntry(s.picker), ctx.address);
		if (facts?.state === 'ok') out.push(imageWarnings(v.board, facts.image)[0]?.hint);
	}
	if (v.screen === 'options') out.push(s.options.error?.hint);
	if (v.screen === 'fleet' && s.job) out.push(s.job.fleet[fleetSelectedIndex(v.s, s.job.fleet)]?.result?.error?.hintId ?? undefined);
	if (v.screen === 'question') {
		const q = s.job?.question;
		if (q?.kind === 'unprotect') out.push('read-protect');
		if (q?.kind === 'confirm' && q.requires === 'force') out.push('target-mismatch');
		if (q?.kind === 'restore-other-board') out.push('restore-other-board');
		if (q?.kind === 'continue-without-backup') out.push('cli-no-prompt');
		for (const w of q?.kind === 'confirm' ? q.facts.warnings : []) out.push(w.hint);
	}
	return out.filter((h, i, all): h is HintId => h !== undefined && all.indexOf(h) === i);
}

export function reduceApp(s: AppState, a: AppAction, env: AppEnv): Step<AppState> {
	if (a.type === 'key') return onKey(s, a.key, env);
	return drain(onEvent(s, a), env);
}

/** Replay queued keys once the screen no longer waits. */
function drain(step: Step<AppState>, env: AppEnv): Step<AppState> {
	let state = step.state;
	const commands = [...(step.commands ?? [])];
	while (state.queue.length > 0 && !isBusy(state) && state.exitCode === undefined) {
		const [next, ...rest] = state.queue;
		const r = handleKey({...state, queue: rest}, next!, env);
		state = r.state;
		commands.push(...(r.commands ?? []));
	}
	return {state, commands};
}

function onKey(s: AppState, k: KeyPress, env: AppEnv): Step<AppState> {
	if (s.exitCode !== undefined) return {state: s};
	// Ctrl-C is never queued: a screen stuck waiting must still let the user out.
	if (isBusy(s) && !isCtrlC(k)) return {state: s.queue.length < queueLimit ? {...s, queue: [...s.queue, k]} : s};
	return handleKey(s, k, env);
}

function exit(s: AppState, code: number): Step<AppState> {
	return {state: {...s, exitCode: code, ask: undefined, queue: []}, commands: [{type: 'exit', code}]};
}

function handleKey(s: AppState, k: KeyPress, env: AppEnv): Step<AppState> {
	const running = jobRunning(s.job) ? s.job : undefined;
	// Stop the job (at a block boundary); `quit`: then quit, once its result has been shown.
	const stop = (job: JobView, quit: boolean): Step<AppState> => ({
		state: {...s, ask: undefined, quitting: s.quitting || quit, job: stopped(job)},
		commands: [{type: 'stop-job', seq: job.seq}],
	});
	if (s.ask) {
		if (isCtrlC(k)) return running ? stop(running, true) : exit(s, 0);
		if (isChar(k, 'y', 'Y')) return running ? stop(running, s.ask === 'quit') : s.ask === 'quit' ? exit(s, 0) : {state: {...s, ask: undefined}};
		if (isChar(k, 'n', 'N') || k.name === 'escape' || k.name === 'return') return {state: {...s, ask: undefined}};
		return {state: s};
	}
	if (isCtrlC(k) || (isChar(k, 'q') && !takesText(s))) {
		if (running?.confirmed) return {state: {...s, ask: s.quitting && !canStopAgain(running) ? undefined : 'quit'}};
		return running ? stop(running, true) : exit(s, 0);
	}
	if (isChar(k, '?') && !takesText(s) && s.view.screen !== 'hints') {
		return {state: {...s, view: {screen: 'hints', from: s.view, s: {context: screenHints(s), offset: 0}}}};
	}
	const v = s.view;
	switch (v.screen) {
		case 'devices': {
			const r = deviceListKey(s.devices, k, {settingsBackup: s.available['settings-backup']});
			return withCommands(onDevicesIntent({...s, devices: r.state}, r.intent, env), r.commands);
		}
		case 'firmware': {
			if (!s.picker) return {state: s};
			const r = pickerKey(s.picker, k, pickerContext(s));
			return withCommands(onPickerIntent({...s, picker: r.state}, v.board, r.intent), r.commands);
		}
		case 'options': {
			const r = optionsKey(s.options, k, {board: v.board, image: v.image, onConnect: s.available['on-connect']});
			return onOptionsIntent({...s, options: r.state}, v, r.intent);
		}
		case 'question': {
			const q = s.job?.question;
			if (!q || !s.job) return {state: s};
			const r = questionKey(v.q, q, k);
			const next = {...s, view: {...v, q: r.state}};
			return r.intent ? onReply(next, r.intent) : {state: next};
		}
		case 'progress':
			// Esc stops the job (asks first) and stays in the app: its result says what the board holds.
			if (k.name === 'escape' && running?.confirmed && !running.stopping) return {state: {...s, ask: 'stop'}};
			return {state: s};
		case 'fleet': {
			const job = s.job;
			if (!job) return {state: s};
			if (job.result) {
				if (k.name === 'return' || k.name === 'escape') return {state: {...s, view: {screen: 'devices'}}};
			} else if (k.name === 'escape' || isChar(k, 's')) {
				// First: take no new boards (the flashes under way finish); then: stop those too. Each asks.
				if (!job.stopping || canStopAgain(job)) return {state: {...s, ask: 'stop'}};
				return {state: s};
			}
			const r = fleetKey(v.s, k, job.fleet, fleetPageRows(s.size));
			return {state: {...s, view: {...v, s: r.state}}};
		}
		case 'result':
			if (k.name === 'return' || k.name === 'escape') return {state: {...s, view: {screen: 'devices'}}};
			if (isChar(k, 'r') && resultLines(s).length > 0) return {state: {...s, view: {screen: 'settings-lines', s: {offset: 0}}}};
			return {state: s};
		case 'settings-lines': {
			const r = settingsLinesKey(v.s, k, resultLines(s).length);
			if (r.intent) return {state: {...s, view: {screen: 'result'}}};
			return {state: {...s, view: {...v, s: r.state}}};
		}
		case 'save-as': {
			const r = saveAsKey(v.s, k);
			if (r.intent?.type === 'back') return {state: {...s, view: {screen: 'devices'}}};
			if (r.intent?.type === 'save') return startJob(s, 'backup', v.board, {board: v.board, out: r.intent.path}, r.intent.path);
			return {state: {...s, view: {...v, s: r.state}}};
		}
		case 'hints': {
			const r = hintsKey(v.s, k);
			if (r.intent) return {state: {...s, view: v.from}};
			return {state: {...s, view: {...v, s: r.state}}};
		}
	}
}

/** A stop sent to the job; flash on connect's second one stops the flashes under way too. */
function stopped(job: JobView): JobView {
	return {...job, stopping: true, stoppingAll: job.stoppingAll || (job.stopping && job.kind === 'on-connect')};
}

/** Flash on connect takes no new boards; a second stop would stop the flashes under way. */
export function canStopAgain(job: JobView): boolean {
	return job.kind === 'on-connect' && job.stopping && !job.stoppingAll && !job.result && fleetCounts(job.fleet).running > 0;
}

/** The settings lines the finished flash did not restore (refused, still different). */
function resultLines(s: AppState) {
	const r = s.job?.result;
	return r && s.job?.kind === 'flash' ? settingsLines((r.data as FlashReport | undefined)?.settings) : [];
}

function withCommands(step: Step<AppState>, commands: Command[] | undefined): Step<AppState> {
	return commands?.length ? {state: step.state, commands: [...commands, ...(step.commands ?? [])]} : step;
}

function onDevicesIntent(s: AppState, intent: DeviceListIntent | undefined, env: AppEnv): Step<AppState> {
	if (!intent) return {state: s};
	if (intent.type === 'choose') {
		const r = s.picker ? refreshPicker(s.picker) : initialPicker(s.settings.startDir, s.settings.preselect, s.settings.firmwareNote);
		return {state: {...s, picker: r.state, view: {screen: 'firmware', board: intent.board}}, commands: r.commands};
	}
	if (intent.type === 'leave') return startJob(s, 'leave', intent.board, {board: intent.board});
	if (intent.board.kind === 'serial') return startJob(s, 'settings-backup', intent.board, {board: intent.board});
	return {state: {...s, view: {screen: 'save-as', board: intent.board, s: {text: env.backupPath(intent.board)}}}};
}

function onPickerIntent(s: AppState, board: Board, intent: PickerIntent | undefined): Step<AppState> {
	if (!intent) return {state: s};
	if (intent.type === 'back') return {state: {...s, view: {screen: 'devices'}}};
	return {state: {...s, options: {...s.options, error: undefined}, view: {screen: 'options', board, file: intent.path, image: intent.image}}};
}

function onOptionsIntent(s: AppState, v: Extract<View, {screen: 'options'}>, intent: OptionsIntent | undefined): Step<AppState> {
	if (!intent) return {state: s};
	if (intent.type === 'back') return {state: {...s, options: {...s.options, error: undefined}, view: {screen: 'firmware', board: v.board}}};
	if (v.image.format === 'bin') {
		const choice = addressChoice(s.options.choices.address);
		if ('error' in choice) return {state: {...s, options: {...s.options, error: {message: choice.error}}}};
		const {address} = choice;
		if (address !== v.image.low) {
			const seq = s.seq + 1;
			const then = intent.type === 'fleet' ? 'fleet' : 'flash';
			return {state: {...s, seq, reload: {seq, then}, options: {...s.options, busy: 'reloading'}}, commands: [{type: 'load-image', path: v.file, address, seq}]};
		}
	}
	return intent.type === 'fleet' ? startFleet(s, v) : startFlash(s, v);
}

/**
 * Flash on connect with the image and the options chosen: no board (every board that fits), never
 * forced. The job asks first; the options wait for the question.
 */
function startFleet(s: AppState, v: Extract<View, {screen: 'options'}>): Step<AppState> {
	const c = s.options.choices;
	const request = {file: v.file, image: v.image, fullErase: c.fullErase, verify: c.verify, reboot: c.reboot, baud: c.baud, keepSettings: c.keepSettings};
	const r = startJob(s, 'on-connect', v.board, request, v.file, v.image);
	return {state: {...r.state, view: v, options: {...s.options, busy: 'starting', error: undefined}}, commands: r.commands};
}

function startFlash(s: AppState, v: Extract<View, {screen: 'options'}>): Step<AppState> {
	const c = s.options.choices;
	const request = {board: v.board, file: v.file, image: v.image, fullErase: c.fullErase, verify: c.verify, reboot: c.reboot, baud: c.baud, keepSettings: c.keepSettings};
	const r = startJob(s, 'flash', v.board, request, v.file, v.image);
	// The flash waits on the options screen for the job's confirmation question.
	return {state: {...r.state, view: v, options: {...s.options, busy: 'starting', error: undefined}}, commands: r.commands};
}

function startJob(s: AppState, kind: TuiJobKind, board: Board, request: Record<string, unknown>, file?: string, image?: FirmwareImage): Step<AppState> {
	const seq = s.seq + 1;
	return {
		state: {...s, seq, job: newJob(seq, kind, board, file, image), quitting: false, view: {screen: 'progress'}},
		commands: [{type: 'start-job', seq, kind, board, request}],
	};
}

function onReply(s: AppState, intent: QuestionIntent): Step<AppState> {
	const job = s.job!;
	const q = job.question!;
	const commands: Command[] = [{type: 'answer', seq: job.seq, id: q.id, reply: intent.reply}];
	const yes = (r: Reply) => r === 'yes' || r === 'force' || r === 'serial';
	if (q.kind === 'confirm' || q.kind === 'confirm-fleet') {
		const view: View = q.kind === 'confirm' ? {screen: 'progress'} : {screen: 'fleet', s: initialFleetView()};
		if (yes(intent.reply)) return {state: {...s, job: {...job, question: undefined, confirmed: true}, view}, commands};
		// Declined: back on the options, which wait for the job to end.
		const back = optionsView(s);
		return {state: {...s, job: {...job, question: undefined}, view: back ?? {screen: 'devices'}, options: {...s.options, busy: back ? 'starting' : undefined}}, commands};
	}
	return {state: {...s, job: {...job, question: undefined}, view: {screen: 'progress'}}, commands};
}

/** The options screen the running flash (or flash on connect) was started from. */
function optionsView(s: AppState): Extract<View, {screen: 'options'}> | undefined {
	const j = s.job;
	if (!j || (j.kind !== 'flash' && j.kind !== 'on-connect') || !j.file || !j.image) return undefined;
	return {screen: 'options', board: j.board, file: j.file, image: j.image};
}

function onEvent(s: AppState, a: Exclude<AppAction, {type: 'key'}>): Step<AppState> {
	switch (a.type) {
		case 'resize':
			return {state: {...s, size: a.size}};
		case 'source-error':
			return {state: {...s, devices: {...s.devices, sourceError: {message: a.message, hint: a.hint}}}};
		case 'boards': {
			const r = deviceListBoards(s.devices, a.boards);
			return {state: {...s, devices: r.state}, commands: r.commands};
		}
		case 'identified':
			return {state: {...s, devices: deviceListIdentified(s.devices, a.id, a.fc)}};
		case 'folder': {
			if (!s.picker) return {state: s};
			const r = pickerFolder(s.picker, a, pickerContext(s));
			return {state: {...s, picker: r.state}, commands: r.commands};
		}
		case 'ident':
			return s.picker ? {state: {...s, picker: pickerIdent(s.picker, a.path, a.key, a.ident)}} : {state: s};
		case 'facts': {
			if (!s.picker) return {state: s};
			const r = pickerFacts(s.picker, a.file, a.facts, pickerContext(s));
			const next = {...s, picker: r.state};
			const v = next.view;
			if (r.intent && v.screen === 'firmware') return withCommands(onPickerIntent(next, v.board, r.intent), r.commands);
			return {state: next, commands: r.commands};
		}
		case 'image': {
			if (a.seq !== s.reload?.seq) return {state: s};
			const then = s.reload.then;
			const v = s.view;
			const options: OptionsState = {...s.options, busy: undefined};
			if (v.screen !== 'options') return {state: {...s, options, reload: undefined}};
			if (!a.image) return {state: {...s, options: {...options, error: a.error}, reload: undefined}};
			const view = {...v, image: a.image};
			const next = {...s, options, reload: undefined, view};
			return then === 'fleet' ? startFleet(next, view) : startFlash(next, view);
		}
		case 'job':
			return onJobEvent(s, a.seq, a.event);
		case 'signal': {
			// Like Ctrl-C on the CLI: flash on connect's second one stops the flashes under way too.
			if (jobRunning(s.job)) return {state: {...s, ask: undefined, quitting: true, job: stopped(s.job)}, commands: [{type: 'stop-job', seq: s.job.seq}]};
			return exit(s, 130);
		}
	}
}

function onJobEvent(s: AppState, seq: number, e: JobEvent): Step<AppState> {
	if (!s.job || s.job.seq !== seq) return {state: s};
	const job = jobEvent(s.job, e);
	let next: AppState = {...s, job};
	const base = baseView(s.view);
	if (e.type === 'question') {
		next = show({...next, options: {...next.options, busy: undefined}}, {screen: 'question', q: initialQuestion()});
		return {state: next};
	}
	if (e.type === 'question-closed' && base.screen === 'question' && !job.question) {
		return {state: show(next, job.confirmed ? {screen: 'progress'} : (optionsView(next) ?? {screen: 'devices'}))};
	}
	if (e.type === 'result') {
		next = {...next, ask: undefined, options: {...next.options, busy: undefined}};
		if (s.quitting) {
			// Quit on the result screen: 130 when a flash (or another job) was stopped once under way.
			const code = s.job.confirmed ? 130 : 0;
			next = show(next, job.kind === 'on-connect' ? (base.screen === 'fleet' ? base : {screen: 'fleet', s: initialFleetView()}) : {screen: 'result'});
			return {state: {...next, exitCode: code, queue: []}, commands: [{type: 'exit', code, holdMs: resultHoldMs}]};
		}
		if (!s.job.confirmed && (job.kind === 'flash' || job.kind === 'on-connect')) {
			// Ended before the board was touched: declined (nothing to say) or refused (say why).
			const error = e.result.exitCode === 5 || !e.result.error ? undefined : {message: e.result.error.message, hint: e.result.error.hintId ?? undefined};
			const back = optionsView(next);
			return {state: show({...next, options: {...next.options, error}}, back ?? {screen: 'result'})};
		}
		// Flash on connect ends on its own screen: the rows stay, with the summary.
		if (job.kind === 'on-connect') return {state: base.screen === 'fleet' ? next : show(next, {screen: 'fleet', s: initialFleetView()})};
		return {state: show(next, {screen: 'result'})};
	}
	if (job.confirmed && base.screen === 'options' && s.options.busy === 'starting') {
		next = show({...next, options: {...next.options, busy: undefined}}, {screen: 'progress'});
	}
	return {state: next};
}
