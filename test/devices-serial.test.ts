// The serial side against an emulated flight controller on a real PTY pair (socat), plus the
// sysfs fallback listing and the mapping of open errors.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join, relative} from 'node:path';
import {EventEmitter} from 'node:events';
import {FakeFc} from './helpers/fake-fc.js';
import {identifyLink, identifyPort} from '../source/devices/fc-identify.js';
import {chooseRebootMethod, rebootLinkToDfu, rebootToDfu} from '../source/devices/fc-reboot.js';
import {openSerial, type PortFactory, type PortLike} from '../source/devices/serial-link.js';
import {listSerialPorts} from '../source/devices/serial-ports.js';
import {RealSource} from '../source/devices/real-source.js';
import {PermissionError} from '../source/errors.js';
import type {SerialBoard} from '../source/devices/types.js';
import {hasTool} from './helpers/tools.js';

const hasSocat = hasTool('socat');
const pty = {skip: hasSocat ? false : 'socat is not installed (apt-get install socat)', timeout: 20_000};

// The timer is kept referenced so a promise that never settles fails with its name instead of
// the runner cancelling the file once the event loop runs dry.
const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> => {
	let timer: NodeJS.Timeout | undefined;
	const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)));
	return Promise.race([p, late]).finally(() => clearTimeout(timer));
};

test('identify() over a PTY returns Betaflight 4.5.1 and the board', pty, async () => {
	const fc = await FakeFc.start({
		variant: 'BTFL',
		version: '4.5.1',
		apiVersion: '1.46',
		boardIdentifier: 'S405',
		targetName: 'STM32F405',
		boardName: 'SPEEDYBEEF405V3',
		mcuId: '002d004a1751393338353838',
	});
	try {
		const info = await identifyPort(fc.hostPath);
		assert.equal(info?.variant, 'BTFL');
		assert.equal(info?.version, '4.5.1');
		assert.equal(info?.apiVersion, '1.46');
		assert.equal(info?.board, 'S405');
		assert.equal(info?.target, 'STM32F405');
		assert.equal(info?.boardName, 'SPEEDYBEEF405V3');
		assert.equal(info?.mcuId, '002d004a1751393338353838');
		assert.equal(info?.revision, 'c155f58', 'MSP_BUILD_INFO: the build it runs');
		assert.deepEqual(
			fc.requests.map((r) => r.cmd),
			[1, 2, 3, 4, 5, 160],
		);
		// The port was closed again: the FC can be opened a second time at once.
		assert.equal((await identifyPort(fc.hostPath))?.variant, 'BTFL');
	} finally {
		await fc.close();
	}
});

test('a port that does not speak MSP identifies as undefined, quickly', pty, async () => {
	const fc = await FakeFc.start({msp: false});
	try {
		const started = performance.now();
		assert.equal(await identifyPort(fc.hostPath, {timeoutMs: 150}), undefined);
		assert.ok(performance.now() - started < 1500);
	} finally {
		await fc.close();
	}
});

test('chooseRebootMethod: by FC_VARIANT first, then the MSP API version', () => {
	assert.equal(chooseRebootMethod({variant: 'BTFL', apiVersion: '1.46'}), 'msp');
	assert.equal(chooseRebootMethod({variant: 'BTFL', apiVersion: '1.42'}), 'msp');
	assert.equal(chooseRebootMethod({variant: 'EMUF', apiVersion: '1.51'}), 'msp');
	assert.equal(chooseRebootMethod({variant: 'BTFL', apiVersion: '1.40'}), 'reboot-char');
	assert.equal(chooseRebootMethod({variant: 'CLFL', apiVersion: '1.35'}), 'reboot-char');
	// INAV reports API 2.x and ignores MSP_SET_REBOOT's type byte.
	assert.equal(chooseRebootMethod({variant: 'INAV', apiVersion: '2.5'}), 'cli');
	assert.equal(chooseRebootMethod({variant: 'BTFL'}), 'reboot-char');
	assert.equal(chooseRebootMethod({variant: 'ARDU', apiVersion: '2.0'}), 'reboot-char');
	assert.equal(chooseRebootMethod(undefined), 'reboot-char');
});

