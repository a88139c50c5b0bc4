// A bench of emulated boards in DFU behind one BoardSource, for flash-on-connect tests: each board
// has its own serial number and USB port, may arrive after a delay, and after its firmware starts
// either leaves the bus (firmware running, no USB serial here) or, with BOOT held, comes straight
// back in DFU. A board pulled out (a cable fault) stays gone.
import type {Board, BoardSource, DfuBoard} from '../../source/devices/types.js';
import {EmulatedBootloader, EmulatedUsbDevice, profiles} from '../../source/emulator/index.js';
import type {Faults, ProfileName} from '../../source/emulator/types.js';
import {dfuBoardOf} from './job-driver.js';

export interface BenchBoard {
	profile: ProfileName;
	/** ms after the source is created. */
	arriveAfterMs?: number;
	faults?: Faults;
	/** After leave the ROM comes back at once: the firmware did not start (BOOT held). */
	bootHeld?: boolean;
	/** After leave it is still listed this long (the host notices a detach late), then it goes. */
	leaveLingerMs?: number;
	serialNumber?: string;
	usbPath?: string;
	timeScale?: number;
}

interface Slot {
	core: EmulatedBootloader;
	board: DfuBoard;
	present: boolean;
}

export class BenchSource implements BoardSource {
	readonly slots: Slot[] = [];
	private readonly listeners = new Set<(boards: Board[]) => void>();
	private readonly timers: NodeJS.Timeout[] = [];

	constructor(boards: BenchBoard[]) {
		boards.forEach((spec, i) => {
			const p = profiles[spec.profile];
			const core = new EmulatedBootloader(p, {timeScale: spec.timeScale ?? 0, faults: spec.faults, serialNumber: spec.serialNumber ?? `BENCH${String(i + 1).padStart(4, '0')}`});
			const board = dfuBoardOf(core, spec.usbPath ?? `1-${i + 1}`);
			const slot: Slot = {core, board, present: !spec.arriveAfterMs};
			core.on('disconnect', (reason) => {
				if (reason === 'leave' && spec.leaveLingerMs) {
					this.later(spec.leaveLingerMs, () => {
						slot.present = false;
						this.changed();
					});
					return;
				}
				slot.present = false;
				this.changed();
				if (reason === 'leave' && spec.bootHeld) {
					this.later(20, () => {
						core.reset();
						slot.present = true;
						this.changed();
					});
				}
			});
			if (spec.arriveAfterMs) {
				this.later(spec.arriveAfterMs, () => {
					slot.present = true;
					this.changed();
				});
			}
			this.slots.push(slot);
		});
	}

	private later(ms: number, fn: () => void) {
		const t = setTimeout(fn, ms);
		t.unref();
		this.timers.push(t);
	}

	private snapshot(): Board[] {
		return this.slots.filter((s) => s.present).map((s) => s.board);
	}

	private changed() {
		const boards = this.snapshot();
		for (const l of this.listeners) l(boards);
	}

	async list(): Promise<Board[]> {
		return this.snapshot();
	}

	async openDfu(board: DfuBoard): Promise<EmulatedUsbDevice> {
		const slot = this.slots.find((s) => s.board.id === board.id && s.present);
		if (!slot) throw new Error('LIBUSB_ERROR_NO_DEVICE');
		return new EmulatedUsbDevice(slot.core);
	}

	watch(onChange: (boards: Board[]) => void): () => void {
		this.listeners.add(onChange);
		onChange(this.snapshot());
		return () => this.listeners.delete(onChange);
	}

	async close(): Promise<void> {
		for (const t of this.timers) clearTimeout(t);
		this.listeners.clear();
	}
}
