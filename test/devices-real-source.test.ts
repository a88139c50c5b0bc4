// RealSource's watch(), caching and no-hardware behaviour, with the port lister, the identify step
// and node-usb's `usb` emitter replaced by stand-ins (no hardware, no native events needed).
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {EventEmitter} from 'node:events';
import {describeDfuDevice, RealSource, sameDfuBoard} from '../source/devices/real-source.js';
import type {SerialPortEntry} from '../source/devices/serial-ports.js';
import type {Board, DfuBoard, FlightControllerInfo} from '../source/devices/types.js';

const dfuBoard = (id: string): DfuBoard => ({kind: 'dfu', id, vendorId: 0x0483, productId: 0xdf11, name: 'STM32 ROM bootloader', usbPath: '1-2', serialNumber: id});

/** Collects emitted lists; `next(pred)` waits for a list that satisfies pred. */
function recorder() {
	const lists: Board[][] = [];
	const waiters: {pred: (b: Board[]) => boolean; resolve: (b: Board[]) => void}[] = [];
	const onChange = (boards: Board[]) => {
		lists.push(boards);
		for (const w of [...waiters]) {
			if (w.pred(boards)) {
				waiters.splice(waiters.indexOf(w), 1);
				w.resolve(boards);
			}
		}
	};
	const next = (pred: (b: Board[]) => boolean, ms = 3000) =>
		new Promise<Board[]>((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error(`no matching list within ${ms} ms; got ${JSON.stringify(lists)}`)), ms);
			waiters.push({
				pred,
				resolve: (b) => {
					clearTimeout(timer);
					resolve(b);
				},
			});
		});
	return {lists, onChange, next};
}

function fakeSerial() {
	const ports: SerialPortEntry[] = [];
	let listCalls = 0;
	const identified: string[] = [];
	const fc: FlightControllerInfo = {variant: 'BTFL', version: '4.5.1', apiVersion: '1.46', board: 'S405', target: 'STM32F405'};
	return {
		ports,
		identified,
		get listCalls() {
			return listCalls;
		},
		options: {
			listPorts: async () => {
				listCalls++;
				return [...ports];
			},
			identify: async (port: {path: string}) => {
				identified.push(port.path);
				return fc;
			},
		},
	};
}

test('watch() emits when a serial port appears and disappears (polled)', async () => {
	const serial = fakeSerial();
	const source = new RealSource({listDfu: async () => [], usbEvents: null, serial: serial.options, pollMs: 30, debounceMs: 10});
	const rec = recorder();
	const unsubscribe = source.watch(rec.onChange);
	try {
		assert.deepEqual(await rec.next((b) => b.length === 0), []);
		serial.ports.push({path: '/dev/ttyACM0', vendorId: 0x0483, productId: 0x5740, serialNumber: 'FC1'});
		const withFc = await rec.next((b) => b.length === 1);
		assert.equal(withFc[0]!.kind, 'serial');
		assert.equal(withFc[0]!.kind === 'serial' && withFc[0]!.fc?.variant, 'BTFL');
		// A port that is not a flight controller or bridge changes nothing.
		serial.ports.push({path: '/dev/ttyACM1', vendorId: 0x12d1, productId: 0x1506});
		serial.ports.splice(0, 1);
		await rec.next((b) => b.length === 0);
		const emitted = rec.lists.length;
		await new Promise((r) => setTimeout(r, 150));
		assert.equal(rec.lists.length, emitted, 'no emission without a change');
	} finally {
		unsubscribe();
		await source.close();
	}
});

