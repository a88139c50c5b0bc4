// The flashing screen's status line is the job's last info; it belongs to the phase it was said in.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {jobEvent, newJob} from '../source/screens/use-job-state.js';
import {dfuBoard} from './helpers/tui-world.js';

test('an info said before a phase began is not shown through the next phase; one said within it stays', () => {
	let j = newJob(1, 'flash', dfuBoard);
	j = jobEvent(j, {type: 'info', text: 'Reading which firmware the board holds...'});
	assert.equal(j.info, 'Reading which firmware the board holds...');
	j = jobEvent(j, {type: 'progress', phase: 'compare', done: 0, total: 100, rate: 0});
	assert.equal(j.info, undefined, 'stale once the compare began');
	j = jobEvent(j, {type: 'info', text: 'Sector 3 needs an erase'});
	j = jobEvent(j, {type: 'progress', phase: 'compare', done: 50, total: 100, rate: 0});
	assert.equal(j.info, 'Sector 3 needs an erase', 'said within the phase, kept while it runs');
	j = jobEvent(j, {type: 'progress', phase: 'erase', done: 0, total: 100, rate: 0});
	assert.equal(j.info, undefined);
});
