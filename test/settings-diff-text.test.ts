// Reading `diff all` texts as settings: contexts, the lines that are not settings, the key each
// command gets, values with spaces, the identification comment of real builds.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {parseIdentComment, parseSettings, sameValue, settingId} from '../source/settings/diff-text.js';

// The shape of a real Betaflight 4.5.6 `diff all` (SITL build), with a few changes.
const bf456 = `# version
# Betaflight / SITL (SITL) 4.5.6 Dec  1 2026 / 08:26:41 () MSP API: 1.46

# start the command batch
batch start

# reset configuration to default settings
defaults nosave

mcu_id 000000000000000100000002
signature 

# name: My Quad

# feature
feature -GPS
feature MOTOR_STOP

# serial
serial 0 64 115200 57600 0 115200

# map
map TAER1234

# aux
aux 0 0 0 1700 2100 0 0
aux 1 1 1 900 1300 0 0

# resources
resource MOTOR 1 B07

# mode_color
mode_color 6 0 1

# vtxtable
vtxtable bands 5
vtxtable band 1 BOOSCAM_A A FACTORY 5865 5845 5825 5805 5785 5765 5745 5725

# master
set motor_pwm_protocol = DSHOT600
set craft_name = My  Quad

profile 0

# profile 0
set p_roll = 50

profile 1

# profile 1
set p_roll = 52
set i_roll = 90

# restore original profile selection
profile 0

rateprofile 2

# rateprofile 2
set roll_rc_rate = 120

# restore original rateprofile selection
rateprofile 0

# save configuration
save
`;

test('a diff is contexts and assignments; the keys name one setting each', () => {
	const parsed = parseSettings(bf456);
	const got = parsed.assignments.map((a) => [a.context, a.key, a.value]);
	assert.deepEqual(got, [
		['', 'feature GPS', 'off'],
		['', 'feature MOTOR_STOP', 'on'],
		['', 'serial 0', '64 115200 57600 0 115200'],
		['', 'map', 'TAER1234'],
		['', 'aux 0', '0 0 1700 2100 0 0'],
		['', 'aux 1', '1 1 900 1300 0 0'],
		['', 'resource MOTOR 1', 'B07'],
		['', 'mode_color 6 0', '1'],
		['', 'vtxtable bands', '5'],
		['', 'vtxtable band 1', 'BOOSCAM_A A FACTORY 5865 5845 5825 5805 5785 5765 5745 5725'],
		['', 'motor_pwm_protocol', 'DSHOT600'],
		// A value with spaces keeps them, inner double spaces too.
		['', 'craft_name', 'My  Quad'],
		['profile 0', 'p_roll', '50'],
		['profile 1', 'p_roll', '52'],
		['profile 1', 'i_roll', '90'],
		['rateprofile 2', 'roll_rc_rate', '120'],
	]);
	assert.equal(parsed.mcuId, '000000000000000100000002');
	assert.deepEqual(parsed.header, {
		flavour: 'Betaflight',
		variant: 'BTFL',
		target: 'SITL',
		version: '4.5.6',
		identLine: 'Betaflight / SITL (SITL) 4.5.6 Dec  1 2026 / 08:26:41 () MSP API: 1.46',
	});
});

test('comments, batch start/end, defaults, mcu_id, signature and save are not settings', () => {
	const parsed = parseSettings(bf456);
	const kinds = (kind: string) => parsed.entries.filter((e) => e.kind === kind).map((e) => e.text);
	assert.deepEqual(kinds('control'), ['batch start', 'defaults nosave', 'save']);
	assert.deepEqual(kinds('info'), ['mcu_id 000000000000000100000002', 'signature']);
	assert.ok(kinds('comment').includes('# name: My Quad'));
	assert.deepEqual(kinds('context'), ['profile 0', 'profile 1', 'profile 0', 'rateprofile 2', 'rateprofile 0']);
	// Line numbers are the file's, for messages.
	assert.equal(parsed.entries.find((e) => e.text === 'set p_roll = 52')!.line, bf456.split('\n').indexOf('set p_roll = 52') + 1);
});

