// One stdin subscription for the whole app, so no key is lost between screens. Ink's useInput
// subscribes in a passive effect, which runs a moment after a new screen is drawn: a key typed (or
// sent by a script) in that moment went nowhere. Screens register here in a layout effect instead,
// which runs as the screen is committed. A screen rendered alone (tests) falls back to useInput.
import {createContext, useContext, useLayoutEffect, useRef, type ReactNode} from 'react';
import {useInput, type Key} from 'ink';

type Handler = (input: string, key: Key) => void;

const RouterContext = createContext<Set<{current: Handler}> | undefined>(undefined);

export function KeyRouter({children}: {children: ReactNode}) {
	const handlers = useRef(new Set<{current: Handler}>()).current;
	useInput((input, key) => {
		for (const h of [...handlers]) h.current(input, key);
	});
	return <RouterContext.Provider value={handlers}>{children}</RouterContext.Provider>;
}

export function useKeys(handler: Handler, options: {isActive?: boolean} = {}): void {
	const router = useContext(RouterContext);
	const active = options.isActive !== false;
	const ref = useRef(handler);
	ref.current = handler;
	useInput((input, key) => ref.current(input, key), {isActive: active && !router});
	useLayoutEffect(() => {
		if (!router || !active) return;
		router.add(ref);
		return () => {
			router.delete(ref);
		};
	}, [router, active]);
}
