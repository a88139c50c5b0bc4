// The app: renders the current screen from the state machine in use-app.ts and wires intents.
import {Text} from 'ink';
import {SizeProvider, ThemeContext, useTheme} from './ui.js';
import {KeyRouter} from './key-router.js';
import type {Theme} from './theme.js';
import {useApp, type AppModel, type AppProps} from './use-app.js';
import {DeviceList} from './device-list.js';
import {FirmwarePicker} from './firmware-picker.js';
import {Options} from './options.js';
import {Confirm, Unprotect} from './confirm.js';
import {Flashing} from './flashing.js';
import {Result} from './result.js';
import {Hints} from './hints.js';
import {parseAddressText} from './use-options.js';

export function App(props: AppProps & {theme: Theme}) {
	return (
		<ThemeContext.Provider value={props.theme}>
			<SizeProvider>
				<KeyRouter>
					<Screens {...props} />
				</KeyRouter>
			</SizeProvider>
		</ThemeContext.Provider>
	);
}

function Screens(props: AppProps) {
	const app = useApp(props);
	const {state} = app;
	const theme = useTheme();
	return (
		<>
			<Body app={app} />
			{state.quitAsk && state.screen !== 'flashing' ? (
				<Text bold color={theme.c('warn')}>
					{theme.t('A flash is running. Stop it and quit? y stop, n go on')}
				</Text>
			) : null}
		</>
	);
}

function Body({app}: {app: AppModel}) {
	const {state, dispatch} = app;
	const active = !state.quitAsk;
	const back = () => dispatch({type: 'back'});
	switch (state.screen) {
		case 'devices':
			return (
				<DeviceList
					source={app.source}
					sourceError={app.sourceError}
					active={active}
					screenHint={app.screenHint}
					onChoose={(board) => dispatch({type: 'chooseBoard', board})}
				/>
			);
		case 'firmware':
			return (
				<FirmwarePicker
					startDir={state.file ? dirOf(state.file) : app.settings.startDir}
					preselect={state.file ? state.file : app.settings.preselect}
					note={state.file ? undefined : app.settings.firmwareNote}
					board={state.board}
					address={parseAddressText(state.choices.address)}
					active={active}
					textEntry={app.textEntry}
					screenHint={app.screenHint}
					loadImage={app.services.loadImage}
					onChoose={(file, image) => dispatch({type: 'chooseFile', file, image})}
					onBack={back}
				/>
			);
		case 'options':
			return (
				<Options
					board={state.board!}
					file={state.file!}
					image={state.image!}
					choices={state.choices}
					active={active}
					setChoices={(choices) => dispatch({type: 'setChoices', choices})}
					loadImage={app.services.loadImage}
					onNext={(image) => dispatch({type: 'toConfirm', image})}
					onBack={back}
				/>
			);
		case 'confirm':
			return <Confirm board={state.board!} file={state.file!} image={state.image!} choices={state.choices} active={active} onYes={() => app.startFlash(false)} onNo={back} />;
		case 'unprotect':
			return <Unprotect board={state.board!} active={active} onYes={() => app.startFlash(true)} onNo={back} />;
		case 'flashing':
			return <Flashing view={app.flash} board={state.board!} file={state.file!} quitAsk={state.quitAsk} />;
		case 'result':
			return state.outcome ? (
				<Result outcome={state.outcome} board={state.board!} file={state.file!} active={active} onDone={() => dispatch({type: 'home'})} />
			) : (
				<Text>...</Text>
			);
		case 'hints':
			return <Hints context={app.contextHints} active={active} onBack={back} />;
	}
}

function dirOf(file: string): string {
	const i = Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\'));
	return i > 0 ? file.slice(0, i) : i === 0 ? '/' : '.';
}
