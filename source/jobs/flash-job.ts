// The flash job, for the CLI and the TUI alike: load and check the image, find the board, lock it,
// check the target, ask, reboot a flight controller into DFU, open the board, erase/write/verify,
// start the firmware. Every decision is here; front ends render the events and pass answers on.
// Nothing is erased before the whole image has been checked against the board's layout.
import {readUnprotect} from '../dfu/dfuse.js';
import {flashImage, type FlashResult} from '../dfu/flash.js';
import {planFlash} from '../dfu/plan.js';
import {closeDfuTarget, openDfuTarget, type DfuTarget} from '../dfu/target.js';
import type {Board, BoardSource, DfuBoard, SerialBoard} from '../devices/types.js';
import {CancelledError, DeclinedError, errorText, ExitCode, FcflashError, ReadProtectedError, UsageError} from '../errors.js';
import {describeImage, loadFirmware} from '../firmware/load.js';
import type {FirmwareImage} from '../firmware/image.js';
import {formatBytes, formatDuration} from '../format.js';
import {sleep} from '../sleep.js';
import {Locks} from './locks.js';
import {eraseSummary, flashSteps, isUpgrade, planFor, runningText, runningWarnings, type Running} from './confirm-facts.js';
import {startBoardFirmware} from './leave-job.js';
import {withTarget} from './open-board.js';
import {readRunningFirmware} from '../dfu/running.js';
import {startJob, type JobRun} from './job.js';
import {awaitDfu, dfuBoardIds, rebootIntoDfu, waitForDfu} from './reboot.js';
import {backupAndReboot, BackupFailedError, FirmwareNotBackError, firmwareFacts, firmwareWaitMs, restoreAfterFlash, sameVariant, serialPorts, waitForFirmware} from './keep-settings.js';
import type {BackupResult} from '../settings/backup.js';
import {deviceFacts, isUartBridge, resolveBoard} from './resolve.js';
import {boardNameMismatch, mcuMismatch, usbIdMismatch} from './target-check.js';
import type {BoardState, ConfirmFacts, FlashReport, FlashRequest, Job, JobContext, JobListener, JobPhase, Reply} from './types.js';

export class TargetMismatchError extends FcflashError {
	override name = 'TargetMismatchError';
	constructor(detail: string, how: string) {
		super(`${detail} Nothing was written. ${how}`, ExitCode.usage, 'target-mismatch');
	}
}

/** A board flashed from DFU is looked for this long after leave (finding it is a bonus, not a test). */
const lookAfterDfuMs = 3000;

/** A read-unprotect wipes the chip and resets it; the ROM comes back after the mass erase (8-32 s). */
const unprotectWaitMs = 40_000;

function accepts(reply: Reply | undefined, requires: 'yes' | 'force'): boolean {
	return requires === 'force' ? reply === 'force' : reply === 'yes' || reply === 'force';
}

export function startFlashJob(context: JobContext, request: FlashRequest, listener: JobListener): Job<FlashReport> {
	return startJob<FlashReport>('flash', listener, (run) => flash(run, context, request), (run, result) => ({
		board: run.data?.board.id,
		usbPath: run.data?.board.usbPath,
		file: request.file ?? request.image?.file,
		verified: run.data?.verified ?? false,
		boardState: run.data?.boardState,
		durationMs: result.ok ? run.data?.durationMs : undefined,
	}));
}

/** A board in DFU the pilot chose to flash from its serial port: the job goes on with that port. */
async function flash(run: JobRun<FlashReport>, context: JobContext, request: FlashRequest) {
	const first = await flashOnce(run, context, request);
	if (!first.viaSerial) return first;
	// Asked again: only yes flashes (CONTRACT), and now for what its serial port says it is, with
	// the backup among the steps. `s` is offered only when a confirmation was asked, so this asks too.
	const second = await flashOnce(run, context, {...request, device: first.viaSerial.id, board: undefined, keepSettings: true});
	// Narrows the type: a board found on its serial port is never offered the switch again.
	if (second.viaSerial) throw new Error('flash: a serial board cannot be switched to its serial port');
	return second;
}

