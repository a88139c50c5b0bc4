// Proof that the new firmware runs (MSP identity vs the image's ident), and which serial port is the
// flight controller coming back.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import type {Board, SerialBoard} from '../source/devices/types.js';
import type {FirmwareIdent} from '../source/firmware/image.js';
import {checkRunningFirmware} from '../source/settings/firmware-check.js';
import {matchReturnedPort} from '../source/settings/port-return.js';

const ident = (version: string, target = 'STM32F405', flavour = 'Betaflight'): FirmwareIdent => ({flavour, version, target, date: 'Nov 24 2026', raw: ''});

test('the running firmware against the image: match, or what runs instead', () => {
	assert.deepEqual(checkRunningFirmware({variant: 'BTFL', version: '4.5.1', target: 'STM32F405'}, ident('4.5.1')), {matches: true});
	// Calendar versions: MSP's text, or only its bytes (year - 2000) on firmware without the text.
	assert.deepEqual(checkRunningFirmware({variant: 'BTFL', version: '2026.12.0-alpha', target: 'SITL'}, ident('2026.12.0-alpha', 'SITL')), {matches: true});
	assert.deepEqual(checkRunningFirmware({variant: 'BTFL', version: '26.12.0', target: 'SITL'}, ident('2026.12.0-alpha', 'SITL')), {matches: true});
	assert.deepEqual(checkRunningFirmware({variant: 'INAV', version: '7.1.2', target: 'MATEKF405'}, ident('7.1.2', 'MATEKF405', 'INAV')), {matches: true});
	assert.deepEqual(checkRunningFirmware({variant: 'BTFL', version: '4.5.1', target: 'STM32F405'}, ident('4.5.2')), {
		matches: false,
		message: 'The flight controller runs BTFL 4.5.1 STM32F405, not the flashed Betaflight 4.5.2 for STM32F405 (version differ).',
	});
	assert.match((checkRunningFirmware({variant: 'INAV', version: '4.5.1', target: 'STM32F7X2'}, ident('4.5.1')) as {message: string}).message, /\(firmware, target differ\)/);
	assert.match((checkRunningFirmware({variant: 'BTFL', version: '2026.12.0-beta'}, ident('2026.12.0-alpha')) as {message: string}).message, /version differ/);
	assert.match((checkRunningFirmware(undefined, ident('4.5.1')) as {message: string}).message, /does not say what it runs \(no MSP answer\)/);
});

const fc = (port: string, extra: Partial<SerialBoard> = {}): SerialBoard => ({kind: 'serial', id: port, port, vendorId: 0x0483, productId: 0x5740, name: 'STM32 virtual COM port', ...extra});
const dfu: Board = {kind: 'dfu', id: 'x', vendorId: 0x0483, productId: 0xdf11, name: 'STM32 ROM bootloader', usbPath: '1-2'};

test('the port coming back: USB path, then serial number, then the only new flight-controller port', () => {
	const before = {port: '/dev/ttyACM0', usbPath: '1-2', serialNumber: '2065346B5734'};
	const other = fc('/dev/ttyACM0', {usbPath: '1-3', serialNumber: 'OTHER'});
	// ttyACM0 is taken by another board: ours is back as ttyACM1 on the same USB port.
	assert.deepEqual(matchReturnedPort(before, [dfu, other, fc('/dev/ttyACM1', {usbPath: '1-2'})], new Set(['/dev/ttyACM0'])), {board: fc('/dev/ttyACM1', {usbPath: '1-2'}), by: 'usb-path'});
	// Replugged elsewhere: the serial number.
	assert.equal(matchReturnedPort(before, [other, fc('/dev/ttyACM1', {usbPath: '1-4', serialNumber: '2065346B5734'})], new Set(['/dev/ttyACM0']))?.by, 'serial-number');
	// Two boards with one (clone) serial number prove nothing; no USB info: the only new port.
	const clones = [fc('/dev/ttyACM1', {serialNumber: '2065346B5734'}), fc('/dev/ttyACM2', {serialNumber: '2065346B5734'})];
	assert.equal(matchReturnedPort({...before, usbPath: undefined}, clones, new Set()), undefined);
	assert.deepEqual(matchReturnedPort({port: '/dev/ttyACM0'}, [other, fc('/dev/ttyACM1')], new Set(['/dev/ttyACM0'])), {board: fc('/dev/ttyACM1'), by: 'only-new-port'});
	assert.equal(matchReturnedPort({port: '/dev/ttyACM0'}, [fc('/dev/ttyACM1'), fc('/dev/ttyACM2')], new Set()), undefined, 'two new ports: no guess');
	assert.equal(matchReturnedPort(before, [dfu], new Set()), undefined, 'not back yet');
});

test('a board flashed from DFU is known by its USB path or serial number only: a new port may be another board rebooting', () => {
	// Flash on connect: board 1-2 is looked for after its leave while board 1-3 comes back from its own.
	const neighbour = fc('/dev/ttyACM1', {usbPath: '1-3', serialNumber: 'NEIGHBOUR'});
	const ours = {port: '', usbPath: '1-2', serialNumber: '2065346B5734', knownOnly: true};
	assert.equal(matchReturnedPort(ours, [neighbour], new Set()), undefined, 'the only new port is not ours');
	assert.equal(matchReturnedPort(ours, [neighbour, fc('/dev/ttyACM2', {usbPath: '1-2'})], new Set())?.by, 'usb-path');
});

test('a port the user named: the same path or nothing', () => {
	const named = {port: '/tmp/sitl/ttyACM-sitl', namedPath: true};
	assert.deepEqual(matchReturnedPort(named, [fc('/dev/ttyACM1'), fc('/tmp/sitl/ttyACM-sitl')], new Set()), {board: fc('/tmp/sitl/ttyACM-sitl'), by: 'path'});
	assert.equal(matchReturnedPort(named, [fc('/dev/ttyACM1')], new Set()), undefined, 'a new port elsewhere is not it');
});
