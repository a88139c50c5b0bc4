// Opening a board in DFU for a job, and closing it on every path: a board left open keeps libusb's
// event loop alive and the process never exits.
import {closeDfuTarget, openDfuTarget, type DfuTarget} from '../dfu/target.js';
import type {DfuBoard} from '../devices/types.js';
import type {JobContext} from './types.js';

export async function withTarget<T>(context: JobContext, board: DfuBoard, use: (target: DfuTarget) => Promise<T>): Promise<T> {
	const target = await openDfuTarget(await context.source.openDfu(board), {trace: context.trace});
	try {
		return await use(target);
	} finally {
		await closeDfuTarget(target);
	}
}