async function flashOnce(run: JobRun<FlashReport>, context: JobContext, request: FlashRequest) {
	const {source} = context;
	// Parse the whole file first (a bad file is reported before anything about boards), while the
	// boards are listed (listing touches nothing).
	const listed = source.list();
	listed.catch(() => {});
	let image: FirmwareImage;
	if (request.image) image = request.image;
	else if (request.file) image = await loadFirmware(request.file, {address: request.address});
	else throw new UsageError('flash needs a firmware file.');
	const imageFacts = describeImage(image);
	run.fields = {file: image.file, image: {bytes: image.bytes, segments: imageFacts.segments}};

	const board = await resolveBoard(source, request, {listed});
	const report: FlashReport = {board, durationMs: 0, warnings: run.warnings, boardState: 'untouched'};
	run.data = report;
	const setState = (state: BoardState) => (report.boardState = state);
	run.fields = {...run.fields, device: deviceFacts(board), boardState: report.boardState};
	run.emit({type: 'board', board});
	if (board.kind === 'serial' && isUartBridge(board)) {
		throw new FcflashError(`${board.port} is a ${board.name}: it carries one of the board's UARTs, and there is no USB DFU behind it.`, ExitCode.failed, 'uart-bridge');
	}
	if (board.kind === 'serial' && request.reboot === false) {
		throw new FcflashError(
			`${board.port} is a flight controller running its firmware, and the reboot into DFU is turned off: put it in DFU first (hold BOOT while plugging it in).`,
			ExitCode.noDevice,
			'boot-button',
		);
	}
	// Settings are kept by default for a flight controller running its firmware (CONTRACT).
	const keep = board.kind === 'serial' && request.keepSettings !== false;
	const phases: JobPhase[] = [];
	if (board.kind === 'serial') phases.push(...(keep ? (['backup'] as const) : []), 'reboot', 'wait');
	phases.push('erase', 'write', ...(request.verify === false ? [] : (['verify'] as const)), 'leave');
	if (board.kind === 'serial') phases.push('firmware', ...(keep ? (['restore'] as const) : []));
	run.emit({type: 'phases', phases});

	const locks = new Locks();
	try {
		await locks.take(board);
		// The fit check for a board in DFU needs only its listed layout: refuse before asking.
		planFor(board, image);
		const mismatch = [mcuMismatch(image, board), usbIdMismatch(image, board)].filter(Boolean).join(' ') || undefined;
		const nameWarning = boardNameMismatch(image, board);
		if (nameWarning) run.warn({text: nameWarning, hint: 'target-mismatch'});
		if (mismatch && request.force) run.warn({text: `${mismatch} Flashing anyway (forced).`, hint: 'target-mismatch'});
		const requires = mismatch && !request.force ? 'force' : 'yes';
		if (requires === 'force' && context.interaction !== 'full') throw new TargetMismatchError(mismatch!, 'Pass --force to flash it anyway.');
		if (!request.yes || requires === 'force') {
			if (context.interaction === 'none') throw new UsageError('Refusing to erase without confirmation: there is no terminal to ask on. Pass --yes.', 'confirm-needed');
			// A board in DFU cannot be asked what it runs, nor have its settings backed up: read the
			// firmware's ident from its flash, so the pilot knows whether this is an upgrade.
			const running = board.kind === 'dfu' ? await readRunning(run, context, board, image) : undefined;
			// Offered only where it can work: it runs a firmware to start, and the pilot wants settings kept.
			const offersSerial = !!running && isUpgrade(running, image) && request.reboot !== false && request.keepSettings !== false && !request.fullErase;
			const facts: ConfirmFacts = {
				board,
				file: image.file,
				image,
				erase: eraseSummary(board, image, request),
				steps: flashSteps(board, image, {...request, keepSettings: keep}),
				warnings: [...run.warnings, ...(running ? runningWarnings(running, image, offersSerial) : [])],
				...(running ? {runs: runningText(running)} : {}),
				...(offersSerial ? {offersSerial} : {}),
				...(mismatch ? {mismatch} : {}),
			};
			const reply = await run.ask({kind: 'confirm', facts, requires});
			if (reply === 'serial' && offersSerial && board.kind === 'dfu') return {viaSerial: await startForSerial(run, context, board)};
			if (!accepts(reply, requires)) {
				if (run.stopped) throw new CancelledError('Interrupted at the confirmation: nothing was written.', {nothingWritten: true});
				if (requires === 'force') throw new TargetMismatchError(mismatch!, 'Type force to flash it anyway.');
				throw new DeclinedError();
			}
		}
		// Time from here: the pilot's time at the prompt is not the flash's.
		const started = performance.now();
		let dfu: DfuBoard;
		let backup: BackupResult | undefined;
		if (board.kind === 'serial') {
			const before = await dfuBoardIds(source);
			let fc = board;
			let rebooted = false;
			if (keep) ({backup, board: fc, rebooted} = await backupFirst(run, context, board));
			// It had settings: the result says whether they were backed up (null only for a board in DFU).
			report.settings = {backup: backup?.file ?? null, restored: false, applied: 0, rejected: [], remaining: []};
			if (rebooted) dfu = await awaitDfu(run, source, board, before, request.waitMs);
			else dfu = await rebootIntoDfu(run, source, fc, {baud: request.baud, waitMs: request.waitMs});
			setState('in-dfu');
			report.dfu = dfu;
			run.emit({type: 'board', board: dfu});
			await locks.take(dfu);
		} else dfu = board;
		run.fields = {...run.fields, device: deviceFacts(dfu)};
		// The ports present while it is in DFU: the one that comes back after the flash is new.
		const portsWhileAway = await serialPorts(source);

		const result = await flashBoard(run, context, request, dfu, image, setState);
		report.dfu = report.dfu ?? dfu;
		report.erase = result.erase;
		report.kept = result.kept;
		report.written = result.written;
		report.skipped = result.skipped;
		report.verified = result.verified;
		report.left = result.left;
		report.recoveries = result.recoveries;
		setState(result.left ? 'running' : 'written');
		if (result.left) await afterLeave(run, context, request, board, dfu, image, backup, portsWhileAway, report);
		report.durationMs = Math.round(performance.now() - started);
		const fields = {
			...run.fields,
			erase: report.erase,
			written: result.written,
			skipped: result.skipped,
			kept: result.kept,
			verified: result.verified,
			durationMs: report.durationMs,
			recoveries: result.recoveries,
			settings: report.settings ?? null,
			firmware: report.firmware ?? null,
			boardState: report.boardState,
			warnings: run.warnings.map((w) => w.text),
		};
		return {fields, summary: flashSummary(image, dfu, report), data: report};
	} finally {
		run.fields = {...run.fields, boardState: report.boardState};
		locks.release();
	}
}

