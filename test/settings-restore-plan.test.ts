// The restore planner: what is sent and in which order, what never is, and how rejections are
// ordered for the pilot; and the "nothing to do" check on a board that already holds the backup.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {CliSession} from '../source/devices/fc-cli.js';
import {differing, readBoardValues} from '../source/settings/board-values.js';
import {parseSettings} from '../source/settings/diff-text.js';
import {isCritical, orderRejected, planRestore} from '../source/settings/restore-plan.js';
import {emulatedFc} from './helpers/fake-fc.js';

const texts = (text: string, variant?: string) => planRestore(parseSettings(text), variant).lines.map((l) => l.text);

test('a diff all replays in its own order: defaults first, save taken off, the open batch ended', () => {
	const diff = '# version\n# Betaflight / SITL (SITL) 4.5.6 x\nbatch start\ndefaults nosave\nmcu_id 0000\nsignature \nfeature -GPS\n# master\nset p_roll = 50\nprofile 1\nset i_roll = 90\nprofile 0\nsave\n';
	assert.deepEqual(texts(diff), ['batch start', 'defaults nosave', 'feature -GPS', 'set p_roll = 50', 'profile 1', 'set i_roll = 90', 'profile 0', 'batch end']);
	const lines = planRestore(parseSettings(diff)).lines;
	assert.deepEqual(lines.filter((l) => l.setting).map((l) => l.line), [7, 9, 11], 'the file line of each setting');
});

test('no defaults line: one is added before the first setting (nosave for Betaflight, noreboot for INAV)', () => {
	assert.deepEqual(texts('set p_roll = 50\n'), ['defaults nosave', 'set p_roll = 50']);
	assert.deepEqual(texts('batch start\nset p_roll = 50\nbatch end\nsave\n'), ['batch start', 'defaults nosave', 'set p_roll = 50', 'batch end']);
	assert.deepEqual(texts('# INAV/MATEKF405 7.1.2 x\nset nav_rth_altitude = 5000\n'), ['defaults noreboot', 'set nav_rth_altitude = 5000']);
	// A defaults that would reboot, or one after settings, is never sent.
	assert.deepEqual(texts('defaults\nset p_roll = 50\ndefaults nosave\n'), ['defaults nosave', 'set p_roll = 50']);
	// A backup of a board on its defaults: still reset, then saved.
	assert.deepEqual(texts('# version\n# Betaflight / SITL (SITL) 4.5.6 x\n'), ['defaults nosave']);
});

test('lines that are not settings commands are never sent, and listed', () => {
	const plan = planRestore(parseSettings('set p_roll = 50\nbl\nmotor 0 2000\nexit\nmmix reset\n'));
	assert.deepEqual(plan.lines.map((l) => l.text), ['defaults nosave', 'set p_roll = 50', 'mmix reset']);
	assert.deepEqual(plan.notSent.map((e) => [e.line, e.text]), [[2, 'bl'], [3, 'motor 0 2000'], [4, 'exit']]);
});

test('rejections that decide whether it arms and flies come first, each group in file order', () => {
	const rejected = ['set d_min_roll = 35', 'aux 0 0 0 1700 2100 0 0', 'set osd_vbat_pos = 1', 'set motor_pwm_protocol = DSHOT600', 'feature GPS', 'resource MOTOR 1 B07', 'serial 1 64 115200 57600 0 115200', 'map TAER1234', 'set dshot_bidir = ON'].map((line) => ({line, message: 'x'}));
	assert.deepEqual(
		orderRejected(rejected).map((r) => r.line),
		['aux 0 0 0 1700 2100 0 0', 'set motor_pwm_protocol = DSHOT600', 'feature GPS', 'resource MOTOR 1 B07', 'serial 1 64 115200 57600 0 115200', 'map TAER1234', 'set dshot_bidir = ON', 'set d_min_roll = 35', 'set osd_vbat_pos = 1'],
	);
	assert.equal(isCritical('set motor_poles = 12'), true);
	assert.equal(isCritical('set p_roll = 50'), false);
});

test('nothing to do: a board that holds every backed-up value differs in nothing', {timeout: 10_000}, async () => {
	const {open} = emulatedFc();
	let s = await CliSession.enter(open());
	for (const line of ['set p_roll = 50', 'aux 0 0 0 1700 2100 0 0', 'feature -AIRMODE', 'profile 2', 'set i_roll = 77', 'profile 0']) await s.run(line);
	const backup = parseSettings(await s.diffAll());
	await s.save();
	s = await CliSession.enter(open());
	const held = await readBoardValues(s, backup.assignments);
	assert.deepEqual(differing(backup.assignments, held.values), []);
	assert.equal(held.values.get('profile 2|i_roll')?.line, 'set i_roll = 77');
	// One value changed: found, and the early check stops there. (Reading switched profiles.)
	await s.run('profile 0');
	await s.run('set p_roll = 51');
	assert.deepEqual(differing(backup.assignments, (await readBoardValues(s, backup.assignments)).values).map((a) => a.text), ['set p_roll = 50']);
	assert.equal((await readBoardValues(s, backup.assignments, {untilDifferent: true})).stoppedEarly, true);
	await s.exit();
});
