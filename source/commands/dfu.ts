// `fcflash-tui dfu`: reboot a serial flight controller into its ROM bootloader, wait for the DFU
// board, and print it. A board already in DFU is reported as it is.
import type {CliFlags} from '../cli/flags.js';
import type {Reporter} from '../cli/reporter.js';
import {acquireBoardLock} from '../devices/lock.js';
import {openBoardSource} from '../devices/board-source.js';
import {UsageError} from '../errors.js';
import {deviceFacts, interruptible, pickBoard, rebootAndWait} from './boards.js';
import {boardLine} from './list.js';

export async function dfuCommand(args: string[], flags: CliFlags, reporter: Reporter): Promise<number> {
	if (args.length > 0) throw new UsageError(`dfu takes no arguments (use --device ID), got: ${args.join(' ')}`);
	if (!flags.reboot) throw new UsageError('dfu reboots a flight controller into DFU; --no-reboot contradicts it.');
	const source = await openBoardSource(flags);
	const {signal, done} = interruptible();
	let release: (() => void) | undefined;
	try {
		const board = pickBoard(await source.list(), flags.device, 'serial');
		if (board.kind === 'dfu') {
			reporter.result(true, {device: deviceFacts(board), dfu: board, alreadyInDfu: true}, `Already in DFU:\n${boardLine(board)}`);
			return 0;
		}
		release = acquireBoardLock(board);
		const dfu = await rebootAndWait(source, board, {baud: flags.baud, reporter, signal});
		reporter.result(true, {device: deviceFacts(board), dfu, alreadyInDfu: false}, `${board.port} is now in DFU:\n${boardLine(dfu)}`);
		return 0;
	} catch (error) {
		return reporter.fail(error);
	} finally {
		done();
		release?.();
		await source.close?.();
	}
}