test('watch() follows libusb attach/detach for DFU boards and removes its listeners on unsubscribe', async () => {
	const usb = new EventEmitter();
	const dfu: DfuBoard[] = [];
	const serial = fakeSerial();
	const source = new RealSource({listDfu: async () => [...dfu], usbEvents: usb, serial: serial.options, pollMs: 10_000, debounceMs: 10});
	const rec = recorder();
	const unsubscribe = source.watch(rec.onChange);
	await rec.next((b) => b.length === 0);
	// The listeners are attached asynchronously (node-usb is imported lazily).
	for (let i = 0; i < 50 && usb.listenerCount('attach') === 0; i++) await new Promise((r) => setTimeout(r, 10));
	assert.equal(usb.listenerCount('attach'), 1);
	assert.equal(usb.listenerCount('detach'), 1);

	dfu.push(dfuBoard('DFU1'));
	const arrival = rec.next((b) => b.length === 1);
	usb.emit('attach', {});
	const attached = await arrival;
	assert.equal(attached[0]!.id, 'DFU1');
	assert.equal(attached[0]!.kind, 'dfu');

	// A second subscriber gets the current list at once.
	const second = recorder();
	const unsubscribe2 = source.watch(second.onChange);
	assert.equal(second.lists.length, 1);
	assert.equal(second.lists[0]![0]!.id, 'DFU1');

	dfu.length = 0;
	const gone = Promise.all([rec.next((b) => b.length === 0), second.next((b) => b.length === 0)]);
	usb.emit('detach', {});
	await gone;

	unsubscribe();
	assert.equal(usb.listenerCount('attach'), 1, 'still one subscriber');
	unsubscribe2();
	assert.equal(usb.listenerCount('attach'), 0, 'libusb hotplug listeners removed with the last subscriber');
	assert.equal(usb.listenerCount('detach'), 0);
	await source.close();
});

test('unsubscribing stops the serial poll', async () => {
	const serial = fakeSerial();
	const source = new RealSource({listDfu: async () => [], usbEvents: null, serial: serial.options, pollMs: 20});
	const rec = recorder();
	const unsubscribe = source.watch(rec.onChange);
	await rec.next(() => true);
	await new Promise((r) => setTimeout(r, 100));
	assert.ok(serial.listCalls >= 3, `polled ${serial.listCalls} times`);
	unsubscribe();
	const calls = serial.listCalls;
	await new Promise((r) => setTimeout(r, 100));
	assert.equal(serial.listCalls, calls);
	await source.close();
});

test('list() identifies each port once; a replugged port is asked again', async () => {
	const serial = fakeSerial();
	serial.ports.push({path: '/dev/ttyACM0', vendorId: 0x0483, productId: 0x5740, serialNumber: 'FC1'}, {path: '/dev/ttyUSB0', vendorId: 0x10c4, productId: 0xea60});
	const source = new RealSource({listDfu: async () => [dfuBoard('DFU9')], usbEvents: null, serial: serial.options});
	const [a, b] = await Promise.all([source.list(), source.list()]);
	assert.deepEqual(a, b);
	assert.deepEqual(
		a.map((x) => x.kind),
		['dfu', 'serial', 'serial'],
		'DFU boards first',
	);
	await source.list();
	assert.deepEqual(serial.identified.sort(), ['/dev/ttyACM0', '/dev/ttyUSB0']);

	const saved = serial.ports.splice(0, 1);
	await source.list();
	serial.ports.push(...saved);
	await source.list();
	assert.deepEqual(serial.identified.filter((p) => p === '/dev/ttyACM0').length, 2);

	// identify() asks again, rebootToDfu() goes through the reboot stand-in with what was learnt.
	const board = (await source.list()).find((x) => x.kind === 'serial' && x.port === '/dev/ttyACM0');
	assert.ok(board && board.kind === 'serial');
	assert.equal((await source.identify(board))?.variant, 'BTFL');
	assert.equal(serial.identified.filter((p) => p === '/dev/ttyACM0').length, 3);
	await source.close();
});

test('rebootToDfu hands the cached identity to the reboot and forgets the port', async () => {
	const serial = fakeSerial();
	serial.ports.push({path: '/dev/ttyACM0', vendorId: 0x0483, productId: 0x5740});
	const reboots: {path: string; fc?: FlightControllerInfo; baud?: number}[] = [];
	const source = new RealSource({
		listDfu: async () => [],
		usbEvents: null,
		serial: {...serial.options, reboot: async (port, o) => void reboots.push({path: port.path, fc: o.fc, baud: o.baud})},
	});
	const [board] = await source.list();
	assert.ok(board?.kind === 'serial');
	await source.rebootToDfu(board, {baud: 57600});
	assert.deepEqual(reboots, [{path: '/dev/ttyACM0', fc: board.fc, baud: 57600}]);
	await source.list();
	assert.equal(serial.identified.length, 2, 'identified again after the reboot');
	await source.close();
});

