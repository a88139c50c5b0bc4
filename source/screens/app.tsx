// The app: the store's state rendered as the current screen. One key subscription for the whole
// app (use-keyboard.ts): every key goes to the store, one at a time, in order, and the store's
// reducer routes it to the screen that is current at that moment.
import {useEffect, useSyncExternalStore} from 'react';
import {Text, useStdout} from 'ink';
import {AppEffects} from './app-effects.js';
import {initialApp, pickerContext, pickerPageRows, type AppEnv, type AppState} from './app-state.js';
import {AppStore} from './app-store.js';
import {useKeyboard} from './use-keyboard.js';
import type {Theme} from './theme.js';
import {minimumSize, type TerminalSize, type TuiJobKind, type TuiServices, type TuiSettings} from './types.js';
import {Frame, para, PromptContext, SizeContext, ThemeContext, type Line} from './ui.js';
import {knownBoard} from './use-device-list-state.js';
import {jobRunning} from './use-job-state.js';
import {DeviceList} from './device-list.js';
import {FirmwarePicker} from './firmware-picker.js';
import {Options} from './options.js';
import {QuestionScreen} from './confirm.js';
import {Progress, jobTitles} from './progress.js';
import {Result} from './result.js';
import {Hints} from './hints.js';
import {SaveAs} from './save-as.js';
import {SettingsLines} from './settings-lines.js';
import {Fleet} from './fleet.js';
import {fleetCounts} from './use-fleet-state.js';
import type {FlashReport} from '../jobs/types.js';
import {phaseLabels, progressFraction} from './screen-text.js';

export interface AppController {
	store: AppStore;
	effects: AppEffects;
}

/** The store and its effects; tui.ts keeps them to reach the job on SIGHUP and SIGTERM. */
export function createApp(services: TuiServices, settings: TuiSettings, size: TerminalSize, onExit: (code: number) => void): AppController {
	const kinds: TuiJobKind[] = ['flash', 'backup', 'leave', 'settings-backup', 'on-connect'];
	const available = Object.fromEntries(kinds.map((k) => [k, services.jobs[k] !== undefined])) as Record<TuiJobKind, boolean>;
	const env: AppEnv = {backupPath: services.backupPath};
	let effects: AppEffects | undefined;
	const store = new AppStore(initialApp(settings, size, available), env, (c) => effects!.run(c));
	effects = new AppEffects(services, store.dispatch, onExit);
	return {store, effects};
}

export function App({app, theme}: {app: AppController; theme: Theme}) {
	const state = useSyncExternalStore(app.store.subscribe, app.store.getState);
	const {stdout} = useStdout();
	useEffect(() => {
		const onResize = () => app.store.dispatch({type: 'resize', size: {columns: stdout.columns || 80, rows: stdout.rows || 24}});
		onResize();
		stdout.on('resize', onResize);
		return () => {
			stdout.off('resize', onResize);
		};
	}, [app, stdout]);
	// After the first frame: the board source (native modules) loads now.
	useEffect(() => app.effects.start(), [app]);
	useKeyboard((keys) => {
		for (const key of keys) app.store.dispatch({type: 'key', key});
	});
	return <AppView state={state} theme={theme} />;
}

/** The screen for a state: what App renders (tests render states directly). */
export function AppView({state, theme}: {state: AppState; theme: Theme}) {
	return (
		<ThemeContext.Provider value={theme}>
			<SizeContext.Provider value={state.size}>
				<PromptContext.Provider value={state.ask ? quitPrompt(state) : undefined}>
					<CurrentScreen state={state} />
				</PromptContext.Provider>
			</SizeContext.Provider>
		</ThemeContext.Provider>
	);
}

