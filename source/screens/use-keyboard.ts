// The app's one key subscription: raw mode on Ink's stdin, every chunk split into keys (keys.ts)
// and handed over in order. Ink's own input handling stays off (no component uses useInput).
import {useLayoutEffect, useRef} from 'react';
import {useStdin} from 'ink';
import {KeyReader, type KeyPress} from './keys.js';

export function useKeyboard(onKeys: (keys: KeyPress[]) => void): void {
	const {stdin} = useStdin();
	const handler = useRef(onKeys);
	handler.current = onKeys;
	useLayoutEffect(() => {
		const reader = new KeyReader((keys) => handler.current(keys));
		const onData = (data: string | Buffer) => reader.push(typeof data === 'string' ? data : data.toString('utf8'));
		stdin.setEncoding('utf8');
		if (stdin.isTTY) stdin.setRawMode(true);
		stdin.on('data', onData);
		stdin.resume();
		return () => {
			stdin.off('data', onData);
			reader.close();
			try {
				if (stdin.isTTY) stdin.setRawMode(false);
			} catch {
				// The terminal is gone (SIGHUP).
			}
			stdin.pause();
		};
	}, [stdin]);
}
