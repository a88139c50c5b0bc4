// Flash on connect: a technician chooses the firmware once and plugs boards in. Every board that is
// present or appears, and that the image fits, gets the whole flash job of its own; boards on
// several USB ports flash at the same time. No board is flashed twice in a run (Betaflight's flash
// on connect once looped on the same board): a job owns its board's USB port path until it ends
// (its check of the running firmware included), and a board seen again afterwards is reported, not
// flashed. The first stop() stops taking boards and lets running flashes finish; the second stops
// those at a block boundary too.
import type {Board, BoardSource, FlightControllerInfo} from '../devices/types.js';
import {CancelledError, DeclinedError, ExitCode, FcflashError, NoDeviceError, UsageError} from '../errors.js';
import {loadFirmware} from '../firmware/load.js';
import type {FirmwareIdent, FirmwareImage} from '../firmware/image.js';
import {variantOfFlavour} from '../settings/diff-text.js';
import {appendFlashLog} from './flash-log.js';
import {planFor} from './confirm-facts.js';
import {startFlashJob} from './flash-job.js';
import {startJob, type JobRun} from './job.js';
import {isUartBridge} from './resolve.js';
import {mcuMismatch, usbIdMismatch} from './target-check.js';
import type {FlashReport, FleetBoard, FleetReport, Job, JobContext, JobListener, JobResult, OnConnectRequest} from './types.js';

/** A board back in DFU this soon after its own leave did not start its firmware (BOOT held?). */
const cameBackWithinMs = 30_000;

/**
 * What a job owns: the USB port path first (a board changes its serial number between its ROM and
 * its firmware, and boards without one share ids), then serial number. After the job, the serial
 * numbers it saw tell the board apart from the next one plugged into the same port.
 */
export function boardKey(board: Board): string {
	return board.usbPath ? `usb:${board.usbPath}` : board.serialNumber ? `sn:${board.serialNumber}` : `id:${board.id}`;
}

/** The serial numbers a board of the run was seen with, by kind (its ROM's and its firmware's differ). */
type SeenSerials = Record<Board['kind'], Set<string>>;

/** Another board on a port a finished one used: a serial number unlike any that board showed as this kind. */
function anotherBoard(seen: SeenSerials | undefined, board: Board): boolean {
	const known = seen?.[board.kind];
	return !!board.serialNumber && !!known && known.size > 0 && !known.has(board.serialNumber);
}

/** The id shown and logged for a board: its serial number and USB path, so two of a kind differ. */
export function fleetBoardId(board: Board): string {
	return [board.serialNumber, board.usbPath].filter(Boolean).join('@') || board.id;
}

/**
 * The board runs the image's exact build: same firmware, release and target, and the same git
 * revision when both say one (MSP gives 7 characters of it): a custom build of a release is not
 * the release.
 */
function runsBuild(fc: FlightControllerInfo | undefined, ident: FirmwareIdent): boolean {
	if (!fc || fc.version !== ident.version || fc.target !== ident.target || fc.variant !== variantOfFlavour(ident.flavour)) return false;
	if (!fc.revision || !ident.revision) return true;
	const [a, b] = [fc.revision.toLowerCase(), ident.revision.toLowerCase()];
	return a.startsWith(b) || b.startsWith(a);
}

function whyNot(image: FirmwareImage, board: Board): string | undefined {
	if (board.problem) return board.problem.message;
	if (isUartBridge(board)) return `${board.name}: a USB-UART bridge has no USB DFU.`;
	const mismatch = mcuMismatch(image, board) ?? usbIdMismatch(image, board);
	if (mismatch) return mismatch;
	try {
		planFor(board, image);
	} catch (error) {
		return (error as Error).message;
	}
	const ident = image.ident;
	if (board.kind === 'serial' && ident && runsBuild(board.fc, ident)) {
		return `It already runs ${ident.flavour} ${ident.version} for ${ident.target}${ident.revision ? ` (${ident.revision.slice(0, 7)})` : ''}.`;
	}
	return undefined;
}

function watchBoards(source: BoardSource, onChange: (boards: Board[]) => void): () => void {
	if (source.watch) return source.watch(onChange);
	let stopped = false;
	const poll = async () => {
		while (!stopped) {
			try {
				onChange(await source.list());
			} catch {
				// A listing that fails now may work in a moment.
			}
			await new Promise((r) => setTimeout(r, 500));
		}
	};
	void poll();
	return () => {
		stopped = true;
	};
}

export function startOnConnectJob(context: JobContext, request: OnConnectRequest, listener: JobListener): Job<FleetReport> {
	return startJob<FleetReport>('on-connect', listener, (run) => onConnect(run, context, request), () => ({file: request.file ?? request.image?.file}));
}

