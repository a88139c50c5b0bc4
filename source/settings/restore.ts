// Restoring a settings backup onto a flight controller, through its CLI:
// 1. refuse a backup of another firmware (BTFL into INAV), and one of another MCU unless forced;
// 2. nothing to do when the board already holds every backed-up value and nothing else changed;
// 3. replay the plan one line at a time at the pace of the prompt, noting each `###ERROR###`;
// 4. `save` (the board reboots), reopen the port, and check every backed-up value with `get`.
// All or nothing: after `defaults nosave` the firmware keeps nothing until `save`, so a restore that
// stops earlier (Ctrl-C, the port gone, a hang) leaves the settings the board had before, and says
// how to finish.
import {CliSession, type CliSessionOptions} from '../devices/fc-cli.js';
import type {Link} from '../devices/serial-link.js';
import type {FlightControllerInfo} from '../devices/types.js';
import {CancelledError, CliPortGoneError, CliTimeoutError, FcflashError, OtherBoardError, RestoreInterruptedError, SettingsVariantError, errorText} from '../errors.js';
import {differing, readBoardValues} from './board-values.js';
import {parseIdentComment, parseSettings, settingId, type ParsedSettings} from './diff-text.js';
import {orderRejected, planRestore} from './restore-plan.js';
import {sleep} from '../sleep.js';

export interface RestoreProgress {
	phase: 'restore';
	/** Lines sent so far (the final `save` included). */
	done: number;
	total: number;
}

export interface RestoreOptions {
	/** The backup's path, for messages ("run `fcflash-tui settings restore FILE`"). */
	file: string;
	/**
	 * The port again after `save` rebooted the board: the caller waits for it to come back
	 * (matchReturnedPort) and opens it; the restore closes it. The link given to restoreSettings
	 * stays the caller's to close (after a restore the board has closed it from its side).
	 */
	reopen: () => Promise<Link>;
	/** Restore a backup taken from another MCU id. */
	force?: boolean;
	signal?: AbortSignal;
	onProgress?: (p: RestoreProgress) => void;
	onInfo?: (text: string) => void;
	/** What MSP said about the board; the CLI is asked for what it lacks (variant, mcuId). */
	board?: FlightControllerInfo;
	cli?: Omit<CliSessionOptions, 'signal'>;
	/** How long `reopen` may take (default 20 s). */
	reopenTimeoutMs?: number;
}

export interface RestoreReport {
	/** Settings lines the board accepted. */
	applied: number;
	/** Lines the firmware refused, with its message; arming-critical ones first. */
	rejected: {line: string; message: string}[];
	/** Backed-up lines whose value the board does not hold afterwards. */
	remaining: string[];
	saved: boolean;
	/** The board already held the backup: nothing was sent. */
	alreadyHeld: boolean;
	board: {variant?: string; version?: string; mcuId?: string};
}

const NOT_SENT = 'not a settings command: not sent';

export async function restoreSettings(link: Link, backupText: string, options: RestoreOptions): Promise<RestoreReport> {
	const backup = parseSettings(backupText);
	const signal = options.signal;
	const cli: CliSessionOptions = {...options.cli, signal};
	const session = await CliSession.enter(link, cli);
	let changed = false; // from the first line sent until `save`
	const plan = planRestore(backup, options.board?.variant ?? backup.header.variant);
	const total = plan.lines.length + 1;
	let done = 0;
	const progress = () => options.onProgress?.({phase: 'restore', done, total});
	try {
		const board = await identifyOverCli(session, options.board);
		checkSameFirmware(options.file, backup, board, options.force);

		if (await holdsAlready(session, backup)) {
			options.onInfo?.('The flight controller already holds every setting of the backup: nothing to restore.');
			await leave(session);
			return {applied: 0, rejected: [], remaining: [], saved: false, alreadyHeld: true, board};
		}

		const rejected: {line: string; message: string}[] = plan.notSent.map((e) => ({line: e.text, message: NOT_SENT}));
		let applied = 0;
		progress();
		for (const step of plan.lines) {
			if (signal?.aborted) throw new CancelledError();
			changed = true;
			const reply = await session.run(step.text);
			// `batch end` only repeats that earlier lines failed (each is reported with its own line).
			if (reply.errors.length && !/^batch end$/i.test(step.text)) rejected.push({line: step.text, message: reply.errors.join('; ')});
			else if (step.setting) applied++;
			done++;
			progress();
		}
		if (signal?.aborted) throw new CancelledError();
		const saved = await session.save();
		if (!saved.closed) throw new FcflashError(`the firmware refused to save (${saved.errors.join('; ') || 'no reason given'})`);
		changed = false;
		done++;
		progress();

		const remaining = await checkAfterSave(backup, options, cli);
		return {applied, rejected: orderRejected(rejected), remaining, saved: true, alreadyHeld: false, board};
	} catch (error) {
		if (!changed) {
			if (!session.gone && !(error instanceof CliPortGoneError)) await leave(session);
			throw error;
		}
		// Stopped between `defaults nosave` and `save`: drop the half-restored RAM copy.
		if (!session.gone) await leave(session);
		const cancelled = error instanceof CancelledError;
		const reason = cancelled ? 'interrupted' : error instanceof CliPortGoneError ? `${link.path} vanished` : error instanceof CliTimeoutError ? error.message : errorText(error);
		throw new RestoreInterruptedError(options.file, reason, done, total, cancelled);
	}
}

