// Everything the reducers ask for that touches the outside world: the board source, folders,
// firmware files, and the job layer. Answers come back as actions through `dispatch`. Job progress
// is passed on at most 10 times a second (the latest wins; other events go at once, in order).
import {readdir, stat} from 'node:fs/promises';
import {dirname, extname, join} from 'node:path';
import type {BoardSource, SerialBoard} from '../devices/types.js';
import type {Job, JobEvent, JobResult} from '../jobs/types.js';
import type {AppAction} from './app-state.js';
import type {Command, FileRef} from './commands.js';
import {errorHint, errorText} from './screen-text.js';
import type {Entry, Facts, IdentInfo, PickerState} from './use-firmware-picker-state.js';
import {firmwareExtensions} from './use-firmware-picker-state.js';
import type {TuiJobKind, TuiServices} from './types.js';

export const progressIntervalMs = 100;
const factsCacheSize = 12;
/** Files identified before a folder is shown (the newest); the others when they scroll into view. */
export const identsWithFolder = 16;

export async function readFolder(dir: string): Promise<{entries: Entry[]; error?: string}> {
	const entries: Entry[] = [];
	const parent = dirname(dir);
	if (parent !== dir) entries.push({name: '..', path: parent, kind: 'up'});
	let names: string[];
	try {
		names = await readdir(dir);
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		return {entries, error: code === 'EACCES' || code === 'EPERM' ? `${dir}: permission denied` : `${dir}: cannot read (${code ?? String(error)})`};
	}
	const found = await Promise.all(
		names
			.filter((name) => !name.startsWith('.'))
			.map(async (name): Promise<Entry | undefined> => {
				const path = join(dir, name);
				try {
					const st = await stat(path);
					if (st.isDirectory()) return {name, path, kind: 'dir'};
					if (st.isFile() && firmwareExtensions.has(extname(name).toLowerCase())) return {name, path, kind: 'file', size: st.size, mtimeMs: st.mtimeMs};
				} catch {
					// A dangling link or a file that vanished: leave it out.
				}
				return undefined;
			}),
	);
	return {entries: [...entries, ...found.filter((e): e is Entry => e !== undefined)]};
}

/**
 * One running job: its events go to the app, progress at most every `progressIntervalMs` (the
 * latest wins; other events go at once, in order). While a phase is under way and the job says
 * nothing, its last progress is passed on again at each whole second of the phase with the time
 * spent, so the screen shows the job is alive (a 128 KiB sector erase takes over a second).
 */
export class JobBinding {
	private pending: JobEvent | undefined;
	private timer: NodeJS.Timeout | undefined;
	private last = Number.NEGATIVE_INFINITY;
	private progress: Extract<JobEvent, {type: 'progress'}> | undefined;
	private progressAt = 0;
	private phaseStart = 0;
	private clock: NodeJS.Timeout | undefined;
	result: JobResult | undefined;
	job: Job | undefined;

	constructor(
		readonly seq: number,
		private readonly send: (e: JobEvent) => void,
	) {}

	/** Flash on connect: each board's latest progress not passed on yet, and when its last went. */
	private boards = new Map<string, {pending?: JobEvent; last: number; timer?: NodeJS.Timeout}>();

	listener = (e: JobEvent) => {
		if (this.result) return;
		if (e.type === 'fleet') return this.fleet(e);
		if (e.type === 'progress') {
			const now = performance.now();
			if (e.phase !== this.progress?.phase) this.phaseStart = now;
			// Every progress shows the time spent in the phase (the job's own clock when it has one).
			if (e.elapsedMs === undefined) e = {...e, elapsedMs: Math.round(now - this.phaseStart)};
			this.progress = e;
			this.progressAt = now;
			this.tickLater();
			this.pending = e;
			if (this.timer) return;
			const wait = this.last + progressIntervalMs - now;
			if (wait <= 0) this.flush();
			else this.timer = setTimeout(() => this.flush(), wait);
			return;
		}
		this.flush();
		if (e.type === 'result') {
			for (const id of this.boards.keys()) this.flushBoard(id);
			this.result = e.result;
			if (this.clock) clearTimeout(this.clock);
		}
		this.send(e);
	};

	/** One board's event in flash on connect: its progress at most every `progressIntervalMs`, the rest at once, in order. */
	private fleet(e: Extract<JobEvent, {type: 'fleet'}>) {
		const b = this.boards.get(e.boardId) ?? {last: Number.NEGATIVE_INFINITY};
		this.boards.set(e.boardId, b);
		if (e.event.type !== 'progress') {
			this.flushBoard(e.boardId);
			this.send(e);
			return;
		}
		b.pending = e;
		if (b.timer) return;
		const wait = b.last + progressIntervalMs - performance.now();
		if (wait <= 0) this.flushBoard(e.boardId);
		else b.timer = setTimeout(() => this.flushBoard(e.boardId), wait);
	}

