import assert from 'node:assert/strict';
import {test} from 'node:test';
import {parseSimulateSpec} from '../source/devices/simulate-spec.js';

test('--simulate specs: the demo pair, a list with :fc entries, arrival times, and clear errors', () => {
	assert.deepEqual(parseSimulateSpec('').map((b) => [b.profile, b.fc]), [['stm32f405', false], ['stm32f722', true]]);
	const list = parseSimulateSpec('stm32f405,stm32f405,stm32f722:fc', 500);
	assert.deepEqual(list.map((b) => [b.profile, b.fc, b.arriveAfterMs, b.index]), [['stm32f405', false, 0, 0], ['stm32f405', false, 500, 1], ['stm32f722', true, 1000, 2]]);
	assert.throws(() => parseSimulateSpec('stm32f999'), /Unknown simulated board "stm32f999"/);
	assert.throws(() => parseSimulateSpec('stm32f405:dfu'), /add :fc/);
	assert.throws(() => parseSimulateSpec('stm32f405', -1), /--simulate-arrival/);
});
