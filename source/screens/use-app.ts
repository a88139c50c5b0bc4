// The app-level state machine: which screen is shown, what was chosen, the running job, and the
// global keys (? hints, q quit, Ctrl-C). Screens send intents; app.tsx only renders this state.
import {useCallback, useEffect, useReducer, useRef, useState} from 'react';
import {useKeys} from './key-router.js';
import type {Board, BoardSource} from '../devices/types.js';
import type {FirmwareImage} from '../firmware/image.js';
import type {HintId} from '../hints.js';
import {errorHint, errorText} from './describe.js';
import {useFlash} from './use-flash.js';
import {defaultBinAddress, type FlashChoices, type Outcome, type Screen, type TuiServices, type TuiSettings} from './types.js';

export interface AppState {
	screen: Screen;
	/** Where Esc on the hints screen returns to. */
	hintsFrom: Screen;
	board?: Board;
	file?: string;
	image?: FirmwareImage;
	choices: FlashChoices;
	outcome?: Outcome;
	/** The hint of the error that just happened: first on the hints screen. */
	errorHint?: HintId;
	/** The hint that fit the screen `?` was pressed on. */
	hintsContext?: HintId;
	quitAsk: boolean;
}

export type Intent =
	| {type: 'chooseBoard'; board: Board}
	| {type: 'chooseFile'; file: string; image: FirmwareImage}
	| {type: 'setChoices'; choices: Partial<FlashChoices>}
	| {type: 'toConfirm'; image: FirmwareImage}
	| {type: 'flashing'}
	| {type: 'finished'; outcome: Outcome; readProtected: boolean}
	| {type: 'back'}
	| {type: 'hints'; context?: HintId}
	| {type: 'home'}
	| {type: 'quitAsk'; ask: boolean}
	| {type: 'boardsChanged'; boards: Board[]};

const backFrom: Partial<Record<Screen, Screen>> = {
	firmware: 'devices',
	options: 'firmware',
	confirm: 'options',
	unprotect: 'options',
	result: 'devices',
};

export function initialState(settings: TuiSettings): AppState {
	return {
		screen: 'devices',
		hintsFrom: 'devices',
		choices: {
			fullErase: settings.fullErase,
			verify: settings.verify,
			reboot: settings.reboot,
			baud: settings.baud,
			address: settings.address ?? defaultBinAddress,
		},
		quitAsk: false,
	};
}

export function reduce(state: AppState, intent: Intent): AppState {
	switch (intent.type) {
		case 'chooseBoard':
			return {...state, screen: 'firmware', board: intent.board, errorHint: undefined};
		case 'chooseFile':
			return {...state, screen: 'options', file: intent.file, image: intent.image};
		case 'setChoices':
			return {...state, choices: {...state.choices, ...intent.choices}};
		case 'toConfirm':
			return {...state, screen: 'confirm', image: intent.image};
		case 'flashing':
			return {...state, screen: 'flashing', outcome: undefined, errorHint: undefined};
		case 'finished': {
			const hint = intent.outcome.ok ? undefined : intent.outcome.hint;
			const screen: Screen = intent.readProtected ? 'unprotect' : 'result';
			// A finish while the hints screen is open lands there on Esc.
			if (state.screen === 'hints') return {...state, hintsFrom: screen, outcome: intent.outcome, errorHint: hint};
			return {...state, screen, outcome: intent.outcome, errorHint: hint};
		}
		case 'back': {
			if (state.screen === 'hints') return {...state, screen: state.hintsFrom};
			const to = backFrom[state.screen];
			return to ? {...state, screen: to} : state;
		}
		case 'hints':
			return state.screen === 'hints' ? state : {...state, screen: 'hints', hintsFrom: state.screen, hintsContext: intent.context};
		case 'home':
			return {...state, screen: 'devices', board: undefined, file: state.file, image: undefined, outcome: undefined};
		case 'quitAsk':
			return {...state, quitAsk: intent.ask};
		case 'boardsChanged':
			return state;
	}
}

export interface AppProps {
	services: TuiServices;
	settings: TuiSettings;
	onExit(code: number): void;
}

export function useApp({services, settings, onExit}: AppProps) {
	const [state, dispatch] = useReducer(reduce, settings, initialState);
	const [source, setSource] = useState<BoardSource | undefined>(undefined);
	const [sourceError, setSourceError] = useState<{message: string; hint?: HintId} | undefined>(undefined);
	/** True while a screen takes typed text (the picker's filter): ? and q are text then. */
	const textEntry = useRef(false);
	/** The hint that fits what the current screen shows (no boards, a board's problem, a bad file). */
	const screenHint = useRef<HintId | undefined>(undefined);
	const touched = useRef(false);
	const exiting = useRef(false);
	const pendingExit = useRef<number | undefined>(undefined);
	const sourceRef = useRef<BoardSource | undefined>(undefined);

	// The board source is created after the first frame: native USB/serial modules load here.
	useEffect(() => {
		let cancelled = false;
		const timer = setTimeout(() => {
			services.openSource().then(
				(s) => {
					if (cancelled) {
						void s.close?.();
						return;
					}
					sourceRef.current = s;
					setSource(s);
				},
				(error: unknown) => {
					if (!cancelled) setSourceError({message: errorText(error), hint: errorHint(error)});
				},
			);
		}, 0);
		return () => {
			cancelled = true;
			clearTimeout(timer);
		};
	}, [services]);

	const exit = useCallback(
		async (code: number) => {
			if (exiting.current) return;
			exiting.current = true;
			const s = sourceRef.current;
			try {
				if (touched.current) await s?.saveState?.();
				await s?.close?.();
			} catch {
				// Leaving anyway.
			}
			onExit(code);
		},
		[onExit],
	);

	const flash = useFlash(services, (outcome, readProtected) => {
		dispatch({type: 'finished', outcome, readProtected});
		if (pendingExit.current !== undefined) void exit(pendingExit.current);
	});

	const startFlash = useCallback(
		(unprotect: boolean) => {
			if (!source || !state.board || !state.image) return;
			touched.current = true;
			dispatch({type: 'flashing'});
			flash.start(source, state.board, state.image, state.choices, unprotect);
		},
		[source, state.board, state.image, state.choices, flash.start],
	);

	const running = flash.view.running;
	useKeys((input, key) => {
		if (state.quitAsk) {
			if (input === 'y' || input === 'Y') {
				dispatch({type: 'quitAsk', ask: false});
				if (running) {
					pendingExit.current = 130;
					flash.stop();
				} else void exit(0);
			} else if (input === 'n' || input === 'N' || key.escape || key.return) {
				dispatch({type: 'quitAsk', ask: false});
			}
			return;
		}
		if (key.ctrl && input === 'c') {
			if (running) dispatch({type: 'quitAsk', ask: true});
			else void exit(130);
			return;
		}
		if (textEntry.current) return;
		if (input === 'q') {
			if (running) dispatch({type: 'quitAsk', ask: true});
			else void exit(0);
			return;
		}
		if (input === '?' && state.screen !== 'hints') dispatch({type: 'hints', context: screenHint.current});
	});

	const contextHints = [state.errorHint, sourceError?.hint, state.hintsContext].filter(
		(h, i, all): h is HintId => h !== undefined && all.indexOf(h) === i,
	);

	return {state, dispatch, source, sourceError, flash: flash.view, startFlash, textEntry, screenHint, contextHints, settings, services, exit};
}

export type AppModel = ReturnType<typeof useApp>;
