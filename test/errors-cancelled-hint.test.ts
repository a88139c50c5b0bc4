// A stop's hint agrees with what its message says the board holds: "nothing was written" before any
// write, the block-boundary advice once the flash had begun.
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {CancelledError, ExitCode} from '../source/errors.js';
import {hints} from '../source/hints.js';
import {jobError} from '../source/jobs/job.js';
import {checkCancelled} from '../source/dfu/work.js';

describe('CancelledError hint', () => {
	it('a stop before anything was written says so, with no word of block boundaries', () => {
		const e = jobError(new CancelledError('Interrupted at the confirmation: nothing was written.', {nothingWritten: true}));
		assert.equal(e.code, ExitCode.interrupted);
		assert.equal(e.hintId, 'interrupted-nothing-written');
		assert.match(e.hint!, /^Nothing was written/);
		assert.doesNotMatch(e.hint!, /block boundary|flash again/i);
	});

	it('the engine: a stop in the compare has written nothing; in the erase or write it has', () => {
		const ac = new AbortController();
		ac.abort();
		const hintOf = (phase: 'compare' | 'erase' | 'write') => {
			try {
				checkCancelled({signal: ac.signal} as Parameters<typeof checkCancelled>[0], phase);
			} catch (error) {
				return (error as CancelledError).hint;
			}
			return undefined;
		};
		assert.deepEqual([hintOf('compare'), hintOf('erase'), hintOf('write')], ['interrupted-nothing-written', 'interrupted', 'interrupted']);
	});

	it('mid-write: the block-boundary hint stays', () => {
		const e = new CancelledError('Interrupted at a block boundary: the image is partly written. The board is still in its ROM bootloader: flash again to finish.');
		assert.equal(e.hint, 'interrupted');
		assert.match(hints.interrupted.text, /block boundary/);
	});

	it('a caller can say it explicitly', () => {
		assert.equal(new CancelledError('Interrupted.', {nothingWritten: true}).hint, 'interrupted-nothing-written');
		assert.equal(new CancelledError('Interrupted.').hint, 'interrupted');
	});
});
