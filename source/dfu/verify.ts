// Verify: read back every block of each sector that was erased or written, against its target (the
// image's bytes, 0xFF elsewhere), so a lost erase under a skipped 0xFF block is caught too. A block
// that reads wrong is read again before it counts: an intermittent glitch on the bus is not a bad
// flash, and a flash that is wrong stays wrong on every read.
import {VerifyError} from '../errors.js';
import {sectorWindows, windowTarget, type Window} from './plan.js';
import {PhaseClock} from './progress.js';
import {readBlock, readMemory} from './read.js';
import {checkCancelled, sameBytes, type LoadContext, type SectorWork} from './work.js';

/** Reads of a block that differs from its target before it is a VerifyError. */
const maxReads = 3;

function firstDifference(window: Window, actual: Uint8Array): VerifyError {
	const expected = windowTarget(window);
	const i = expected.findIndex((b, k) => actual[k] !== b);
	return new VerifyError(window.start + i, expected[i]!, actual[i]!);
}

/**
 * Neighbouring sectors are read in one go (one set-address instead of one per sector) when their
 * sizes keep the transfer-size grid; the windows of each sector follow one another.
 */
function readRuns(works: readonly SectorWork[], size: number): SectorWork[][] {
	const runs: SectorWork[][] = [];
	for (const work of works) {
		const last = runs.at(-1)?.at(-1);
		const {sector} = work.target;
		if (last && last.target.sector.start + last.target.sector.size === sector.start && last.target.sector.size % size === 0) runs.at(-1)!.push(work);
		else runs.push([work]);
	}
	return runs;
}

export async function verifySectors(ctx: LoadContext, works: readonly SectorWork[]): Promise<void> {
	// Sectors the compare found unchanged were read in full already: nothing left to verify.
	if (works.length === 0) return;
	const clock = new PhaseClock('verify', works.reduce((n, w) => n + w.target.sector.size, 0), ctx.onProgress);
	let done = 0;
	clock.report(0);
	const options = {what: 'Verify', beforeBlock: () => checkCancelled(ctx, 'verify')};
	for (const run of readRuns(works, ctx.target.transferSize)) {
		const windows = (function* () {
			for (const work of run) yield* sectorWindows(work.target);
		})();
		const first = run[0]!.target.sector;
		const last = run.at(-1)!.target.sector;
		const suspects: Array<{window: Window; read: Uint8Array}> = [];
		await readMemory(
			ctx.target,
			first.start,
			last.start + last.size - first.start,
			(at, bytes) => {
				const window = windows.next().value as Window;
				if (window.start !== at) throw new Error(`verify: window ${window.start} read at ${at}`);
				if (!sameBytes(bytes, windowTarget(window))) suspects.push({window, read: bytes.slice()});
				done += bytes.length;
				clock.report(done);
			},
			options,
		);
		for (const suspect of suspects) {
			let read = suspect.read;
			for (let reads = 1; reads < maxReads && !sameBytes(read, windowTarget(suspect.window)); reads++) {
				read = await readBlock(ctx.target, suspect.window.start, suspect.window.length, options);
			}
			if (!sameBytes(read, windowTarget(suspect.window))) throw firstDifference(suspect.window, read);
		}
	}
}