test('Betaflight API 1.46: MSP_SET_REBOOT with payload 1, then the port vanishes', pty, async () => {
	let dfuBoards = 0;
	const fc = await FakeFc.start({variant: 'BTFL', apiVersion: '1.46', onReboot: (r) => r.dfu && dfuBoards++});
	try {
		const result = await rebootToDfu(fc.hostPath);
		assert.equal(result.method, 'msp');
		assert.equal(result.fellBackToChar, undefined);
		const reboot = await withTimeout(fc.rebooted, 3000, 'the reboot');
		assert.deepEqual(reboot, {method: 'msp', mode: 1, dfu: true});
		const setReboot = fc.requests.filter((r) => r.cmd === 68);
		assert.equal(setReboot.length, 1);
		assert.deepEqual([...setReboot[0]!.payload], [1]);
		assert.ok(!fc.receivedText().includes('R'), "no 'R' after an acknowledged MSP reboot");
		assert.equal(dfuBoards, 1);
		assert.equal(existsSync(fc.hostPath), false, 'the host side of the PTY is gone, like a VCP after reboot');
	} finally {
		await fc.close();
	}
});

test("old Betaflight (API 1.40): the reboot character 'R'", pty, async () => {
	const fc = await FakeFc.start({variant: 'BTFL', version: '4.1.0', apiVersion: '1.40'});
	try {
		const result = await rebootToDfu(fc.hostPath);
		assert.equal(result.method, 'reboot-char');
		assert.deepEqual(await withTimeout(fc.rebooted, 3000, 'the reboot'), {method: 'reboot-char', dfu: true});
		assert.equal(fc.requests.filter((r) => r.cmd === 68).length, 0, 'no MSP_SET_REBOOT');
		assert.ok(fc.receivedText().endsWith('R'));
	} finally {
		await fc.close();
	}
});

test("INAV: CLI '####' then 'dfu', never MSP_SET_REBOOT", pty, async () => {
	const fc = await FakeFc.start({variant: 'INAV', version: '8.0.1', apiVersion: '2.5'});
	try {
		const result = await rebootToDfu(fc.hostPath);
		assert.equal(result.method, 'cli');
		assert.equal(result.fellBackToChar, undefined);
		assert.deepEqual(await withTimeout(fc.rebooted, 3000, 'the reboot'), {method: 'cli', command: 'dfu', dfu: true});
		const text = fc.receivedText();
		const hashes = text.indexOf('####');
		const dfu = text.indexOf('dfu');
		assert.ok(hashes >= 0 && dfu > hashes, `'####' then 'dfu' in ${JSON.stringify(text)}`);
		assert.equal(fc.requests.filter((r) => r.cmd === 68).length, 0);
	} finally {
		await fc.close();
	}
});