/** What the board in DFU holds, for the confirmation; a failed read is said, never fatal here. */
async function readRunning(run: JobRun<FlashReport>, context: JobContext, board: DfuBoard, image: FirmwareImage): Promise<Running> {
	run.info('Reading which firmware the board holds...');
	try {
		const found = await withTarget(context, board, (target) => readRunningFirmware(target, image.low, image.high - image.low, {signal: run.signal}));
		return {ident: found.ident};
	} catch (error) {
		if (run.stopped) throw new CancelledError('Interrupted before the confirmation: nothing was written.', {nothingWritten: true});
		return {ident: null, error: error instanceof ReadProtectedError ? 'the chip is read-protected' : errorText(error)};
	}
}

/**
 * Start the firmware of a board in DFU and wait for its flight-controller port, so it can be
 * flashed from there with its settings kept. Nothing was written; a port that does not come back
 * leaves the board running its old firmware.
 */
async function startForSerial(run: JobRun<FlashReport>, context: JobContext, board: DfuBoard): Promise<SerialBoard> {
	run.info('Starting its firmware, to flash it from its serial port and keep its settings...');
	const portsBefore = await serialPorts(context.source);
	await withTarget(context, board, (target) => startBoardFirmware(target, board));
	run.data!.boardState = 'running';
	const back = await waitForFirmware(run, context.source, {port: '', usbPath: board.usbPath, serialNumber: board.serialNumber}, portsBefore);
	if (run.stopped) throw new CancelledError('Interrupted while waiting for its serial port: nothing was written; it runs its old firmware.', {nothingWritten: true});
	if (!back) {
		throw new FcflashError(
			`Its firmware was started, but no flight-controller port came back within ${firmwareWaitMs / 1000} s: nothing was written. Check the cable carries data, or flash it in DFU (hold BOOT while plugging it in) without keeping settings.`,
			ExitCode.failed,
			'no-firmware',
		);
	}
	run.emit({type: 'board', board: back});
	return back;
}

