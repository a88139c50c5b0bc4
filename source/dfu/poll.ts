// Waiting for a DfuSe operation: GETSTATUS at exactly the interval the device asks for until it
// leaves dfuDNBUSY. Every wait is bounded. A device that stays busy past its operation's expected end
// is either the STM32H7 pattern (a sector erase or a data write on bank 2: recovered with CLRSTATUS,
// as Betaflight and STM32CubeProgrammer do, and its outcome then checked by the caller) or, on any
// other chip or operation, a typed error naming the address, state and status.
import {CancelledError, DeviceGoneError, StuckBusyError} from '../errors.js';
import {sleep} from '../sleep.js';
import {clearStatus, getStatus, State, stateName, Status, statusError, statusName, type DfuStatus} from './requests.js';
import type {DfuTarget} from './target.js';

/** dfu-util's and the ROM's own bound for a mass erase, whatever bwPollTimeout says. */
export const massEraseMaxMs = 35_000;

/**
 * An H7 operation still busy at this many polls made after its expected end is stuck: the first such
 * poll is where a healthy operation reports done, the second gives it one more poll interval.
 */
export const stuckAfterOverduePolls = 2;

export type OperationKind = 'command' | 'erase' | 'write' | 'mass-erase';

export interface PollOptions {
	kind: OperationKind;
	/** Checked between polls of a mass erase (the only wait long enough to interrupt). */
	signal?: AbortSignal;
	/** The message of a CancelledError thrown for the signal. */
	cancelledMessage?: string;
}

export interface PollOutcome {
	status: DfuStatus;
	/**
	 * The device sat in dfuDNBUSY past its operation's end and was recovered with CLRSTATUS (H7 only).
	 * The status after the recovery was OK, but whether the operation happened is unknown: the caller
	 * must read back what it did.
	 */
	recovered: boolean;
	busyMs: number;
}

/**
 * How long an operation may stay busy on a chip that does not recover: generous against its own
 * reported time (a slow sector), never unbounded.
 */
function busyLimitMs(kind: OperationKind, expectedMs: number): number {
	if (kind === 'mass-erase') return massEraseMaxMs;
	// A 128 KiB F4 sector takes up to 4 s at x8 parallelism (datasheet); a block write is milliseconds.
	return Math.max(4 * expectedMs, expectedMs + (kind === 'erase' ? 5000 : 500));
}

function stuckError(what: string, status: DfuStatus, busyMs: number): StuckBusyError {
	return new StuckBusyError(
		`${what} did not finish: the board stayed in ${stateName(status.state)} (${statusName(status.status)}) for ${(busyMs / 1000).toFixed(1)} s. ` +
			'Nothing after it was written.',
		status.status,
		status.state,
	);
}

/** CLRSTATUS (twice if the ROM answers the first with dfuERROR/errUNKNOWN, ST's pattern), then check. */
async function recover(t: DfuTarget, what: string): Promise<DfuStatus> {
	await clearStatus(t);
	let after = await getStatus(t);
	if (after.state === State.dfuERROR && after.status === Status.errUNKNOWN) {
		await clearStatus(t);
		after = await getStatus(t);
	}
	if (after.state !== State.dfuIDLE || after.status !== Status.OK) throw statusError(`${what} (after CLRSTATUS ended its stuck dfuDNBUSY)`, after);
	return after;
}

export async function pollUntilIdle(t: DfuTarget, what: string, options: PollOptions): Promise<PollOutcome> {
	const started = performance.now();
	// bwPollTimeout runs on the device's clock from the moment it handled our GETSTATUS, which is
	// when we sent it plus the one-way USB latency; the next GETSTATUS also takes that latency to
	// arrive. So the wait is counted from our request, not from our receipt of the answer: the device
	// still sees exactly bwPollTimeout between the two, and we save a round trip per block.
	let askedAt = started;
	let status = await getStatus(t);
	// The first answer after the command is dfuDNBUSY with the time the operation needs.
	const expectedMs = status.pollTimeout;
	const recovers = t.quirks.recoversStuckBusy && (options.kind === 'erase' || options.kind === 'write');
	const limit = busyLimitMs(options.kind, expectedMs);
	const tolerant = options.kind === 'mass-erase';
	let overdue = 0;
	while (status.state === State.dfuDNBUSY || status.state === State.dfuDNLOAD_SYNC) {
		if (options.signal?.aborted) throw new CancelledError(options.cancelledMessage);
		if (askedAt - started >= expectedMs && askedAt > started) overdue++;
		if (recovers && overdue >= stuckAfterOverduePolls) {
			return {status: await recover(t, what), recovered: true, busyMs: performance.now() - started};
		}
		// Stuck only if a poll asked after the limit still says busy: a slow host (a loaded Pi, a
		// long first round trip) is not a busy device.
		const busyMs = performance.now() - started;
		if (askedAt - started > limit) throw stuckError(what, status, busyMs);
		await sleep(Math.min(askedAt + status.pollTimeout - performance.now(), limit - busyMs + 1));
		if (options.signal?.aborted) throw new CancelledError(options.cancelledMessage);
		askedAt = performance.now();
		try {
			status = await getStatus(t);
		} catch (error) {
			// During a mass erase a GETSTATUS that times out or stalls inside the 35 s window counts as busy.
			if (!tolerant || error instanceof DeviceGoneError) throw error;
			status = {status: Status.OK, pollTimeout: 100, state: State.dfuDNBUSY};
		}
	}
	if (status.state === State.dfuERROR || status.status !== Status.OK) throw statusError(what, status);
	return {status, recovered: false, busyMs: performance.now() - started};
}
