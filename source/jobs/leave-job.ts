// The leave job: start the firmware of a board in DFU without flashing, so a cancelled or failed
// flash does not strand the board in its bootloader. A blank flash has nothing to start: refused.
import {leaveAddress, startFirmware} from '../dfu/leave.js';
import {vectorTable} from '../dfu/read.js';
import {ExitCode, FcflashError} from '../errors.js';
import {hex32} from '../format.js';
import {startJob, type JobRun} from './job.js';
import {Locks} from './locks.js';
import {withTarget} from './open-board.js';
import {deviceFacts, resolveBoard} from './resolve.js';
import type {Job, JobContext, JobListener, LeaveReport, LeaveRequest} from './types.js';
import type {DfuTarget} from '../dfu/target.js';
import type {DfuBoard} from '../devices/types.js';

export function startLeaveJob(context: JobContext, request: LeaveRequest, listener: JobListener): Job<LeaveReport> {
	return startJob<LeaveReport>('leave', listener, (run) => leave(run, context, request), (run) => ({board: run.data?.board.id}));
}

/** Start the firmware at the board's leave address; a blank vector table has nothing to start. */
export async function startBoardFirmware(target: DfuTarget, board: DfuBoard): Promise<number> {
	const address = leaveAddress(target.flash);
	const vectors = await vectorTable(target, address);
	if (vectors && vectors.every((b) => b === 0xff)) {
		throw new FcflashError(`The flash of ${board.chip ?? board.name} is blank at ${hex32(address)}: there is no firmware to start. Flash one first (fcflash-tui flash FILE).`, ExitCode.failed, 'boot-button');
	}
	await startFirmware(target, address);
	return address;
}

async function leave(run: JobRun<LeaveReport>, context: JobContext, request: LeaveRequest) {
	const board = await resolveBoard(context.source, request, {kind: 'dfu'});
	const report: LeaveReport = {board, alreadyRunning: board.kind === 'serial', boardState: board.kind === 'serial' ? 'running' : 'in-dfu'};
	run.data = report;
	run.fields = {device: deviceFacts(board)};
	run.emit({type: 'board', board});
	if (board.kind === 'serial') {
		return {fields: {device: deviceFacts(board), alreadyRunning: true}, summary: `${board.port} (${board.id}) is not in DFU: it already runs its firmware. Nothing to do.`, data: report};
	}
	run.emit({type: 'phases', phases: ['leave']});
	const locks = new Locks();
	try {
		await locks.take(board);
		const address = await withTarget(context, board, async (target) => {
			run.progress('leave', 0, 1);
			const address = await startBoardFirmware(target, board);
			run.progress('leave', 1, 1);
			return address;
		});
		report.address = address;
		report.boardState = 'running';
		return {
			fields: {device: deviceFacts(board), address, alreadyRunning: false},
			summary: `Started the firmware of ${board.chip ?? board.name} (${board.id}) at ${hex32(address)}. The board leaves DFU and comes back as a flight controller.`,
			data: report,
		};
	} finally {
		locks.release();
	}
}