/**
 * Back up before the reboot (`bl` from the same CLI session); when the backup fails, only the TUI's
 * user can choose to go on without. When it is not rebooted yet (no backup, or no `bl`), the board
 * to reboot is the one on its port now: `exit` restarted the firmware, and its port goes away and
 * comes back (perhaps under another name).
 */
async function backupFirst(run: JobRun<FlashReport>, context: JobContext, board: SerialBoard): Promise<{backup?: BackupResult; board: SerialBoard; rebooted: boolean}> {
	let done: Awaited<ReturnType<typeof backupAndReboot>>;
	try {
		done = await backupAndReboot(run, context.source, board);
	} catch (error) {
		if (!(error instanceof BackupFailedError) || context.interaction !== 'full') throw error;
		const reply = await run.ask({kind: 'continue-without-backup', reason: error.message});
		if (reply !== 'yes' && reply !== 'force') throw error;
		const now = await boardAfterCleanUp(run, context.source, board);
		run.warn({text: 'Flashed without a settings backup (chosen after the backup failed): set the board up again if its settings were reset.'});
		return {board: now, rebooted: false};
	}
	// Backed up, but `bl` did not reboot it: its firmware was restarted, the reboot comes another way.
	if (!done.rebooted) return {backup: done.backup, board: await boardAfterCleanUp(run, context.source, board), rebooted: false};
	return {...done, board};
}

/** How long a port that is about to go (a reboot under way) may still be listed. */
const portGoesWithinMs = 2000;

/** The flight controller once its restarted firmware answers again. */
async function boardAfterCleanUp(run: JobRun<FlashReport>, source: BoardSource, board: SerialBoard): Promise<SerialBoard> {
	const deadline = performance.now() + portGoesWithinMs;
	while (performance.now() < deadline && !run.stopped && (await serialPorts(source)).has(board.port)) await sleep(100);
	const away = await serialPorts(source);
	const back = await waitForFirmware(run, source, {port: board.port, usbPath: board.usbPath, serialNumber: board.serialNumber, namedPath: board.vendorId === 0}, away);
	if (run.stopped) throw new CancelledError('Interrupted while waiting for its restarted firmware: nothing was flashed.', {nothingWritten: true});
	if (!back) throw new FirmwareNotBackError(`${board.port} did not come back after its firmware was restarted: nothing was flashed.`, ExitCode.failed, 'fc-port-gone');
	return back;
}

/**
 * After the firmware was started: wait for the flight controller's port, prove it runs the image,
 * and restore the settings. A board that was in DFU from the start is looked for too, but not
 * finding it is no failure there (it may have no USB serial port at all).
 */