/** The stop question, by what the job is doing now (its result says exactly what the board holds). */
function quitPrompt(s: AppState): string {
	const quit = s.ask === 'quit';
	const j = s.job;
	const answer = 'y stop, n go on';
	if (j?.kind === 'on-connect') {
		if (j.stopping) return `Stop the flashes under way${quit ? ' and quit' : ''}? Each stops at a block boundary and needs flashing again. ${answer}`;
		return quit ? `Stop taking boards and quit? The flashes under way finish first. ${answer}` : `Stop taking boards? The flashes under way finish first. ${answer}`;
	}
	if (j?.kind !== 'flash') return `${quit ? 'Stop and quit?' : 'Stop?'} ${answer}`;
	const phase = j.progress?.phase;
	if (phase === undefined || phase === 'backup' || phase === 'reboot' || phase === 'wait') return `${quit ? 'Stop and quit?' : 'Stop?'} Nothing has been written yet. ${answer}`;
	if (phase === 'leave' || phase === 'firmware' || phase === 'restore') return `${quit ? 'Stop and quit?' : 'Stop?'} The image is written; the result says what is left. ${answer}`;
	return `${quit ? 'Stop flashing and quit?' : 'Stop flashing?'} The board stays in its ROM bootloader; flash it again later. ${answer}`;
}

function CurrentScreen({state}: {state: AppState}) {
	const {size} = state;
	if (size.columns < minimumSize.columns || size.rows < minimumSize.rows) return <TooSmall state={state} />;
	const v = state.view;
	const job = state.job;
	switch (v.screen) {
		case 'devices':
			return <DeviceList state={state.devices} />;
		case 'firmware': {
			if (!state.picker) return <Text>...</Text>;
			const ctx = pickerContext(state);
			return <FirmwarePicker state={state.picker} board={v.board} known={knownBoard(state.devices, v.board)} target={ctx.target} address={ctx.address} pageRows={pickerPageRows(size)} />;
		}
		case 'options':
			return <Options state={state.options} board={v.board} known={knownBoard(state.devices, v.board)} file={v.file} image={v.image} onConnect={state.available['on-connect']} />;
		case 'question':
			if (job?.question) return <QuestionScreen question={job.question} state={v.q} known={knownBoard(state.devices, job.board)} choices={state.options.choices} />;
			return job ? <Progress job={job} known={knownBoard(state.devices, job.board)} /> : null;
		case 'progress':
			return job ? <Progress job={job} known={knownBoard(state.devices, job.board)} /> : null;
		case 'fleet':
			return job ? <Fleet rows={job.fleet} state={v.s} file={job.file} image={job.image} stopping={job.stopping} stoppingAll={job.stoppingAll} result={job.result} size={size} /> : null;
		case 'result':
			return job?.result ? <Result job={job} quitting={state.exitCode !== undefined} known={knownBoard(state.devices, job.board)} /> : null;
		case 'settings-lines': {
			const st = job?.kind === 'flash' ? (job.result?.data as FlashReport | undefined)?.settings : undefined;
			return st ? <SettingsLines settings={st} state={v.s} /> : null;
		}
		case 'save-as':
			return <SaveAs board={v.board} state={v.s} known={knownBoard(state.devices, v.board)} />;
		case 'hints':
			return <Hints state={v.s} />;
	}
}

/** Below 60x20 the screens do not fit: say so, and keep a running job's progress in view. */
function TooSmall({state}: {state: AppState}) {
	const {columns, rows} = state.size;
	const body: Line[] = para(`The terminal is ${columns}x${rows}: fcflash-tui needs at least ${minimumSize.columns}x${minimumSize.rows}. Make it larger.`, Math.min(columns, 100), 'warn');
	const job = state.job;
	if (jobRunning(job) && job.kind === 'on-connect' && job.confirmed) {
		const c = fleetCounts(job.fleet);
		body.push({text: `${jobTitles[job.kind]}: ${c.flashed} flashed, ${c.failed} failed, ${c.running} under way`});
	} else if (jobRunning(job) && job.progress) {
		body.push({text: `${jobTitles[job.kind]}: ${phaseLabels[job.progress.phase]} ${Math.floor(progressFraction(job.progress) * 100)}%`});
	}
	return <Frame title="Too small" keys={[{key: 'q', label: 'quit'}]} body={body} />;
}