	private flushBoard(id: string) {
		const b = this.boards.get(id);
		if (!b) return;
		if (b.timer) clearTimeout(b.timer);
		b.timer = undefined;
		const e = b.pending;
		b.pending = undefined;
		if (!e || this.result) return;
		b.last = performance.now();
		this.send(e);
	}

	/** At the next whole second of the phase, unless the job speaks first. */
	private tickLater() {
		if (this.clock) clearTimeout(this.clock);
		const p = this.progress;
		if (!p || (p.total > 0 && p.done >= p.total)) return;
		const elapsed = performance.now() - this.phaseStart;
		this.clock = setTimeout(() => this.tick(), (Math.floor(elapsed / 1000) + 1) * 1000 - elapsed + 2);
	}

	private tick() {
		const p = this.progress;
		if (!p || this.result) return;
		const now = performance.now();
		// The job's own clock when it sends one (a mass erase), else ours.
		const elapsedMs = (p.elapsedMs ?? 0) + (now - this.progressAt);
		this.pending = {...p, elapsedMs: Math.round(elapsedMs)};
		this.flush();
		this.tickLater();
	}

	private flush() {
		if (this.timer) clearTimeout(this.timer);
		this.timer = undefined;
		const e = this.pending;
		this.pending = undefined;
		if (!e) return;
		this.last = performance.now();
		this.send(e);
	}
}

export class AppEffects {
	private source: BoardSource | undefined;
	private unwatch: (() => void) | undefined;
	private binding: JobBinding | undefined;
	/** A job ran: the simulated boards' state is saved on exit (--simulate-state). */
	private touched = false;
	private identCache = new Map<string, {key: string; ident: IdentInfo | null}>();
	private identQueue: FileRef[] = [];
	/** The file whose ident is being read (path and key). */
	private identReading: FileRef | undefined;
	private factsCache = new Map<string, {key: string; facts: Facts}>();
	private factsLoading = new Set<string>();
	private factsTimer: NodeJS.Timeout | undefined;
	private closed = false;

	constructor(
		private readonly services: TuiServices,
		private readonly dispatch: (a: AppAction) => void,
		private readonly onExit: (code: number) => void,
	) {}

	/** Open the board source (after the first frame: the native USB and serial modules load here). */
	start(): void {
		setTimeout(() => {
			this.services.openSource().then(
				(source) => {
					if (this.closed) return void source.close?.();
					this.source = source;
					this.watch(source);
				},
				(error: unknown) => this.dispatch({type: 'source-error', message: errorText(error), hint: errorHint(error)}),
			);
		}, 0);
	}

	private watch(source: BoardSource) {
		const apply = (boards: Awaited<ReturnType<BoardSource['list']>>) => {
			if (!this.closed) this.dispatch({type: 'boards', boards});
		};
		if (source.watch) {
			this.unwatch = source.watch(apply);
			return;
		}
		// A source without watch: poll quietly once a second.
		const poll = () => source.list().then(apply, () => {});
		void poll();
		const timer = setInterval(poll, 1000);
		this.unwatch = () => clearInterval(timer);
	}

	run(c: Command): void {
		switch (c.type) {
			case 'identify':
				return this.identify(c.board);
			case 'read-folder':
				void readFolder(c.dir).then(async ({entries, error}) => {
					// The newest files are identified with the folder, so the one built for the board
					// can be preselected before any key is handled; the rest as they scroll into view.
					const files = entries.filter((e) => e.kind === 'file').sort((a, b) => (b.mtimeMs ?? 0) - (a.mtimeMs ?? 0));
					const idents: PickerState['idents'] = {};
					for (const e of files.slice(0, identsWithFolder)) idents[e.path] = await this.ident({path: e.path, key: `${e.size}:${e.mtimeMs}`});
					for (const e of files.slice(identsWithFolder)) {
						const hit = this.identCache.get(e.path);
						if (hit?.key === `${e.size}:${e.mtimeMs}`) idents[e.path] = hit;
					}
					if (!this.closed) this.dispatch({type: 'folder', seq: c.seq, dir: c.dir, entries, error, idents});
				});
				return;
			case 'read-idents':
				for (const f of c.files) {
					const hit = this.identCache.get(f.path);
					if (hit?.key === f.key) this.dispatch({type: 'ident', path: f.path, key: f.key, ident: hit.ident});
					else if (![...this.identQueue, this.identReading].some((q) => q?.path === f.path && q.key === f.key)) this.identQueue.push(f);
				}
				return this.nextIdent();
			case 'load-facts':
				return this.loadFacts(c.file, c.delayMs);
			case 'load-image':
				this.services.loadImage(c.path, {address: c.address}).then(
					(image) => this.dispatch({type: 'image', seq: c.seq, image}),
					(error: unknown) => this.dispatch({type: 'image', seq: c.seq, error: {message: errorText(error), hint: errorHint(error)}}),
				);
				return;
			case 'start-job':
				return this.startJob(c.seq, c.kind, c.request);
			case 'answer':
				if (this.binding?.seq === c.seq) this.binding.job?.answer(c.id, c.reply);
				return;
			case 'stop-job':
				if (this.binding?.seq === c.seq) this.binding.job?.stop();
				return;
			case 'exit':
				void Promise.all([this.close(), new Promise((r) => setTimeout(r, c.holdMs ?? 0))]).then(() => this.onExit(c.code));
				return;
		}
	}

