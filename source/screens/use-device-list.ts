// Device list state: the boards from BoardSource.watch (live on plug/unplug, no rescan key), the
// highlighted board (kept by id when the list changes), and MSP identification of serial FCs.
import {useEffect, useRef, useState, type MutableRefObject} from 'react';
import {useKeys} from './key-router.js';
import type {Board, BoardSource, FlightControllerInfo} from '../devices/types.js';
import type {HintId} from '../hints.js';

export interface DeviceListProps {
	source?: BoardSource;
	sourceError?: {message: string; hint?: HintId};
	active: boolean;
	screenHint: MutableRefObject<HintId | undefined>;
	onChoose(board: Board): void;
}

export function useDeviceList({source, active, screenHint, onChoose}: DeviceListProps) {
	const [boards, setBoards] = useState<Board[] | undefined>(undefined);
	const [selectedId, setSelectedIdState] = useState<string | undefined>(undefined);
	// Keys can arrive several in one read (a paste, tmux send-keys): handlers read the latest here.
	const selectedRef = useRef<string | undefined>(undefined);
	const setSelectedId = (id: string) => {
		selectedRef.current = id;
		setSelectedIdState(id);
	};
	const [notice, setNotice] = useState<string | undefined>(undefined);
	const identified = useRef(new Map<string, FlightControllerInfo | null>());
	const [, setIdentifyTick] = useState(0);

	useEffect(() => {
		if (!source) return;
		let stopped = false;
		const apply = (list: Board[]) => {
			if (!stopped) setBoards(list);
		};
		if (source.watch) {
			const unsubscribe = source.watch(apply);
			return () => {
				stopped = true;
				unsubscribe();
			};
		}
		// A source without watch: poll quietly once a second.
		const poll = () => source.list().then(apply, () => {});
		void poll();
		const timer = setInterval(poll, 1000);
		return () => {
			stopped = true;
			clearInterval(timer);
		};
	}, [source]);

	// Ask serial FCs what they run (MSP, short timeout), once per board.
	useEffect(() => {
		if (!source?.identify || !boards) return;
		for (const b of boards) {
			if (b.kind !== 'serial' || b.fc || b.problem || identified.current.has(b.id)) continue;
			identified.current.set(b.id, null);
			source.identify(b).then(
				(fc) => {
					if (fc) {
						identified.current.set(b.id, fc);
						setIdentifyTick((n) => n + 1);
					}
				},
				() => {},
			);
		}
	}, [source, boards]);

	const shown: Board[] = (boards ?? []).map((b) => {
		const fc = b.kind === 'serial' && !b.fc ? identified.current.get(b.id) : undefined;
		return fc ? {...b, fc} : b;
	});
	let index = shown.findIndex((b) => b.id === selectedId);
	if (index < 0) index = 0;
	const selected = shown[index];

	useEffect(() => {
		screenHint.current = boards && shown.length === 0 ? 'no-device' : selected?.problem?.hint;
	});
	useEffect(() => () => void (screenHint.current = undefined), [screenHint]);

	useKeys(
		(input, key) => {
			if (shown.length === 0) return;
			let index = shown.findIndex((b) => b.id === selectedRef.current);
			if (index < 0) index = 0;
			const selected = shown[index];
			if (key.upArrow || input === 'k') {
				setSelectedId(shown[Math.max(0, index - 1)]!.id);
				setNotice(undefined);
			} else if (key.downArrow || input === 'j') {
				setSelectedId(shown[Math.min(shown.length - 1, index + 1)]!.id);
				setNotice(undefined);
			} else if (key.return && selected) {
				if (selected.problem) setNotice(`This board cannot be used: ${selected.problem.message} Press ? for help.`);
				else onChoose(selected);
			}
		},
		{isActive: active},
	);

	return {boards: shown, loaded: boards !== undefined, index, notice};
}
