// Smart flash's read-back: before anything is erased, read each touched sector block by block and
// decide what it needs. A sector stops being read at its first block that can neither stay nor be
// written in place (a sector that differs costs one block to find out).
//   every block holds its target bytes         -> unchanged: neither erased nor written
//   every block holds its target or is blank   -> blank: the blank blocks that should hold data are written
//   any other block                            -> erase: erased and written as the plain path does
// Decisions are per whole block, never per byte, so a block that is sent is entirely blank
// beforehand: no flash word is ever programmed twice.
import {PhaseClock} from './progress.js';
import {sectorWindows, windowTarget, type SectorTarget, type Window} from './plan.js';
import {readMemory} from './read.js';
import {checkCancelled, dataWindows, isBlank, sameBytes, type LoadContext, type SectorWork} from './work.js';

export async function compareSectors(ctx: LoadContext, targets: readonly SectorTarget[]): Promise<SectorWork[]> {
	const clock = new PhaseClock('compare', targets.reduce((n, t) => n + t.sector.size, 0), ctx.onProgress);
	let done = 0;
	clock.report(0);
	const works: SectorWork[] = [];
	for (const target of targets) {
		const {sector} = target;
		const windows = sectorWindows(target);
		const sends: Window[] = [];
		let mode = 'unchanged' as SectorWork['mode'];
		await readMemory(
			ctx.target,
			sector.start,
			sector.size,
			(at, bytes) => {
				const window = windows.next().value as Window;
				if (window.start !== at) throw new Error(`compare: window ${window.start} read at ${at}`);
				done += bytes.length;
				if (window.pieces.length > 0 ? sameBytes(bytes, windowTarget(window)) : isBlank(bytes)) {
					clock.report(done);
					return true;
				}
				if (isBlank(bytes)) {
					// Blank where the image has data: written in place.
					if (!window.blank) sends.push(window);
					mode = 'blank';
					clock.report(done);
					return true;
				}
				mode = 'erase';
				return false;
			},
			{what: 'Compare', beforeBlock: () => checkCancelled(ctx, 'compare')},
		);
		if (mode === 'erase') {
			// The rest of the sector was not read: it is erased anyway.
			done = works.reduce((n, w) => n + w.target.sector.size, 0) + sector.size;
			clock.report(done);
			works.push({target, mode, sends: dataWindows(target)});
		} else {
			works.push({target, mode, sends});
		}
	}
	return works;
}