async function onConnect(run: JobRun<FleetReport>, context: JobContext, request: OnConnectRequest) {
	if (request.force) throw new UsageError('--force cannot be used with --on-connect: a bench run never flashes a board whose target does not match.');
	if (request.count !== undefined && !(Number.isInteger(request.count) && request.count > 0)) throw new UsageError(`--count ${request.count}: give how many boards to flash, e.g. --count 4.`);
	const image = request.image ?? (request.file ? await loadFirmware(request.file, {address: request.address}) : undefined);
	if (!image) throw new UsageError('flash --on-connect needs a firmware file.');
	run.fields = {file: image.file};
	const report: FleetReport = {boards: [], tried: 0};
	run.data = report;
	if (!request.yes) {
		if (context.interaction === 'none') throw new UsageError('Refusing to flash boards as they are plugged in without confirmation: there is no terminal to ask on. Pass --yes.', 'confirm-needed');
		const reply = await run.ask({kind: 'confirm-fleet', file: image.file, image, ...(request.count ? {count: request.count} : {})});
		if (reply !== 'yes' && reply !== 'force') {
			if (run.stopped) throw new CancelledError('Interrupted at the confirmation: nothing was written.', {nothingWritten: true});
			throw new DeclinedError();
		}
	}

	const owned = new Map<string, {job: Job<FlashReport>; entry: FleetBoard}>();
	const finished = new Map<string, FleetBoard>();
	// When each board's job started its firmware (kept only when it did), and the boards seen off the
	// bus since then: one still listed right after its leave has not come back, the host has not
	// noticed the detach yet.
	const leftAt = new Map<string, number>();
	const goneAfterLeave = new Set<string>();
	const serials = new Map<FleetBoard, SeenSerials>();
	const sawSerial = (entry: FleetBoard, board: Board | undefined) => {
		if (!board?.serialNumber) return;
		const seen = serials.get(entry) ?? {dfu: new Set<string>(), serial: new Set<string>()};
		seen[board.kind].add(board.serialNumber);
		serials.set(entry, seen);
	};
	const reported = new Set<string>();
	let stopHard = false;
	run.onStopAgain(() => {
		stopHard = true;
		for (const {job} of owned.values()) job.stop();
	});
	const taking = () => !run.stopped && (request.count === undefined || report.tried < request.count);

	let wake: () => void = () => {};
	// `what` tells reports apart; by default the reason itself. A board seen again after its job is
	// reported once, whatever the wording (the "came back" one counts seconds).
	const skip = (key: string, board: Board, reason: string, what = reason) => {
		const boardId = fleetBoardId(board);
		const signature = `${key}|${board.serialNumber ?? ''}|${what}`;
		if (reported.has(signature)) return;
		reported.add(signature);
		report.boards.push({boardId, board, state: 'skipped', reason});
		run.emit({type: 'board-skipped', boardId, board, reason});
	};
	/** A board of this run seen again: reported under the id it was flashed as, once, and no new entry. */
	const seenAgain = (entry: FleetBoard, reason: string) => {
		const signature = `${entry.boardId}|seen again`;
		if (reported.has(signature)) return;
		reported.add(signature);
		entry.reason = reason;
		run.emit({type: 'board-skipped', boardId: entry.boardId, board: entry.board, reason});
	};
	const start = (key: string, board: Board) => {
		const boardId = fleetBoardId(board);
		const entry: FleetBoard = {boardId, board, state: 'running'};
		sawSerial(entry, board);
		report.boards.push(entry);
		report.tried++;
		const job = startFlashJob({...context, interaction: 'none'}, {...request, force: false, board, image, yes: true}, (event) => {
			if (event.type === 'progress' && event.phase === 'leave' && !leftAt.has(key)) leftAt.set(key, performance.now());
			if (event.type === 'board') sawSerial(entry, event.board);
			run.emit({type: 'fleet', boardId, board, event});
		});
		owned.set(key, {job, entry});
		void job.done.then((result: JobResult<FlashReport>) => {
			entry.result = result;
			entry.state = result.ok ? 'ok' : 'failed';
			sawSerial(entry, result.data?.back);
			owned.delete(key);
			if (!result.data?.left) leftAt.delete(key);
			finished.set(key, entry);
			appendFlashLog({
				job: 'flash',
				reason: 'on-connect',
				ok: result.ok,
				exitCode: result.exitCode,
				board: boardId,
				usbPath: board.usbPath,
				file: image.file,
				message: result.error?.message,
				backup: result.data?.settings?.backup ?? null,
			});
			// What it left behind is looked at now, not at the next hotplug event (a board back in
			// DFU while its job still owned it sends no new event).
			context.source.list().then(onBoards, () => wake());
		});
	};
	const onBoards = (boards: Board[]) => {
		const listed = new Set(boards.map(boardKey));
		for (const key of leftAt.keys()) if (!listed.has(key)) goneAfterLeave.add(key);
		for (const board of boards) {
			const key = boardKey(board);
			if (owned.has(key)) continue; // its own job is working on it (rebooting, in DFU, coming back)
			const atPort = finished.get(key);
			if (atPort && anotherBoard(serials.get(atPort), board)) {
				// The port is free for the next board: what is known of the last one there goes.
				finished.delete(key);
				leftAt.delete(key);
				goneAfterLeave.delete(key);
			}
			// Not looked up by serial number on other ports: clones of one kind can share one, and
			// each of them must be flashed.
			const done = finished.get(key);
			if (done) {
				const left = leftAt.get(key);
				if (board.kind === 'dfu' && left !== undefined && !goneAfterLeave.has(key)) continue; // not off the bus yet
				if (board.kind === 'dfu' && left !== undefined && performance.now() - left < cameBackWithinMs) {
					seenAgain(done, `It came back in DFU ${Math.round((performance.now() - left) / 1000)} s after its firmware was started: BOOT held, or the firmware does not start. Not flashed again.`);
				} else if (board.kind === 'dfu' || done.state === 'failed') {
					seenAgain(done, `Already ${done.state === 'ok' ? 'flashed' : 'tried'} in this run: not flashed again.`);
				}
				continue;
			}
			const reason = whyNot(image, board);
			if (reason) {
				skip(key, board, reason);
				continue;
			}
			if (taking()) start(key, board);
		}
		wake();
	};
	const unwatch = watchBoards(context.source, onBoards);
	// Waiting for boards is the job's work: keep the process alive while it waits (hotplug listeners
	// and polls are unref'd so that other commands can exit).
	const keepAlive = setInterval(() => {}, 1 << 30);
	// One abort listener for the whole run: one per wake-up piled up with every change of the board
	// list (Node's MaxListenersExceededWarning after ten).
	const onAbort = () => {
		// The technician sees the first stop taken, and what a second one does.
		const n = owned.size;
		if (n > 0) run.info(`No new boards: the ${n} flash${n === 1 ? '' : 'es'} under way finish${n === 1 ? 'es' : ''}. Stop again to stop ${n === 1 ? 'it' : 'them'} at a block boundary.`);
		wake();
	};
	run.signal.addEventListener('abort', onAbort, {once: true});
	try {
		// Run until the count is reached (or stop()), then let the running flashes finish.
		for (;;) {
			if (!taking() && owned.size === 0) break;
			await new Promise<void>((resolve) => (wake = resolve));
		}
	} finally {
		run.signal.removeEventListener('abort', onAbort);
		clearInterval(keepAlive);
		unwatch();
	}
	const tried = report.boards.filter((b) => b.state === 'ok' || b.state === 'failed');
	const failed = tried.filter((b) => b.state === 'failed');
	const boardsField = report.boards.map((b) => ({
		boardId: b.boardId,
		ok: b.state === 'ok',
		...(b.state === 'skipped' ? {skipped: true, reason: b.reason} : {}),
		...(b.result?.error ? {error: b.result.error} : {}),
	}));
	const summary =
		`${tried.length} board${tried.length === 1 ? '' : 's'} tried: ${tried.length - failed.length} flashed, ${failed.length} failed` +
		`${report.boards.length > tried.length ? `, ${report.boards.length - tried.length} skipped` : ''}.` +
		report.boards.map((b) => `\n  ${b.boardId}: ${b.state === 'ok' ? `ok${b.reason ? ` (then: ${b.reason})` : ''}` : b.state === 'skipped' ? `skipped (${b.reason})` : `FAILED (${b.result?.error?.message ?? ''})`}`).join('');
	run.fields = {file: image.file, boards: boardsField};
	// Nothing tried says more than "interrupted": no board was there (or none fitted).
	if (tried.length === 0) throw new NoDeviceError(`No board was flashed. ${summary}`);
	if (run.stopped) {
		const stopped = new CancelledError(`${stopHard ? 'Stopped' : 'Stopped taking boards'}. ${summary}`);
		// The usual hint (stopped at a block boundary, flash again) is true only of boards a second
		// stop cut short; after the first, every flash that was running ran to its end.
		if (!stopHard) throw Object.assign(stopped, {hintText: 'No flash was cut short: each board that was being flashed ran to its end. Run again to flash more boards.'});
		throw stopped;
	}
	if (failed.length > 0) throw new FcflashError(summary, ExitCode.failed);
	return {fields: {file: image.file, boards: boardsField}, summary, data: report};
}
