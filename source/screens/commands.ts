// What the reducers ask the outside world to do. Reducers stay pure: they return these, and the
// store hands them to app-effects.ts, whose answers come back as actions.
import type {Board, SerialBoard} from '../devices/types.js';
import type {Reply} from '../jobs/types.js';
import type {TuiJobKind} from './types.js';

export interface FileRef {
	path: string;
	/** size:mtime (and the .bin address): a cached result is reused only while this matches. */
	key: string;
	address?: number;
}

export type Command =
	| {type: 'identify'; board: SerialBoard}
	| {type: 'read-folder'; dir: string; seq: number}
	/** Read these files' identification strings, one after another, in the background. */
	| {type: 'read-idents'; files: FileRef[]}
	/** Parse the highlighted file once the highlight rests (`delayMs`), or at once after Enter. */
	| {type: 'load-facts'; file: FileRef; delayMs: number}
	/** Reload a .bin at another address (options screen). */
	| {type: 'load-image'; path: string; address: number; seq: number}
	| {type: 'start-job'; seq: number; kind: TuiJobKind; board: Board; request: Record<string, unknown>}
	| {type: 'answer'; seq: number; id: number; reply: Reply}
	| {type: 'stop-job'; seq: number}
	/** Quit; after `holdMs` when a screen (a stopped job's result) should be read first. */
	| {type: 'exit'; code: number; holdMs?: number};

export interface Step<S, I = never> {
	state: S;
	intent?: I;
	commands?: Command[];
}