/** Variant and MCU id: from MSP when the caller has them, else from the CLI (`version`, `mcu_id`). */
async function identifyOverCli(session: CliSession, known: FlightControllerInfo | undefined): Promise<RestoreReport['board']> {
	let {variant, version, mcuId} = known ?? {};
	if (!variant || !version) {
		const header = parseIdentComment((await session.run('version')).lines.find((l) => l.trim().startsWith('#')) ?? '');
		variant ??= header?.variant;
		version ??= header?.version;
	}
	if (!mcuId) {
		const m = /^mcu_id\s+([0-9a-f]+)/i.exec((await session.run('mcu_id')).lines.join('\n'));
		if (m) mcuId = m[1]!.toLowerCase();
	}
	return {variant, version, mcuId};
}

function checkSameFirmware(file: string, backup: ParsedSettings, board: RestoreReport['board'], force: boolean | undefined) {
	const fileVariant = backup.header.variant;
	if (fileVariant && board.variant && fileVariant.toUpperCase() !== board.variant.toUpperCase()) throw new SettingsVariantError(file, fileVariant, board.variant);
	if (!force && backup.mcuId && board.mcuId && backup.mcuId !== board.mcuId.toLowerCase()) throw new OtherBoardError(file, backup.mcuId, board.mcuId);
}

/** Every backed-up value held, and the board changed nothing the backup does not name. */
async function holdsAlready(session: CliSession, backup: ParsedSettings): Promise<boolean> {
	const named = new Set(backup.assignments.map(settingId));
	const boardDiff = parseSettings(await session.diffAll());
	if (boardDiff.assignments.some((e) => !named.has(settingId(e)))) return false;
	const {stoppedEarly} = await readBoardValues(session, backup.assignments, {untilDifferent: true});
	return !stoppedEarly;
}

/** `exit`: leave the CLI (the firmware reboots, dropping anything unsaved). Best effort. */
async function leave(session: CliSession) {
	try {
		if (!session.gone) await session.exit();
	} catch {
		// The port already went, or the firmware hung: nothing more to do from here.
	} finally {
		session.detach();
	}
}

/**
 * After the save reboot: the port again, and every backed-up value checked with `get`. Right after
 * a reboot the old port can still be listed for a moment (udev, fc-sitl remove it a little later):
 * a link that dies while entering the CLI is opened again while time is left.
 */
async function checkAfterSave(backup: ParsedSettings, options: RestoreOptions, cli: CliSessionOptions): Promise<string[]> {
	const ms = options.reopenTimeoutMs ?? 20_000;
	const deadline = performance.now() + ms;
	let timer: NodeJS.Timeout | undefined;
	const timeout = () =>
		new Promise<never>((_, reject) => {
			timer = setTimeout(() => reject(new Error(`the port did not come back within ${Math.round(ms / 1000)} s`)), Math.max(0, deadline - performance.now()));
		});
	try {
		for (;;) {
			const link = await Promise.race([options.reopen(), timeout()]);
			clearTimeout(timer);
			try {
				let check: CliSession;
				try {
					check = await CliSession.enter(link, cli);
				} catch (error) {
					if (!(error instanceof CliPortGoneError) || performance.now() > deadline) throw error;
					await sleep(200);
					continue; // the port that was still there was the old one
				}
				try {
					const {values} = await readBoardValues(check, backup.assignments);
					return differing(backup.assignments, values).map((a) => a.text);
				} finally {
					await leave(check);
				}
			} finally {
				await link.close(); // opened here, so closed here (the caller closes the link it gave)
			}
		}
	} catch (error) {
		throw new FcflashError(
			`The settings from ${options.file} were saved, but they could not be checked on the flight controller (${errorText(error)}). ` +
				`Reconnect it and run \`fcflash-tui settings diff ${options.file}\`.`,
			error instanceof CancelledError ? 130 : 1,
			'fc-port-gone',
		);
	} finally {
		clearTimeout(timer);
	}
}
