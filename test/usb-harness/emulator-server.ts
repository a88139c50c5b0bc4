// Node side of the umockdev USB harness (test/usb-harness/umockdev_usb.py, run through
// scripts/with-emulated-usb).
//
// Runs one EmulatedBootloader and answers the shim's requests on stdin/stdout with a small
// length-prefixed binary protocol, so every USB request a real libusb program makes (dfu-util,
// node-usb) reaches the emulator. Anything the emulator prints goes to stderr.
//
// Frame (both directions): u32 LE body length, then the body. A request body starts with an op byte:
//   'I'  -> JSON {name, chip, vendorId, productId, bcdDevice, manufacturer, product, serialNumber,
//           descriptors (hex of descriptorBlob: the sysfs `descriptors` file)}
//   'C' bmRequestType u8, bRequest u8, wValue u16, wIndex u16, wLength u16, OUT data...
//        -> reply byte, [reason length u8, reason], IN data...
//   'A' interface u16, alternate u16 (USBDEVFS_SETINTERFACE: a standard SET_INTERFACE request,
//        which is what reaches setAlternate(), counted like any other request) -> reply byte
//   'G' configuration u16 (USBDEVFS_SETCONFIGURATION: a standard SET_CONFIGURATION) -> reply byte
//   'K' interface u16: a host claims the interface (USBDEVFS_CLAIMINTERFACE) -> 0, or 1 when another
//        program holds it (the claimBusy fault: the shim should then fail the ioctl with EBUSY)
//   'O'  a host opened the device node (beginSession) -> 0
//   'U'  unplugged (disconnect('unplug')) -> 0
//   'N'  plugged in again (reset(): fresh DFU state, same flash) -> 0
//   'S'  save the flash to --flash-out now -> 0 or 1
//   'Q'  save the flash and exit -> 0 or 1
// A reply byte holds the ControlResult status in its low bits (0 ok, 1 stall, 2 disconnected) and
// 0x80 when the device left the bus while answering (leave, unprotect, injected fault); the reason
// ('leave', 'unprotect', 'fault') follows as a length-prefixed string before any IN data.
// EOF on stdin, SIGTERM and SIGINT also save the flash and exit.
//
// With a time scale above 0 every control reply is held back for its data stage at USB full speed
// (source/emulator/bus.ts), so reading the flash back costs what it costs on a board.
// FCFLASH_EMULATOR_STATS=FILE: at exit, write the emulator's counters (requests, data DNLOADs,
// erases, uploads, device time...) to FILE as JSON, for the benchmark.
//
// Usage: node emulator-server.js --serve [--profile stm32f405] [--time-scale S] [--flash-in F]
//        [--flash-out F] [--faults JSON] [--serial S]
//
// `npm test` runs every .js under build/test/ as a test file, this one included: without --serve
// (which only the shim passes) it exits at once instead of waiting on stdin forever.

import {readFileSync, writeFileSync} from 'node:fs';
import {parseArgs} from 'node:util';
import {EmulatedBootloader, type DisconnectReason} from '../../source/emulator/bootloader.js';
import {BusClock} from '../../source/emulator/bus.js';
import {isProfileName, profileNames, profiles} from '../../source/emulator/profiles.js';
import type {ControlResult, ControlSetup, EmulatorOptions, Faults} from '../../source/emulator/types.js';

if (!process.argv.includes('--serve')) {
	if (process.stdin.isTTY) process.stderr.write('emulator-server: run by test/usb-harness/umockdev_usb.py (see scripts/with-emulated-usb)\n');
	process.exit(0);
}

// The protocol owns stdout: send every console method that prints there to stderr instead.
console.log = console.error;
console.info = console.error;
console.debug = console.error;

function fail(message: string): never {
	process.stderr.write(`emulator-server: ${message}\n`);
	process.exit(2);
}

let values: {profile?: string; 'time-scale'?: string; 'flash-in'?: string; 'flash-out'?: string; faults?: string; serial?: string};
try {
	values = parseArgs({
		options: {
			serve: {type: 'boolean'},
			profile: {type: 'string', default: 'stm32f405'},
			'time-scale': {type: 'string', default: '0'},
			'flash-in': {type: 'string'},
			'flash-out': {type: 'string'},
			faults: {type: 'string'},
			serial: {type: 'string'},
		},
		strict: true,
	}).values;
} catch (error) {
	fail((error as Error).message);
}

const profileName = values.profile ?? 'stm32f405';
if (!isProfileName(profileName)) fail(`unknown profile ${profileName} (one of ${profileNames.join(', ')})`);
const profile = profiles[profileName];

const options: EmulatorOptions = {timeScale: Number(values['time-scale'])};
if (!(options.timeScale! >= 0)) fail(`bad --time-scale ${values['time-scale']}`);
if (values.serial) options.serialNumber = values.serial;
if (values.faults) {
	try {
		options.faults = JSON.parse(values.faults) as Faults;
	} catch (error) {
		fail(`bad --faults JSON: ${(error as Error).message}`);
	}
}
if (values['flash-in']) {
	try {
		options.flash = new Uint8Array(readFileSync(values['flash-in']));
	} catch (error) {
		fail(`cannot read --flash-in: ${(error as Error).message}`);
	}
}

let bootloader: EmulatedBootloader;
try {
	bootloader = new EmulatedBootloader(profile, options);
} catch (error) {
	fail((error as Error).message);
}

