// Real libusb programs against the emulated bootloader, served through umockdev by
// scripts/with-emulated-usb (test/usb-harness/): dfu-util lists, downloads and uploads; node-usb 2.x
// sees the board plugged in and out at run time. Skipped only when umockdev or dfu-util is missing
// (CI installs: umockdev libumockdev0 gir1.2-umockdev-1.0 python3-gi dfu-util).

import assert from 'node:assert/strict';
import {randomBytes} from 'node:crypto';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {test} from 'node:test';
import {describe, repo, runHarness, skipReason} from './helpers/usb-harness.js';
import {profiles} from '../source/emulator/profiles.js';


test('dfu-util -l lists the emulated STM32F405 with its alt-setting layouts', {skip: skipReason, timeout: 60_000}, async () => {
	const result = await runHarness(['--profile', 'stm32f405'], ['dfu-util', '-l']);
	assert.equal(result.code, 0, describe(result));
	const found = result.stdout.split('\n').filter((line) => line.startsWith('Found DFU: [0483:df11]'));
	const layouts = profiles.stm32f405.layouts;
	assert.equal(found.length, layouts.length, describe(result));
	layouts.forEach((layout, alt) => {
		assert.ok(
			found.some((line) => line.includes(`alt=${alt}, name="${layout}"`)),
			`alt ${alt} ${JSON.stringify(layout)} not listed\n${describe(result)}`,
		);
	});
	assert.ok(found.every((line) => line.includes(`serial="${profiles.stm32f405.serialNumber}"`)), describe(result));
});

test('dfu-util downloads an image into the emulator and uploads it back', {skip: skipReason, timeout: 120_000}, async () => {
	const dir = mkdtempSync(join(tmpdir(), 'usb-dfu-util-'));
	try {
		// 100 KiB + an odd tail: four 16 KiB sectors and part of the 64 KiB one, a short last block.
		const image = randomBytes(100 * 1024 + 1234);
		const imagePath = join(dir, 'img.bin');
		const uploadPath = join(dir, 'up.bin');
		const flashOut = join(dir, 'flash-out.bin');
		writeFileSync(imagePath, image);
		const script = [
			`dfu-util -a 0 -s 0x08000000 -D ${JSON.stringify(imagePath)}`,
			`dfu-util -a 0 -s 0x08000000:${image.length} -U ${JSON.stringify(uploadPath)}`,
		].join(' && ');
		// A small time scale keeps the run short while still exercising dfuDNBUSY polling on erase.
		const result = await runHarness(['--profile', 'stm32f405', '--time-scale', '0.05', '--flash-out', flashOut], ['/bin/sh', '-c', script]);
		assert.equal(result.code, 0, describe(result));
		assert.match(result.stdout, /File downloaded successfully/, describe(result));

		const uploaded = readFileSync(uploadPath);
		assert.equal(uploaded.length, image.length);
		assert.ok(uploaded.equals(image), 'uploaded bytes differ from the downloaded image');

		const flash = readFileSync(flashOut);
		assert.equal(flash.length, 1024 * 1024, 'STM32F405 main flash is 1 MiB');
		assert.ok(flash.subarray(0, image.length).equals(image), 'emulator flash differs from the image');
		assert.ok(flash.subarray(image.length).every((byte) => byte === 0xff), 'flash past the image is not erased (0xFF)');
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});

// Runs under the harness: plugs the board in and out through $EMULATED_USB_CONTROL and reports what
// node-usb 2.x saw, one JSON line per step.
const HOTPLUG_CLIENT = `
import {appendFileSync} from 'node:fs';
import {createRequire} from 'node:module';
const require = createRequire(process.argv[2]);
const {usb, getDeviceList} = require('usb');
const isDfu = (d) => d.deviceDescriptor.idVendor === 0x0483 && d.deviceDescriptor.idProduct === 0xdf11;
const report = (step, extra = {}) => console.log(JSON.stringify({step, listed: getDeviceList().filter(isDfu).length, ...extra}));
const next = (event) => new Promise((resolve, reject) => {
	const timer = setTimeout(() => reject(new Error('no ' + event + ' event within 10 s')), 10000);
	usb.once(event, (device) => { clearTimeout(timer); resolve(device); });
});
const control = (line) => appendFileSync(process.env.EMULATED_USB_CONTROL, line + '\\n');
try {
	report('start');
	const attached = next('attach');
	// The first listener starts libusb's hotplug monitor on its own thread; a uevent sent before it
	// listens is lost (a real board plugged in that early would be found by getDeviceList instead).
	await new Promise((r) => setTimeout(r, 500));
	control('add');
	const device = await attached;
	report('attach', {dfu: isDfu(device), bus: device.busNumber, address: device.deviceAddress});
	// As with a real board, give enumeration (udev) a moment before opening it.
	await new Promise((r) => setTimeout(r, 200));
	device.open();
	const product = await new Promise((resolve, reject) =>
		device.getStringDescriptor(device.deviceDescriptor.iProduct, (error, text) => (error ? reject(error) : resolve(text))));
	device.close();
	report('opened', {product});
	const detached = next('detach');
	control('remove');
	const gone = await detached;
	report('detach', {dfu: isDfu(gone), bus: gone.busNumber, address: gone.deviceAddress});
	process.exit(0);
} catch (error) {
	console.log(JSON.stringify({step: 'error', message: String(error && error.stack || error)}));
	process.exit(1);
}
`;

test('node-usb 2.x sees the emulated board plugged in and removed at run time', {skip: skipReason, timeout: 60_000}, async () => {
	assert.ok(repo);
	const dir = mkdtempSync(join(tmpdir(), 'usb-hotplug-'));
	try {
		const client = join(dir, 'hotplug-client.mjs');
		writeFileSync(client, HOTPLUG_CLIENT);
		const result = await runHarness(['--profile', 'stm32f405', '--start-unplugged'], [process.execPath, client, resolve(repo, 'package.json')]);
		assert.equal(result.code, 0, describe(result));
		const steps = result.stdout
			.split('\n')
			.filter((line) => line.startsWith('{'))
			.map((line) => JSON.parse(line) as {step: string; listed: number; dfu?: boolean; product?: string});
		assert.deepEqual(
			steps.map((s) => s.step),
			['start', 'attach', 'opened', 'detach'],
			describe(result),
		);
		const [start, attach, opened, detach] = steps;
		assert.equal(start?.listed, 0, 'listed before it was plugged in');
		assert.equal(attach?.dfu, true);
		assert.equal(attach?.listed, 1, 'not in getDeviceList() after attach');
		assert.equal(opened?.product, profiles.stm32f405.product);
		assert.equal(detach?.dfu, true);
		assert.equal(detach?.listed, 0, 'still in getDeviceList() after detach');
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});
