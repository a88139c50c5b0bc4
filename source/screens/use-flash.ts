// The running flash job, owned at app level so it survives a trip to the hints screen. Progress
// events arrive per USB block; they go into a ref and reach React state at most 10 times a second,
// and only when something visible changed (percent or phase, with bytes/rate/ETA beside them; at
// least every half second otherwise). That keeps a 1 MiB flash well under 64 KiB of terminal
// output over SSH.
import {useCallback, useEffect, useRef, useState} from 'react';
import {formatBytes, formatRate} from '../format.js';
import type {Phase, Progress} from './describe.js';
import type {Board, BoardSource} from '../devices/types.js';
import {CancelledError, FcflashError} from '../errors.js';
import type {FirmwareImage} from '../firmware/image.js';
import {errorHint, errorText, etaText, phasesFor} from './describe.js';
import type {FlashChoices, Outcome, TuiServices} from './types.js';

export interface FlashView {
	phases: Phase[];
	/** Phases finished so far. */
	finished: Phase[];
	current?: Phase;
	/** Whole percent of the current phase. */
	percent: number;
	/** "512 KiB / 1.00 MiB  48.0 KiB/s  ~10.2 s left", refreshed at most twice a second. */
	stats: string;
	info?: string;
	running: boolean;
	stopping: boolean;
	/** The board is read-protected and the user has not agreed to wipe it yet. */
	readProtected: boolean;
}

const idle: FlashView = {phases: [], finished: [], percent: 0, stats: '', running: false, stopping: false, readProtected: false};

export const redrawIntervalMs = 100;
const statsIntervalMs = 500;

export function useFlash(services: TuiServices, onFinish: (outcome: Outcome, readProtected: boolean) => void) {
	const [view, setView] = useState<FlashView>(idle);
	const controller = useRef<AbortController | undefined>(undefined);
	const latest = useRef<Progress | undefined>(undefined);
	const shown = useRef<FlashView>(idle);
	const statsAt = useRef(0);
	const info = useRef<string | undefined>(undefined);
	const timer = useRef<NodeJS.Timeout | undefined>(undefined);
	const finishRef = useRef(onFinish);
	finishRef.current = onFinish;
	const mounted = useRef(true);
	useEffect(
		() => () => {
			mounted.current = false;
			if (timer.current) clearInterval(timer.current);
			controller.current?.abort();
		},
		[],
	);

	const publish = useCallback((force = false) => {
		const prev = shown.current;
		const p = latest.current;
		const now = performance.now();
		let next: FlashView = {...prev, info: info.current};
		if (p) {
			const index = prev.phases.indexOf(p.phase);
			const finished = prev.phases.filter((ph, i) => i < index || (ph === p.phase && p.total > 0 && p.done >= p.total));
			const percent = p.total > 0 ? Math.floor((p.done / p.total) * 100) : 0;
			const phaseChanged = p.phase !== prev.current;
			next = {...next, current: p.phase, finished, percent};
			if (force || phaseChanged || percent !== prev.percent || now - statsAt.current >= statsIntervalMs || p.done >= p.total) {
				statsAt.current = now;
				next.stats =
					p.total > 1
						? [`${formatBytes(p.done)} / ${formatBytes(p.total)}`, p.rate > 0 ? formatRate(p.rate) : '', etaText(p)].filter(Boolean).join('  ')
						: '';
			}
		}
		const same =
			next.current === prev.current &&
			next.percent === prev.percent &&
			next.stats === prev.stats &&
			next.info === prev.info &&
			next.finished.length === prev.finished.length &&
			next.running === prev.running &&
			next.stopping === prev.stopping;
		if (same && !force) return;
		shown.current = next;
		if (mounted.current) setView(next);
	}, []);

	const start = useCallback(
		(source: BoardSource, board: Board, image: FirmwareImage, choices: FlashChoices, unprotect: boolean) => {
			const abort = new AbortController();
			controller.current = abort;
			latest.current = undefined;
			info.current = undefined;
			statsAt.current = 0;
			shown.current = {...idle, phases: phasesFor(board, choices.verify), running: true};
			setView(shown.current);
			timer.current = setInterval(() => publish(), redrawIntervalMs);
			let hungUp = false;
			const onHup = () => {
				// A dropped SSH session must not stop a flash half-way: finish, then log the result.
				hungUp = true;
			};
			const onSignal = () => abort.abort();
			process.on('SIGHUP', onHup);
			process.on('SIGTERM', onSignal);
			let release: (() => void) | undefined;
			const run = async (): Promise<Outcome> => {
				try {
					release = services.lock?.(board);
					const result = await services.runJob(source, board, image, {
						fullErase: choices.fullErase,
						verify: choices.verify,
						reboot: choices.reboot,
						baud: choices.baud,
						unprotect,
						signal: abort.signal,
						onProgress: (p) => {
							latest.current = p;
						},
						onInfo: (line) => {
							info.current = line;
						},
						confirm: async () => true,
					});
					return {ok: true, result};
				} catch (error) {
					const cancelled = error instanceof CancelledError || abort.signal.aborted;
					return {
						ok: false,
						message: errorText(error),
						hint: errorHint(error) ?? (cancelled ? 'interrupted' : undefined),
						exitCode: error instanceof FcflashError ? error.exitCode : 1,
						cancelled,
					};
				} finally {
					release?.();
				}
			};
			void run().then((outcome) => {
				if (timer.current) clearInterval(timer.current);
				timer.current = undefined;
				process.off('SIGHUP', onHup);
				process.off('SIGTERM', onSignal);
				publish(true);
				const readProtected = !outcome.ok && !unprotect && outcome.hint === 'read-protect';
				shown.current = {...shown.current, running: false, stopping: false, readProtected};
				if (mounted.current) setView(shown.current);
				if (hungUp) {
					services.logAfterHangup?.(outcome.ok ? `ok ${image.file} -> ${board.id}` : `failed ${outcome.message}`);
					process.exit(outcome.ok ? 0 : outcome.exitCode);
				}
				finishRef.current(outcome, readProtected);
			});
		},
		[services, publish],
	);

	const stop = useCallback(() => {
		if (!controller.current || controller.current.signal.aborted) return;
		controller.current.abort();
		shown.current = {...shown.current, stopping: true};
		setView(shown.current);
	}, []);

	return {view, start, stop};
}