test('the same setting twice: the last one wins, in its context', () => {
	const parsed = parseSettings('set p_roll = 40\nprofile 1\nset p_roll = 41\nset p_roll = 42\nfeature GPS\nfeature -GPS\n');
	assert.deepEqual(
		parsed.assignments.map((a) => [settingId(a), a.value]),
		[
			['|p_roll', '40'],
			['profile 1|p_roll', '42'],
			['profile 1|feature GPS', 'off'],
		],
	);
});

test('set without spaces, upper case names, and lines that are not settings commands', () => {
	const parsed = parseSettings('set GYRO_LPF1_STATIC_HZ=300\nset = 5\nset lonely\nbl\nmotor 0 2000\nmmix reset\nmmix 0 1.000 -1.000 1.000 -1.000\nexit\n');
	assert.deepEqual(
		parsed.assignments.map((a) => [a.key, a.value]),
		[
			['gyro_lpf1_static_hz', '300'],
			['mmix 0', '1.000 -1.000 1.000 -1.000'],
		],
	);
	assert.deepEqual(
		parsed.entries.filter((e) => e.kind === 'other').map((e) => e.text),
		['set = 5', 'set lonely', 'bl', 'motor 0 2000', 'exit'],
	);
	assert.deepEqual(
		parsed.entries.filter((e) => e.kind === 'action').map((e) => e.text),
		['mmix reset'],
	);
});

test('INAV: its version comment, defaults noreboot, mixer and battery profiles, blackbox flags', () => {
	const inav = `# version
# INAV/MATEKF405TE 7.1.1 Aug  1 2024 / 01:55:06 (77f97aa6)
# GCC-10.3.1 20210824 (release)

batch start
defaults noreboot
feature -AIRMODE
blackbox -NAV_ACC
serial 20 1 115200 115200 0 115200
mixer_profile 1

set platform_type = AIRPLANE
mmix 0  1.000  0.000  0.000  0.000
smix 0 1 0 100 0 -1
profile 1

set fw_p_pitch = 12
battery_profile 1

set bat_cells = 4
save
`;
	const parsed = parseSettings(inav);
	assert.equal(parsed.header.variant, 'INAV');
	assert.equal(parsed.header.version, '7.1.1');
	assert.equal(parsed.header.target, 'MATEKF405TE');
	assert.deepEqual(
		parsed.assignments.map((a) => settingId(a)),
		['|feature AIRMODE', '|blackbox NAV_ACC', '|serial 20', 'mixer_profile 1|platform_type', 'mixer_profile 1|mmix 0', 'mixer_profile 1|smix 0', 'profile 1|fw_p_pitch', 'battery_profile 1|bat_cells'],
	);
	assert.deepEqual(parsed.entries.filter((e) => e.kind === 'control').map((e) => e.text), ['batch start', 'defaults noreboot', 'save']);
});

test('identification comments of release, SITL and calendar builds', () => {
	assert.deepEqual(parseIdentComment('# Betaflight / STM32F405 (S405) 4.5.1 Nov 24 2026 / 12:00:00 (c155f5830) MSP API: 1.46'), {
		flavour: 'Betaflight',
		variant: 'BTFL',
		target: 'STM32F405',
		version: '4.5.1',
		identLine: 'Betaflight / STM32F405 (S405) 4.5.1 Nov 24 2026 / 12:00:00 (c155f5830) MSP API: 1.46',
	});
	assert.equal(parseIdentComment('# Betaflight / SITL (SITL) 2026.12.0-alpha Dec  1 2026 / 08:04:59 (norevision) MSP API: 1.49')?.version, '2026.12.0-alpha');
	assert.equal(parseIdentComment('# EmuFlight / HELIOSPRING (HESP) 0.4.1 Jan  1 2023 / 00:00:00 (abc) MSP API: 1.51')?.variant, 'EMUF');
	assert.equal(parseIdentComment('# version'), undefined);
	assert.equal(parseIdentComment('# start the command batch'), undefined);
});

test('values compare trimmed, and case-blind for the firmware\'s words', () => {
	assert.equal(sameValue('ON', 'on'), true);
	assert.equal(sameValue(' 50 ', '50'), true);
	assert.equal(sameValue('50', '51'), false);
	assert.equal(sameValue(undefined, '50'), false, 'a setting the board lacks is never the same');
});
