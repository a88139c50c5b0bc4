// `fcflash-tui leave`: start the firmware of a board in DFU without flashing: set the DfuSe address
// pointer to the start of the main flash (the vector table) and send a zero-length DNLOAD; the ROM
// resets into the application during (or instead of answering) the following GETSTATUS.
import type {CliFlags} from '../cli/flags.js';
import type {Reporter} from '../cli/reporter.js';
import {hex32} from '../format.js';
import {acquireBoardLock} from '../devices/lock.js';
import {openBoardSource} from '../devices/board-source.js';
import {vectorTable} from '../dfu/read.js';
import {leaveAddress, startFirmware} from '../dfu/leave.js';
import {closeDfuTarget, openDfuTarget, type DfuTarget} from '../dfu/target.js';
import {ExitCode, FcflashError, UsageError} from '../errors.js';
import {deviceFacts, pickBoard} from './boards.js';
import {usbTracer} from './trace.js';

export async function leaveCommand(args: string[], flags: CliFlags, reporter: Reporter): Promise<number> {
	if (args.length > 0) throw new UsageError(`leave takes no arguments (use --device ID), got: ${args.join(' ')}`);
	const source = await openBoardSource(flags);
	let release: (() => void) | undefined;
	let target: DfuTarget | undefined;
	try {
		const board = pickBoard(await source.list(), flags.device, 'dfu');
		if (board.kind === 'serial') {
			reporter.result(true, {device: deviceFacts(board), alreadyRunning: true}, `${board.port} (${board.id}) is not in DFU: it already runs its firmware. Nothing to do.`);
			return 0;
		}
		release = acquireBoardLock(board);
		target = await openDfuTarget(await source.openDfu(board), {trace: flags.verbose ? usbTracer(process.stderr) : undefined});
		const address = leaveAddress(target.flash);
		const vectors = await vectorTable(target, address);
		if (vectors && vectors.every((b) => b === 0xff)) {
			throw new FcflashError(`The flash of ${board.chip ?? board.name} is blank at ${hex32(address)}: there is no firmware to start. Flash one first (fcflash-tui flash FILE).`, ExitCode.failed);
		}
		reporter.progress({phase: 'leave', done: 0, total: 1, rate: 0});
		await startFirmware(target, address);
		reporter.progress({phase: 'leave', done: 1, total: 1, rate: 0});
		reporter.result(
			true,
			{device: deviceFacts(board), address, alreadyRunning: false},
			`Started the firmware of ${board.chip ?? board.name} (${board.id}) at ${hex32(address)}. The board leaves DFU and comes back as a flight controller.`,
		);
		return 0;
	} catch (error) {
		return reporter.fail(error);
	} finally {
		release?.();
		if (target) await closeDfuTarget(target);
		await source.close?.();
	}
}