/** Set when the device leaves the bus on its own while answering a request. */
let vanished: DisconnectReason | undefined;
bootloader.on('disconnect', (reason) => {
	if (reason !== 'unplug') vanished = reason;
});
bootloader.on('reset-to-app', (address) => {
	process.stderr.write(`emulator-server: left DFU, application at 0x${address.toString(16).padStart(8, '0')}\n`);
});

const bus = new BusClock(bootloader.timeScale);

function saveStats(): void {
	const path = process.env.FCFLASH_EMULATOR_STATS;
	if (!path) return;
	try {
		writeFileSync(path, JSON.stringify(bootloader.stats));
	} catch (error) {
		process.stderr.write(`emulator-server: cannot write stats to ${path}: ${(error as Error).message}\n`);
	}
}

function saveFlash(): boolean {
	saveStats();
	const out = values['flash-out'];
	if (!out) return true;
	try {
		writeFileSync(out, bootloader.flash);
		return true;
	} catch (error) {
		process.stderr.write(`emulator-server: cannot save flash to ${out}: ${(error as Error).message}\n`);
		return false;
	}
}

let exiting = false;
function shutdown(): void {
	if (exiting) return;
	exiting = true;
	process.exit(saveFlash() ? 0 : 1);
}

const STATUS: Record<ControlResult['status'], number> = {ok: 0, stall: 1, disconnected: 2};

function frame(body: Uint8Array): void {
	const out = Buffer.allocUnsafe(4 + body.length);
	out.writeUInt32LE(body.length, 0);
	out.set(body, 4);
	process.stdout.write(out);
}

async function runControl(setup: ControlSetup, data?: Uint8Array): Promise<void> {
	vanished = undefined;
	let result: ControlResult;
	try {
		result = bootloader.control(setup, data);
	} catch (error) {
		process.stderr.write(`emulator-server: control() threw: ${(error as Error).stack ?? String(error)}\n`);
		result = {status: 'stall'};
	}
	const payload = result.status === 'ok' && result.data ? result.data.subarray(0, setup.length) : new Uint8Array(0);
	const reason = vanished ? Buffer.from(vanished) : undefined;
	const reply = Buffer.allocUnsafe(1 + (reason ? 1 + reason.length : 0) + payload.length);
	reply[0] = STATUS[result.status] | (reason ? 0x80 : 0);
	let offset = 1;
	if (reason) {
		reply[offset++] = reason.length;
		reply.set(reason, offset);
		offset += reason.length;
	}
	reply.set(payload, offset);
	await bus.charge(payload.length + (data?.length ?? 0));
	frame(reply);
}

async function handle(body: Buffer): Promise<void> {
	const op = String.fromCharCode(body[0] ?? 0);
	switch (op) {
		case 'I':
			frame(
				Buffer.from(
					JSON.stringify({
						name: profile.name,
						chip: profile.chip,
						vendorId: profile.vendorId,
						productId: profile.productId,
						bcdDevice: profile.bcdDevice,
						manufacturer: profile.manufacturer,
						product: profile.product,
						serialNumber: bootloader.serialNumber,
						descriptors: Buffer.from(bootloader.descriptorBlob()).toString('hex'),
					}),
				),
			);
			return;
		case 'C': {
			const setup: ControlSetup = {
				requestType: body.readUInt8(1),
				request: body.readUInt8(2),
				value: body.readUInt16LE(3),
				index: body.readUInt16LE(5),
				length: body.readUInt16LE(7),
			};
			await runControl(setup, (setup.requestType & 0x80) === 0 ? body.subarray(9) : undefined);
			return;
		}
		case 'A':
			await runControl({requestType: 0x01, request: 11, value: body.readUInt16LE(3), index: body.readUInt16LE(1), length: 0});
			return;
		case 'G':
			await runControl({requestType: 0x00, request: 9, value: body.readUInt16LE(1), index: 0, length: 0});
			return;
		case 'K':
			frame(Uint8Array.of(bootloader.claimBusy ? 1 : 0));
			return;
		case 'O':
			bootloader.beginSession();
			frame(Uint8Array.of(0));
			return;
		case 'U':
			bootloader.disconnect('unplug');
			frame(Uint8Array.of(0));
			return;
		case 'N':
			bootloader.reset();
			frame(Uint8Array.of(0));
			return;
		case 'S':
			frame(Uint8Array.of(saveFlash() ? 0 : 1));
			return;
		case 'Q': {
			exiting = true;
			const ok = saveFlash();
			frame(Uint8Array.of(ok ? 0 : 1));
			process.exit(ok ? 0 : 1);
		}
		default:
			process.stderr.write(`emulator-server: unknown op ${JSON.stringify(op)}\n`);
			frame(Uint8Array.of(1));
	}
}

let pending: Buffer = Buffer.alloc(0);
/** Requests are answered one at a time, in order, even when a reply waits for the bus. */
let queue: Promise<void> = Promise.resolve();
process.stdin.on('data', (chunk: Buffer) => {
	pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
	while (pending.length >= 4) {
		const length = pending.readUInt32LE(0);
		if (pending.length < 4 + length) break;
		const body = Buffer.from(pending.subarray(4, 4 + length));
		pending = pending.subarray(4 + length);
		queue = queue.then(() => handle(body));
	}
});
process.stdin.on('end', () => void queue.then(shutdown));
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