test('a RealSource with no hardware lists without crashing or hanging, and watch/close let the process exit', async () => {
	// Real node-usb and real serial listing (udevadm may be missing: sysfs fallback).
	const source = new RealSource({pollMs: 50});
	const started = performance.now();
	const boards = await source.list();
	assert.ok(Array.isArray(boards));
	assert.ok(performance.now() - started < 5000);
	const rec = recorder();
	const unsubscribe = source.watch(rec.onChange);
	await rec.next(() => true, 5000);
	unsubscribe();
	await source.close();
	// node:test would report a hang here if libusb's hotplug thread or a timer kept running.
});

test('a DFU board that could not be opened is listed again on the next poll (udev rule applied late)', async () => {
	let opens = 0;
	const source = new RealSource({
		serial: fakeSerial().options,
		// The first look fails as it does before udev applies the rule; the next one works.
		listDfu: async () => {
			opens++;
			const board = dfuBoard('PERM1');
			if (opens === 1) board.problem = {message: 'Permission denied opening the USB device (LIBUSB_ERROR_ACCESS).', hint: 'udev'};
			return [board];
		},
		usbEvents: null,
		pollMs: 30,
		debounceMs: 5,
	});
	const rec = recorder();
	const stop = source.watch(rec.onChange);
	try {
		await rec.next((b) => b.length === 1 && b[0]!.problem?.hint === 'udev');
		const healed = await rec.next((b) => b.length === 1 && !b[0]!.problem);
		assert.equal(healed[0]!.id, 'PERM1');
		assert.ok(opens >= 2);
	} finally {
		stop();
		await source.close();
	}
});

/** A node-usb Device stand-in whose string reads take `slowMs`: a transfer timeout below that loses them. */
function slowDevice(slowMs: number) {
	const strings: Record<number, string> = {3: '3276364A3030', 4: '@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg'};
	return {
		timeout: 1000,
		busNumber: 1,
		portNumbers: [2],
		deviceAddress: 5,
		interfaces: undefined,
		deviceDescriptor: {idVendor: 0x0483, idProduct: 0xdf11, bcdDevice: 0x2200, iSerialNumber: 3},
		configDescriptor: {interfaces: [[{bInterfaceClass: 0xfe, bAlternateSetting: 0, iInterface: 4}]]},
		open() {},
		close() {},
		getStringDescriptor(index: number, cb: (error?: Error, value?: string) => void) {
			if (this.timeout < slowMs) setImmediate(() => cb(new Error('LIBUSB_ERROR_TIMEOUT')));
			else setImmediate(() => cb(undefined, strings[index]));
		},
	};
}

test('a DFU board whose strings are slow (a loaded machine) keeps its serial number and layout: 5 s per transfer, as the peers', async () => {
	const board = await describeDfuDevice(slowDevice(1500) as unknown as Parameters<typeof describeDfuDevice>[0]);
	assert.equal(board.serialNumber, '3276364A3030');
	assert.equal(board.id, '3276364A3030');
	assert.equal(board.flashSize, 1024 * 1024);
});

test('sameDfuBoard: one board in two listings, one of which lost its serial number, is the same board; other ports or serials are not', () => {
	const full = dfuBoard('3276364A3030');
	const lost: DfuBoard = {...full, id: full.usbPath!, serialNumber: undefined};
	assert.equal(sameDfuBoard(lost, full), true);
	assert.equal(sameDfuBoard(full, lost), true);
	assert.equal(sameDfuBoard(full, {...full, usbPath: '1-3'}), false, 'another port');
	assert.equal(sameDfuBoard(full, {...full, id: '3276364A3031', serialNumber: '3276364A3031'}), false, 'another board on the same port (replugged)');
	assert.equal(sameDfuBoard(full, {...full, productId: 0xdf12}), false);
});
