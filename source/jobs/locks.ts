// The board locks a job holds: taken as the job learns each identity of its board (a flight
// controller's USB port, then the DFU board it reboots into), all released when the job ends.
import type {Board} from '../devices/types.js';
import {acquireBoardLock} from './board-lock.js';

/** The key a board is locked by: its USB port path (kept across the reboot into DFU), else its port. */
export function lockKey(board: Board): string | undefined {
	if (board.simulated) return undefined; // an emulated board lives inside this one process
	return board.usbPath ?? (board.kind === 'serial' ? board.port : board.id);
}

export class Locks {
	private readonly held = new Map<string, () => void>();
	async take(board: Board): Promise<void> {
		const key = lockKey(board);
		if (key === undefined || this.held.has(key)) return;
		this.held.set(key, await acquireBoardLock(key));
	}
	release(): void {
		for (const release of this.held.values()) release();
		this.held.clear();
	}
}