async function afterLeave(
	run: JobRun<FlashReport>,
	context: JobContext,
	request: FlashRequest,
	board: Board,
	dfu: DfuBoard,
	image: FirmwareImage,
	backup: BackupResult | undefined,
	portsWhileAway: Set<string>,
	report: FlashReport,
) {
	const fromSerial = board.kind === 'serial';
	if (!fromSerial && !image.ident) return;
	const before = fromSerial
		? {port: board.port, usbPath: board.usbPath, serialNumber: board.serialNumber, namedPath: board.vendorId === 0}
		: {port: '', usbPath: dfu.usbPath, serialNumber: dfu.serialNumber, knownOnly: true};
	const back = await waitForFirmware(run, context.source, before, portsWhileAway, fromSerial ? firmwareWaitMs : lookAfterDfuMs);
	if (!back) {
		if (!fromSerial) return;
		report.firmware = {matchesImage: false};
		throw new FirmwareNotBackError(
			`The image is on the board and its firmware was started, but ${board.port} did not come back as a flight controller within ${firmwareWaitMs / 1000} s.` +
				(backup ? ` Its settings are in ${backup.file}: restore them with fcflash-tui settings restore FILE once it runs.` : ''),
			ExitCode.failed,
			'no-firmware',
		);
	}
	report.back = back;
	const {facts, problem} = firmwareFacts(back, image);
	report.firmware = facts;
	if (problem) throw new FirmwareNotBackError(`${problem}${backup ? ` The settings backup is in ${backup.file}.` : ''}`, ExitCode.failed, 'wrong-firmware');
	if (!image.ident) run.warn({text: 'The image carries no identification string, so what the board runs now cannot be compared with it.'});
	if (!backup) return;
	if (!sameVariant(backup, image)) {
		run.warn({text: `The backup is of ${backup.board.variant} and the new firmware is ${image.ident?.flavour}: settings are not replayed across firmwares. The backup is in ${backup.file}.`});
		return;
	}
	const restored = await restoreAfterFlash(run, context.source, back, backup, before);
	report.settings = {backup: backup.file, restored: restored.saved || restored.alreadyHeld, applied: restored.applied, rejected: restored.rejected, remaining: restored.remaining};
	for (const r of restored.rejected) run.warn({text: `Not restored: ${r.line} (${r.message})`, hint: 'settings-rejected'});
	void request;
}

async function open(source: BoardSource, board: DfuBoard, context: JobContext): Promise<DfuTarget> {
	return openDfuTarget(await source.openDfu(board), {trace: context.trace});
}

/** Open, flash, close: the board is closed on every path, so every command exits. */
async function flashBoard(
	run: JobRun<FlashReport>,
	context: JobContext,
	request: FlashRequest,
	board: DfuBoard,
	image: FirmwareImage,
	setState: (s: BoardState) => void,
): Promise<FlashResult> {
	const options = {
		fullErase: request.fullErase,
		rewrite: request.rewrite,
		verify: request.verify,
		signal: run.signal,
		onProgress: (p: {phase: string; done: number; total: number; rate: number; elapsedMs?: number; expectedMs?: number}) => {
			if (p.phase === 'erase' || p.phase === 'write') setState('partly-written');
			run.progress(p.phase as 'erase', p.done, p.total, {rate: p.rate, elapsedMs: p.elapsedMs, expectedMs: p.expectedMs});
		},
	};
	let target = await open(context.source, board, context);
	try {
		// The listed layout may be missing (an odd string); the opened board's is the fact.
		planFlash(image, target.flash);
		try {
			return await flashImage(target, image, options);
		} catch (error) {
			if (!(error instanceof ReadProtectedError)) throw error;
			if (!request.unprotect) {
				const reply = context.interaction === 'full' ? await run.ask({kind: 'unprotect', board}) : undefined;
				if (reply !== 'yes' && reply !== 'force') throw error;
			}
			run.info('Read protection is on: unprotecting (the chip wipes itself, resets and comes back)...');
			setState('partly-written');
			await unprotectTimed(run, target);
			await closeDfuTarget(target);
			const back = await waitForReturn(run, context.source, board);
			target = await open(context.source, back, context);
			return await flashImage(target, image, options);
		}
	} finally {
		await closeDfuTarget(target);
	}
}

