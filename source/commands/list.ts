import type {CliFlags} from '../cli/flags.js';
import type {Reporter} from '../cli/reporter.js';
import {formatBytes} from '../format.js';
import {openBoardSource} from '../devices/board-source.js';
import {vidPid} from '../devices/ids.js';
import type {Board, BoardSource} from '../devices/types.js';
import {hints} from '../hints.js';

export function boardLine(b: Board): string {
	const id = vidPid(b.vendorId, b.productId);
	if (b.kind === 'dfu') {
		const facts = [b.chip ?? b.name, b.bootloader ? `bootloader ${b.bootloader}` : '', b.serialNumber ? `serial ${b.serialNumber}` : '', b.usbPath ? `usb ${b.usbPath}` : '']
			.filter(Boolean)
			.join(', ');
		return `DFU     ${id}  ${facts}${b.problem ? `\n        ! ${b.problem.message} ${hints[b.problem.hint].title}` : ''}`;
	}
	const fc = b.fc ? [b.fc.variant, b.fc.version, b.fc.target ?? b.fc.board].filter(Boolean).join(' ') : 'no MSP answer';
	// Two boards of one kind on a hub differ only here: serial number and USB port.
	const where = [b.serialNumber ? `serial ${b.serialNumber}` : '', b.usbPath ? `usb ${b.usbPath}` : ''].filter(Boolean).join(', ');
	return `serial  ${id}  ${b.port}  ${b.name}, ${fc}${where ? `, ${where}` : ''}${b.problem ? `\n        ! ${b.problem.message}` : ''}`;
}

export async function listCommand(_args: string[], flags: CliFlags, reporter: Reporter): Promise<number> {
	const source = await openBoardSource(flags);
	try {
		if (flags.watch) return await watchCommand(source, reporter);
		const boards = await source.list();
		const lines = boards.length
			? boards.map(boardLine).join('\n')
			: `No boards found.\nhint: ${hints['no-device'].text}`;
		reporter.result(true, {boards}, lines);
		return 0;
	} finally {
		await source.close?.();
	}
}

/** A board is the same board while its kind and id stay; an FC rebooting into DFU is a detach and an attach. */
export const boardKey = (b: Board) => `${b.kind}:${b.id}`;

export function diffBoards(known: Map<string, Board>, now: Board[]): {attached: Board[]; detached: Board[]} {
	const next = new Map(now.map((b) => [boardKey(b), b]));
	return {
		detached: [...known].filter(([k]) => !next.has(k)).map(([, b]) => b),
		attached: now.filter((b) => !known.has(boardKey(b))),
	};
}

const clock = () => new Date().toTimeString().slice(0, 8);

/**
 * `list --watch`: the boards present at the start are reported as attach events, then every attach
 * and detach as it happens (BoardSource.watch, or a 1 s poll when the source cannot watch). Runs until
 * SIGINT/SIGTERM/SIGHUP or the signal; a user-stopped watch is a success (exit 0), and JSON mode
 * ends with the result object listing the boards present at the end.
 */
export async function watchCommand(source: BoardSource, reporter: Reporter, options: {signal?: AbortSignal; pollMs?: number; stderr?: NodeJS.WritableStream} = {}): Promise<number> {
	const controller = new AbortController();
	const stop = () => controller.abort();
	options.signal?.addEventListener('abort', stop, {once: true});
	if (options.signal?.aborted) stop();
	const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
	for (const s of signals) process.on(s, stop);
	// Signal handlers do not keep Node running: this does, until the watch stops.
	const keepAlive = setInterval(() => {}, 1 << 30);
	const known = new Map<string, Board>();
	const onChange = (boards: Board[]) => {
		if (controller.signal.aborted) return;
		const {attached, detached} = diffBoards(known, boards);
		for (const b of detached) {
			known.delete(boardKey(b));
			reporter.event({event: 'detach', board: b});
			reporter.info(`${clock()} detach  ${boardLine(b)}`);
		}
		for (const b of attached) {
			known.set(boardKey(b), b);
			reporter.event({event: 'attach', board: b});
			reporter.info(`${clock()} attach  ${boardLine(b)}`);
		}
	};
	if (reporter.mode !== 'json') (options.stderr ?? process.stderr).write('Watching for boards; Ctrl-C stops.\n');
	const stopped = new Promise<void>((resolve) => controller.signal.addEventListener('abort', () => resolve(), {once: true}));
	try {
		if (source.watch) {
			const unsubscribe = source.watch(onChange);
			await stopped;
			unsubscribe();
		} else {
			while (!controller.signal.aborted) {
				onChange(await source.list());
				await Promise.race([stopped, new Promise((r) => setTimeout(r, options.pollMs ?? 1000))]);
			}
		}
	} finally {
		clearInterval(keepAlive);
		for (const s of signals) process.off(s, stop);
		options.signal?.removeEventListener('abort', stop);
	}
	const boards = [...known.values()];
	reporter.result(true, {boards, stopped: true}, `Stopped watching (${boards.length} board(s) connected).`);
	return 0;
}
export {formatBytes};
