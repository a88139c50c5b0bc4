// The dfu job: reboot a flight controller running firmware into its ROM bootloader and report the
// DFU board that appears. A board already in DFU is reported as it is.
import {ExitCode, FcflashError} from '../errors.js';
import {startJob, type JobRun} from './job.js';
import {Locks} from './locks.js';
import {rebootIntoDfu} from './reboot.js';
import {deviceFacts, isUartBridge, resolveBoard} from './resolve.js';
import type {DfuReport, DfuRequest, Job, JobContext, JobListener} from './types.js';

export function startDfuJob(context: JobContext, request: DfuRequest, listener: JobListener): Job<DfuReport> {
	return startJob<DfuReport>('dfu', listener, (run) => dfu(run, context, request), (run) => ({board: run.data?.board.id}));
}

async function dfu(run: JobRun<DfuReport>, context: JobContext, request: DfuRequest) {
	const board = await resolveBoard(context.source, request, {kind: 'serial'});
	const report: DfuReport = {board, alreadyInDfu: board.kind === 'dfu', boardState: board.kind === 'dfu' ? 'in-dfu' : 'running'};
	run.data = report;
	run.fields = {device: deviceFacts(board)};
	run.emit({type: 'board', board});
	if (board.kind === 'dfu') {
		return {fields: {device: deviceFacts(board), dfu: board, alreadyInDfu: true}, summary: `Already in DFU: ${board.chip ?? board.name} (${board.id}).`, data: report};
	}
	if (isUartBridge(board)) throw new FcflashError(`${board.port} is a ${board.name}: there is no USB DFU behind it.`, ExitCode.failed, 'uart-bridge');
	run.emit({type: 'phases', phases: ['reboot', 'wait']});
	const locks = new Locks();
	try {
		await locks.take(board);
		const dfuBoard = await rebootIntoDfu(run, context.source, board, {baud: request.baud});
		report.dfu = dfuBoard;
		report.boardState = 'in-dfu';
		run.emit({type: 'board', board: dfuBoard});
		return {
			fields: {device: deviceFacts(board), dfu: dfuBoard, alreadyInDfu: false},
			summary: `${board.port} is now in DFU: ${dfuBoard.chip ?? dfuBoard.name} (${dfuBoard.id}${dfuBoard.usbPath ? `, usb ${dfuBoard.usbPath}` : ''}).`,
			data: report,
		};
	} finally {
		locks.release();
	}
}