const unprotectStopped = 'Interrupted during the unprotect: the chip goes on wiping itself and clears its protection, so its firmware and settings are gone. Flash again once it is back in DFU.';

/** The unprotect's time so far against the whole wait, counted from `started`. */
const unprotectTick = (run: JobRun<FlashReport>, started: number) => run.progress('unprotect', 0, 1, {elapsedMs: Math.round(performance.now() - started), expectedMs: unprotectWaitMs});

/** The unprotect's wipe, whose progress the ROM does not report: its time at least once a second, and a stop taken between polls. */
async function unprotectTimed(run: JobRun<FlashReport>, target: DfuTarget): Promise<void> {
	const started = performance.now();
	const tick = () => unprotectTick(run, started);
	tick();
	const ticker = setInterval(tick, 500);
	try {
		await readUnprotect(target, {signal: run.signal, cancelledMessage: unprotectStopped});
	} finally {
		clearInterval(ticker);
	}
}

/** After an unprotect: the board leaves the bus, then its ROM enumerates again (up to 40 s). */
async function waitForReturn(run: JobRun<FlashReport>, source: BoardSource, board: DfuBoard): Promise<DfuBoard> {
	const started = performance.now();
	const same = (b: Board) => b.kind === 'dfu' && ((board.serialNumber !== undefined && b.serialNumber === board.serialNumber) || (board.usbPath !== undefined && b.usbPath === board.usbPath));
	// First it has to go: opening it before it has reset finds the old device.
	while ((await source.list()).some(same)) {
		if (run.stopped) throw new CancelledError(unprotectStopped);
		if (performance.now() - started > unprotectWaitMs) break;
		unprotectTick(run, started);
		await sleep(100);
	}
	const back = await waitForDfu(run, source, {serialNumber: board.serialNumber, usbPath: board.usbPath}, {waitMs: Math.max(1000, unprotectWaitMs - (performance.now() - started)), phase: 'unprotect', bootHint: false});
	if (run.stopped) throw new CancelledError('Interrupted after the unprotect: the chip is wiped and unprotected. Flash again.');
	if (!back) throw new FcflashError('The chip was unprotected and wiped but did not come back in DFU within 40 s. Replug it (hold BOOT) and flash again.', ExitCode.failed, 'boot-button');
	return back;
}

function flashSummary(image: FirmwareImage, dfu: DfuBoard, r: FlashReport): string {
	const e = r.erase!;
	const erased = e.mode === 'mass' ? 'mass-erased the whole chip' : e.sectors ? `erased ${e.sectors} sector${e.sectors === 1 ? '' : 's'} (${formatBytes(e.bytes)})` : 'erased nothing';
	const unchanged = e.unchanged ? `, ${e.unchanged} sector${e.unchanged === 1 ? '' : 's'} already held this firmware` : '';
	return (
		`Flashed ${formatBytes(image.bytes)} to ${dfu.chip ?? dfu.name} (${dfu.id}) in ${formatDuration(r.durationMs)}: ${erased}${unchanged}, ` +
		`wrote ${formatBytes(r.written ?? 0)}${r.skipped ? ` (${formatBytes(r.skipped)} of 0xFF skipped)` : ''}, ` +
		(r.verified ? 'verified' : 'NOT verified (verify was off)') +
		(r.left ? ', firmware started.' : '.') +
		(r.warnings.length ? `\nwarning: ${r.warnings.map((w) => w.text).join('\nwarning: ')}` : '')
	);
}
