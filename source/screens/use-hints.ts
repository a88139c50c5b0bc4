// Hints screen state: the hint list (context first, then the general ones) and the scroll offset.
import {useState} from 'react';
import {useKeys} from './key-router.js';
import {generalHints, type HintId} from '../hints.js';

export function hintList(context: HintId[]): {id: HintId; context: boolean}[] {
	const seen = new Set<HintId>();
	const out: {id: HintId; context: boolean}[] = [];
	for (const id of context) if (!seen.has(id)) seen.add(id), out.push({id, context: true});
	for (const id of generalHints) if (!seen.has(id)) seen.add(id), out.push({id, context: false});
	return out;
}

export function useHints({context, active, onBack}: {context: HintId[]; active: boolean; onBack(): void}) {
	const list = hintList(context);
	const [offset, setOffset] = useState(0);
	useKeys(
		(input, key) => {
			if (key.escape || key.return) onBack();
			else if (key.upArrow || input === 'k') setOffset((o) => Math.max(0, o - 1));
			else if (key.downArrow || input === 'j') setOffset((o) => Math.min(list.length - 1, o + 1));
		},
		{isActive: active},
	);
	return {list, offset};
}
