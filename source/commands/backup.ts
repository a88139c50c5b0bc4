// `fcflash-tui backup OUT.bin`: read the whole main flash (alt 0's layout) through DFU UPLOAD into a
// raw .bin that starts at the flash's first address. Written to OUT.tmp, renamed when complete.
// Progress uses the phase "read" (not one of flash's phases; documented in --help).
import {createHash} from 'node:crypto';
import {closeSync, openSync, renameSync, unlinkSync, writeSync} from 'node:fs';
import type {CliFlags} from '../cli/flags.js';
import type {Reporter} from '../cli/reporter.js';
import {formatBytes, formatDuration, hex32} from '../format.js';
import {acquireBoardLock} from '../devices/lock.js';
import {openBoardSource} from '../devices/board-source.js';
import {closeDfuTarget, openDfuTarget, type DfuTarget} from '../dfu/target.js';
import {UsageError} from '../errors.js';
import {dfuBoardFor, deviceFacts, interruptible, pickBoard} from './boards.js';
import {usbTracer} from './trace.js';

// The flash read moved into the engine (dfu/read.ts); re-exported for the callers here.
export {readMainFlash, type FlashDump} from '../dfu/read.js';
import {readMainFlash} from '../dfu/read.js';

function openOutput(out: string): {fd: number; tmp: string} {
	const tmp = `${out}.tmp`;
	try {
		return {fd: openSync(tmp, 'w', 0o644), tmp};
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		const why = code === 'ENOENT' ? 'its folder does not exist' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : (error as Error).message;
		throw new UsageError(`Cannot write the backup to ${tmp}: ${why}. Choose another path.`);
	}
}

export async function backupCommand(args: string[], flags: CliFlags, reporter: Reporter): Promise<number> {
	if (args.length !== 1) throw new UsageError(`backup needs one output file: fcflash-tui backup OUT.bin${args.length ? ` (got ${args.join(' ')})` : ''}`);
	const out = args[0]!;
	// Fail on an unwritable path before touching (or rebooting) any board.
	const {fd, tmp} = openOutput(out);
	let closed = false;
	const closeFd = () => {
		if (!closed) closeSync(fd);
		closed = true;
	};
	let renamed = false;
	const source = await openBoardSource(flags).catch((error: unknown) => {
		closeFd();
		unlinkSync(tmp);
		throw error;
	});
	const {signal, done} = interruptible();
	let release: (() => void) | undefined;
	let target: DfuTarget | undefined;
	try {
		const started = performance.now();
		const board = await dfuBoardFor(source, pickBoard(await source.list(), flags.device), {reboot: flags.reboot, baud: flags.baud, reporter, signal});
		release = acquireBoardLock(board);
		reporter.info(`Board: ${board.chip ?? board.name} (${board.id})`);
		target = await openDfuTarget(await source.openDfu(board), {trace: flags.verbose ? usbTracer(process.stderr) : undefined});
		const dump = await readMainFlash(target, {signal, onProgress: (p) => reporter.progress(p)});
		writeSync(fd, dump.data);
		closeFd();
		renameSync(tmp, out);
		renamed = true;
		const sha256 = createHash('sha256').update(dump.data).digest('hex');
		const durationMs = Math.round(performance.now() - started);
		const fields = {file: out, device: deviceFacts(board), address: dump.address, bytes: dump.data.length, unreadable: dump.unreadable, sha256, durationMs};
		reporter.result(
			true,
			fields,
			`Saved ${formatBytes(dump.data.length)} of flash from ${hex32(dump.address)} of ${board.chip ?? board.name} to ${out} in ${formatDuration(durationMs)} (sha256 ${sha256.slice(0, 16)}...).` +
				(dump.unreadable ? ` ${formatBytes(dump.unreadable)} of unreadable sectors are 0xFF in the file.` : '') +
				`\nThe board stays in DFU: fcflash-tui leave starts its firmware.`,
		);
		return 0;
	} catch (error) {
		return reporter.fail(error, {file: out});
	} finally {
		done();
		release?.();
		if (target) await closeDfuTarget(target);
		closeFd();
		if (!renamed) {
			try {
				unlinkSync(tmp);
			} catch {
				// Already gone.
			}
		}
		await source.close?.();
	}
}
