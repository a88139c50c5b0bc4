// The app's state outside React: one reducer (app-state.ts), applied synchronously for every
// action, so the second key of a burst already sees what the first one did. React subscribes
// (useSyncExternalStore) and renders the latest state; commands go to app-effects.ts.
import type {Command} from './commands.js';
import {reduceApp, type AppAction, type AppEnv, type AppState} from './app-state.js';

export class AppStore {
	private listeners = new Set<() => void>();

	constructor(
		private state: AppState,
		private readonly env: AppEnv,
		private readonly run: (c: Command) => void,
	) {}

	getState = (): AppState => this.state;

	subscribe = (listener: () => void): (() => void) => {
		this.listeners.add(listener);
		return () => {
			this.listeners.delete(listener);
		};
	};

	dispatch = (action: AppAction): void => {
		const step = reduceApp(this.state, action, this.env);
		if (step.state !== this.state) {
			this.state = step.state;
			for (const l of [...this.listeners]) l();
		}
		for (const c of step.commands ?? []) this.run(c);
	};
}