	private identify(board: SerialBoard) {
		this.source?.identify?.(board).then(
			(fc) => {
				if (fc && !this.closed) this.dispatch({type: 'identified', id: board.id, fc});
			},
			() => {},
		);
	}

	/** Idents one file at a time, yielding between files so keys and frames go first. */
	private nextIdent() {
		if (this.identReading || this.closed) return;
		const f = this.identQueue.shift();
		if (!f) return;
		this.identReading = f;
		setImmediate(() => {
			this.services.loadImage(f.path, {}).then(
				(image) => this.identDone(f, image.ident ? {flavour: image.ident.flavour, target: image.ident.target, version: image.ident.version} : null),
				() => this.identDone(f, null),
			);
		});
	}

	/** One file's ident, from the cache or read now (yielding first, so a frame or key can go). */
	private async ident(f: FileRef): Promise<{key: string; ident: IdentInfo | null}> {
		const hit = this.identCache.get(f.path);
		if (hit?.key === f.key) return hit;
		await new Promise((r) => setImmediate(r));
		let ident: IdentInfo | null = null;
		try {
			const id = (await this.services.loadImage(f.path, {})).ident;
			ident = id ? {flavour: id.flavour, target: id.target, version: id.version} : null;
		} catch {
			ident = null;
		}
		const entry = {key: f.key, ident};
		this.identCache.set(f.path, entry);
		return entry;
	}

	private identDone(f: FileRef, ident: IdentInfo | null) {
		this.identCache.set(f.path, {key: f.key, ident});
		this.identReading = undefined;
		if (!this.closed) this.dispatch({type: 'ident', path: f.path, key: f.key, ident});
		this.nextIdent();
	}

	private loadFacts(f: FileRef, delayMs: number) {
		if (this.factsTimer) clearTimeout(this.factsTimer);
		this.factsTimer = undefined;
		const hit = this.factsCache.get(f.path);
		if (hit?.key === f.key) {
			// Already parsed: answer on the next tick (never inside the reducer's dispatch).
			setImmediate(() => this.dispatch({type: 'facts', file: f, facts: hit.facts}));
			return;
		}
		const go = () => {
			const id = `${f.path}\n${f.key}`;
			if (this.factsLoading.has(id)) return;
			this.factsLoading.add(id);
			const size = Number(f.key.split(':')[0]);
			this.services.loadImage(f.path, f.address !== undefined ? {address: f.address} : {}).then(
				(image) => this.factsDone(f, id, {state: 'ok', image, size: Number.isFinite(size) ? size : image.bytes}),
				(error: unknown) => this.factsDone(f, id, {state: 'error', message: errorText(error), hint: errorHint(error) ?? 'bad-file'}),
			);
		};
		if (delayMs <= 0) go();
		else this.factsTimer = setTimeout(go, delayMs);
	}

	private factsDone(f: FileRef, id: string, facts: Facts) {
		this.factsLoading.delete(id);
		this.factsCache.delete(f.path);
		this.factsCache.set(f.path, {key: f.key, facts});
		while (this.factsCache.size > factsCacheSize) this.factsCache.delete(this.factsCache.keys().next().value!);
		if (!this.closed) this.dispatch({type: 'facts', file: f, facts});
	}

	private startJob(seq: number, kind: TuiJobKind, request: Record<string, unknown>) {
		const binding = new JobBinding(seq, (event) => this.dispatch({type: 'job', seq, event}));
		this.binding = binding;
		const start = this.services.jobs[kind] as ((...a: unknown[]) => Job) | undefined;
		if (!start || !this.source) {
			const message = !start ? 'This is not available in this version yet.' : 'The boards are not listed yet.';
			setImmediate(() =>
				binding.listener({type: 'result', result: {kind, ok: false, exitCode: 1, fields: {}, summary: message, error: {code: 1, message, hint: null, hintId: null}, cancelled: false}}),
			);
			return;
		}
		this.touched = true;
		binding.job = start({source: this.source, interaction: 'full'}, request, binding.listener);
	}

	/** The running job, if any. */
	get job(): Job | undefined {
		return this.binding && !this.binding.result ? this.binding.job : undefined;
	}

	/** SIGHUP: the terminal is gone. A running job finishes (and logs its result); resolves with its exit code. */
	async hangup(): Promise<number | undefined> {
		const job = this.job;
		if (!job) return undefined;
		job.hangup();
		const result = await job.done;
		return result.exitCode;
	}

	async close(): Promise<void> {
		if (this.closed) return;
		this.closed = true;
		if (this.factsTimer) clearTimeout(this.factsTimer);
		this.unwatch?.();
		const s = this.source;
		try {
			if (this.touched) await s?.saveState?.();
			await s?.close?.();
		} catch {
			// Leaving anyway.
		}
	}
}