test("INAV whose CLI does not answer: 'R' is sent as the fallback", pty, async () => {
	const fc = await FakeFc.start({variant: 'INAV', apiVersion: '2.5', cli: false});
	try {
		const result = await rebootToDfu(fc.hostPath);
		assert.equal(result.method, 'cli');
		assert.equal(result.fellBackToChar, true);
		assert.deepEqual(await withTimeout(fc.rebooted, 3000, 'the reboot'), {method: 'reboot-char', dfu: true});
		assert.match(fc.receivedText(), /####\r\nR$/);
	} finally {
		await fc.close();
	}
});

test("a port that does not answer MSP gets 'R'", pty, async () => {
	const fc = await FakeFc.start({msp: false});
	try {
		const result = await rebootToDfu(fc.hostPath, {timeoutMs: 150});
		assert.equal(result.method, 'reboot-char');
		assert.equal((await withTimeout(fc.rebooted, 3000, 'the reboot')).method, 'reboot-char');
	} finally {
		await fc.close();
	}
});

test('RealSource lists an FC once (cached), then reboots it with MSP_SET_REBOOT(1)', pty, async () => {
	const fc = await FakeFc.start({variant: 'BTFL', apiVersion: '1.46', boardIdentifier: 'S7X2', targetName: 'STM32F7X2'});
	const source = new RealSource({
		listDfu: async () => [],
		usbEvents: null,
		serial: {listPorts: async () => (existsSync(fc.hostPath) ? [{path: fc.hostPath, vendorId: 0x0483, productId: 0x5740, serialNumber: '2065346B5734', usbPath: '1-2'}] : [])},
	});
	try {
		const boards = await source.list();
		assert.equal(boards.length, 1);
		const board = boards[0] as SerialBoard;
		assert.equal(board.kind, 'serial');
		assert.equal(board.port, fc.hostPath);
		assert.equal(board.id, '2065346B5734');
		assert.equal(board.name, 'STM32 virtual COM port');
		assert.equal(board.fc?.variant, 'BTFL');
		assert.equal(board.fc?.version, '4.5.1');
		assert.equal(board.fc?.board, 'S7X2');
		assert.equal(board.fc?.target, 'STM32F7X2');
		const asked = fc.requests.length;
		await source.list();
		await source.list();
		assert.equal(fc.requests.length, asked, 'repeated lists do not reopen the port');

		await source.rebootToDfu(board);
		assert.deepEqual(await withTimeout(fc.rebooted, 3000, 'the reboot'), {method: 'msp', mode: 1, dfu: true});
		assert.deepEqual(await source.list(), []);
	} finally {
		await source.close();
		await fc.close();
	}
});

test('RealSource.openLink: identify and the reboot run over the one open link', pty, async () => {
	const fc = await FakeFc.start({variant: 'BTFL', apiVersion: '1.46', mcuId: '000000000000000100000002'});
	const source = new RealSource({
		listDfu: async () => [],
		usbEvents: null,
		serial: {identifyOnList: false, listPorts: async () => [{path: fc.hostPath, vendorId: 0x0483, productId: 0x5740, serialNumber: 'SN1'}]},
	});
	try {
		const [board] = (await source.list()) as SerialBoard[];
		const link = await source.openLink(board!);
		try {
			assert.equal(link.path, fc.hostPath);
			assert.equal((await identifyLink(link))?.mcuId, '000000000000000100000002');
			const result = await rebootLinkToDfu(link);
			assert.equal(result.method, 'msp');
			assert.equal(await link.waitClosed(3000), true, 'the FC closed the link by rebooting');
			assert.deepEqual(await withTimeout(fc.rebooted, 3000, 'the reboot'), {method: 'msp', mode: 1, dfu: true});
		} finally {
			await link.close();
		}
	} finally {
		await source.close();
		await fc.close();
	}
});

// ---- sysfs fallback ----------------------------------------------------------------------------

/** A /sys tree shaped like the kernel's: class/tty/NAME -> devices/.../tty/NAME, device -> the parent. */
function fakeSysfs(): string {
	const root = mkdtempSync(join(tmpdir(), 'fake-sysfs-'));
	const mk = (path: string, files: Record<string, string> = {}) => {
		mkdirSync(join(root, path), {recursive: true});
		for (const [name, text] of Object.entries(files)) writeFileSync(join(root, path, name), text + '\n');
	};
	const link = (target: string, at: string) => {
		mkdirSync(dirname(join(root, at)), {recursive: true});
		symlinkSync(relative(dirname(join(root, at)), join(root, target)), join(root, at));
	};
	const usb1 = 'devices/pci0000:00/0000:00:14.0/usb1';
	// An STM32 VCP: cdc_acm binds the interface, ttyACM0 hangs off it.
	mk(`${usb1}/1-1`, {idVendor: '0483', idProduct: '5740', serial: '2065346B5734', manufacturer: 'Betaflight', product: 'STM32 Virtual ComPort', busnum: '1', devpath: '1'});
	mk(`${usb1}/1-1/1-1:1.0`, {bInterfaceClass: '02'});
	mk(`${usb1}/1-1/1-1:1.0/tty/ttyACM0`, {dev: '166:0'});
	link(`${usb1}/1-1/1-1:1.0`, `${usb1}/1-1/1-1:1.0/tty/ttyACM0/device`);
	link(`${usb1}/1-1/1-1:1.0/tty/ttyACM0`, 'class/tty/ttyACM0');
	// A CP210x bridge behind a hub: usb-serial adds a port device below the interface.
	mk(`${usb1}/1-3/1-3.2`, {idVendor: '10c4', idProduct: 'ea60', serial: '0001', product: 'CP2102 USB to UART Bridge Controller'});
	mk(`${usb1}/1-3/1-3.2/1-3.2:1.0/ttyUSB0/tty/ttyUSB0`, {dev: '188:0'});
	link(`${usb1}/1-3/1-3.2/1-3.2:1.0/ttyUSB0`, `${usb1}/1-3/1-3.2/1-3.2:1.0/ttyUSB0/tty/ttyUSB0/device`);
	link(`${usb1}/1-3/1-3.2/1-3.2:1.0/ttyUSB0/tty/ttyUSB0`, 'class/tty/ttyUSB0');
	// An unrelated USB serial device (a modem) and a legacy UART: both ignored.
	mk(`${usb1}/1-4`, {idVendor: '12d1', idProduct: '1506'});
	mk(`${usb1}/1-4/1-4:1.0/tty/ttyACM1`);
	link(`${usb1}/1-4/1-4:1.0`, `${usb1}/1-4/1-4:1.0/tty/ttyACM1/device`);
	link(`${usb1}/1-4/1-4:1.0/tty/ttyACM1`, 'class/tty/ttyACM1');
	mk('devices/pnp0/00:04/tty/ttyS0', {dev: '4:64'});
	link('devices/pnp0/00:04', 'devices/pnp0/00:04/tty/ttyS0/device');
	link('devices/pnp0/00:04/tty/ttyS0', 'class/tty/ttyS0');
	// A virtual console: no device link at all.
	mk('devices/virtual/tty/tty0');
	link('devices/virtual/tty/tty0', 'class/tty/tty0');
	return root;
}

test('without udevadm, ports are read from sysfs and classified', async () => {
	const root = fakeSysfs();
	try {
		const {ports, warnings} = await listSerialPorts({sysfsRoot: root, platform: 'linux'});
		assert.deepEqual(warnings, []);
		assert.deepEqual(
			ports.map((p) => ({path: p.path, vid: p.vendorId, pid: p.productId, name: p.name, bridge: p.bridge, serial: p.serialNumber, usbPath: p.usbPath})),
			[
				{path: '/dev/ttyACM0', vid: 0x0483, pid: 0x5740, name: 'STM32 virtual COM port', bridge: false, serial: '2065346B5734', usbPath: '1-1'},
				{path: '/dev/ttyUSB0', vid: 0x10c4, pid: 0xea60, name: 'CP210x USB-UART', bridge: true, serial: '0001', usbPath: '1-3.2'},
			],
		);
		assert.equal(ports[0]!.manufacturer, 'Betaflight');

		// The same through FCFLASH_SYSFS_ROOT, as the CLI would run it.
		process.env.FCFLASH_SYSFS_ROOT = root;
		try {
			const viaEnv = await listSerialPorts({platform: 'linux'});
			assert.deepEqual(
				viaEnv.ports.map((p) => p.path),
				['/dev/ttyACM0', '/dev/ttyUSB0'],
			);
		} finally {
			delete process.env.FCFLASH_SYSFS_ROOT;
		}
	} finally {
		rmSync(root, {recursive: true, force: true});
	}
});

test('no udevadm and no sysfs: an empty list and a clear warning, never a crash', async () => {
	const {ports, warnings} = await listSerialPorts({sysfsRoot: join(tmpdir(), 'no-such-sysfs-' + process.pid), platform: 'linux'});
	assert.deepEqual(ports, []);
	assert.equal(warnings.length, 1);
	assert.match(warnings[0]!, /sysfs/);
	assert.match(warnings[0]!, /class\/tty/);
});

// ---- open errors -------------------------------------------------------------------------------

/** A stand-in for serialport whose open fails as bindings-cpp reports it. */
function failingPort(message: string, code?: string): PortFactory {
	return () => {
		const events = new EventEmitter();
		const port: PortLike = {
			isOpen: false,
			open: (cb) => setImmediate(() => cb(Object.assign(new Error(message), code ? {code} : {}))),
			write: () => false,
			drain: (cb) => cb(null),
			close: (cb) => cb?.(null),
			// eslint-disable-next-line @typescript-eslint/no-explicit-any
			on: (event: string, listener: (...args: any[]) => void) => events.on(event, listener),
			// eslint-disable-next-line @typescript-eslint/no-explicit-any
			off: (event: string, listener: (...args: any[]) => void) => events.off(event, listener),
		};
		return port;
	};
}

test('EACCES on open is a PermissionError: exit 4, hint dialout', async () => {
	const createPort = failingPort('Error: Permission denied, cannot open /dev/ttyACM0', 'EACCES');
	await assert.rejects(openSerial('/dev/ttyACM0', {createPort}), (error: unknown) => {
		assert.ok(error instanceof PermissionError);
		assert.equal(error.exitCode, 4);
		assert.equal(error.hint, 'dialout');
		assert.match(error.message, /ttyACM0/);
		return true;
	});
	// The reboot path maps it the same way (no code, message only, as bindings-cpp gives it).
	await assert.rejects(rebootToDfu('/dev/ttyACM0', {createPort: failingPort('Error: Permission denied, cannot open /dev/ttyACM0')}), (error: unknown) => {
		assert.ok(error instanceof PermissionError);
		assert.equal(error.exitCode, 4);
		assert.equal(error.hint, 'dialout');
		return true;
	});
});

test('EBUSY or a held lock on open: hint busy; listing shows the problem instead of failing', async () => {
	await assert.rejects(openSerial('/dev/ttyACM0', {createPort: failingPort('Error Resource temporarily unavailable Cannot lock port')}), (error: unknown) => {
		assert.equal((error as PermissionError).hint, 'busy');
		assert.equal((error as PermissionError).exitCode, 1);
		return true;
	});
	await assert.rejects(openSerial('/dev/ttyACM0', {createPort: failingPort('Error: Device or resource busy, cannot open /dev/ttyACM0', 'EBUSY')}), {hint: 'busy'});

	const source = new RealSource({
		listDfu: async () => [],
		usbEvents: null,
		serial: {
			listPorts: async () => [{path: '/dev/ttyACM0', vendorId: 0x0483, productId: 0x5740}],
			createPort: failingPort('Error: Permission denied, cannot open /dev/ttyACM0', 'EACCES'),
		},
	});
	const [board] = await source.list();
	assert.equal(board?.kind, 'serial');
	assert.deepEqual(board?.problem?.hint, 'dialout');
	await source.close();
});

test('a port whose device node vanishes without a close event counts as closed, and is let go', async () => {
	// serialport retries at once when a read returns 0 bytes, which is what a hung-up tty returns:
	// a hangup during a read never reaches its poller, so no 'close' comes. The node going away does.
	const dir = mkdtempSync(join(tmpdir(), 'vanish-'));
	const path = join(dir, 'ttyACM0');
	writeFileSync(path, '');
	let closedByLink = 0;
	const events = new EventEmitter();
	const port: PortLike = {
		isOpen: true,
		open: (cb) => cb(null),
		write: () => true,
		drain: (cb) => cb(null),
		close: (cb) => {
			closedByLink++;
			cb?.(null);
		},
		// eslint-disable-next-line @typescript-eslint/no-explicit-any
		on: (event: string, listener: (...args: any[]) => void) => events.on(event, listener),
		// eslint-disable-next-line @typescript-eslint/no-explicit-any
		off: (event: string, listener: (...args: any[]) => void) => events.off(event, listener),
	};
	try {
		const link = await openSerial(path, {createPort: () => port});
		assert.equal(link.closed, false);
		const gone = link.waitClosed(3000);
		rmSync(path);
		const started = performance.now();
		assert.equal(await gone, true);
		assert.ok(performance.now() - started < 1000);
		assert.equal(link.closed, true);
		assert.equal(closedByLink, 1, 'the serialport was closed, which ends its read loop');
		await link.close();
		assert.equal(closedByLink, 1);
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});

test('an open that never completes times out instead of hanging', async () => {
	const never: PortFactory = () => ({
		isOpen: false,
		open: () => {},
		write: () => false,
		drain: (cb) => cb(null),
		close: (cb) => cb?.(null),
		on: () => undefined,
		off: () => undefined,
	});
	const started = performance.now();
	await assert.rejects(openSerial('/dev/ttyACM0', {createPort: never, openTimeoutMs: 100}), /timed out/);
	assert.ok(performance.now() - started < 1000);
});
