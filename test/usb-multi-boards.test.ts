// Several emulated boards on one umockdev harness run (scripts/with-emulated-usb --board ...), all on
// the real libusb path, for flash on connect (#11): distinct serials and USB paths, plug and unplug
// per board at run time, concurrent flashes, one board pulled out mid-flash, one of another chip.
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {appendFileSync, existsSync, readFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {test} from 'node:test';
import {betaflightLikeImage, toIntelHex} from '../scripts/synthetic-firmware.js';
import {profiles} from '../source/emulator/profiles.js';
import {killGroup} from './helpers/signal.js';
import {tempFiles} from './helpers/temp-files.js';
import {describe, harness, repo, runHarness, serverJs, skipReason} from './helpers/usb-harness.js';

const cli = join(repo ?? '', 'dist', 'cli.js');
const files = tempFiles('usb-multi-');
const f405 = profiles.stm32f405.serialNumber;
// The harness gives a second board of the same profile the serial number plus one.
const f405b = (parseInt(f405, 16) + 1).toString(16).toUpperCase().padStart(f405.length, '0');
const f411 = profiles.stm32f411.serialNumber;

const waitFor = async (what: string, predicate: () => boolean, context: () => string, ms = 20_000) => {
	const deadline = Date.now() + ms;
	while (!predicate()) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${context()}`);
		await new Promise((r) => setTimeout(r, 50));
	}
};

/** The harness in the background; its command writes the control FIFO's path to a file first. */
function startHarness(name: string, harnessArgs: string[], command: string[], env: NodeJS.ProcessEnv = process.env) {
	const controlNote = join(files.dir, `${name}.control`);
	const wrapper = `printf '%s' "$EMULATED_USB_CONTROL" > '${controlNote}'; printf '%s' "$EMULATED_USB_STATUS" > '${controlNote}.status'; exec "$@"`;
	// Its own process group, so that stop() also ends what the command left running.
	const child = spawn(harness, ['--server', serverJs, '--node', process.execPath, ...harnessArgs, '--', '/bin/sh', '-c', wrapper, 'sh', ...command], {
		stdio: ['ignore', 'pipe', 'pipe'],
		env,
		detached: true,
	});
	const out = {stdout: '', stderr: ''};
	child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out.stdout += chunk));
	child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out.stderr += chunk));
	const exited = new Promise<number | null>((r) => child.on('close', r));
	const ready = () => existsSync(controlNote) && existsSync(`${controlNote}.status`);
	return {
		child,
		out,
		exited,
		ready: () => waitFor('the harness to start its command', ready, () => out.stderr),
		control: (lines: string) => appendFileSync(readFileSync(controlNote, 'utf8'), lines),
		status: () => readFileSync(readFileSync(`${controlNote}.status`, 'utf8'), 'utf8'),
		/** SIGTERM to the whole group (the harness forwards it), SIGKILL to what is left after 3 s. */
		stop: async () => {
			if (child.exitCode !== null || child.signalCode !== null) return;
			killGroup(child.pid!, 'SIGTERM');
			const timer = setTimeout(() => killGroup(child.pid!, 'SIGKILL'), 3000);
			await exited;
			clearTimeout(timer);
			killGroup(child.pid!, 'SIGKILL');
		},
	};
}

// umockdev's preload names each process's emulated netlink (uevent) socket after its fd number
// ($UMOCKDEV_DIR/event<fd>), so two copies of one program started together take the same name:
// one loses its uevents, or its libusb_init fails (LIBUSB_ERROR_OTHER). Three more open fds give
// the second copy other numbers. (A limitation of umockdev, not of the boards: flash on connect
// is one process watching them all.)
const shiftFds = '3</dev/null 4</dev/null 5</dev/null';

// Runs under the harness: what node-usb 2.x (libusb) sees of each board.
const LIST_CLIENT = `
import {createRequire} from 'node:module';
const require = createRequire(process.argv[2]);
const {getDeviceList} = require('usb');
const dfu = getDeviceList().filter((d) => d.deviceDescriptor.idVendor === 0x0483 && d.deviceDescriptor.idProduct === 0xdf11);
const out = [];
for (const d of dfu) {
	d.open();
	const serial = await new Promise((resolve, reject) =>
		d.getStringDescriptor(d.deviceDescriptor.iSerialNumber, (error, text) => (error ? reject(error) : resolve(text))));
	d.close();
	out.push({bus: d.busNumber, address: d.deviceAddress, ports: d.portNumbers, serial});
}
console.log(JSON.stringify(out));
`;

test('dfu-util and node-usb see two boards with distinct serial numbers and USB paths', {skip: skipReason, timeout: 60_000}, async () => {
	const client = files.write('list-client.mjs', LIST_CLIENT);
	const run = await runHarness(
		['--board', 'profile=stm32f405', '--board', 'profile=stm32f405', '--board', 'profile=stm32f411,bus=2,port=4'],
		['/bin/sh', '-c', `cat "$EMULATED_USB_STATUS"; dfu-util -l; '${process.execPath}' '${client}' '${resolve(repo!, 'package.json')}'`],
	);
	assert.equal(run.code, 0, describe(run));
	const status = run.stdout.split('\n').filter((l) => /^(present|absent) /.test(l));
	assert.deepEqual(status, [
		`present 1 5 board=1 path=1-1 serial=${f405} profile=stm32f405`,
		`present 1 6 board=2 path=1-2 serial=${f405b} profile=stm32f405`,
		`present 2 5 board=3 path=2-4 serial=${f411} profile=stm32f411`,
	]);
	const alt0 = run.stdout.split('\n').filter((l) => l.startsWith('Found DFU: [0483:df11]') && l.includes('alt=0,'));
	const seen = alt0.map((l) => [/path="([^"]+)"/.exec(l)?.[1], /serial="([^"]+)"/.exec(l)?.[1]]).sort();
	assert.deepEqual(seen, [['1-1', f405], ['1-2', f405b], ['2-4', f411]], describe(run));
	const usb = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Array<{bus: number; address: number; ports: number[]; serial: string}>;
	assert.deepEqual(
		usb.map((d) => [d.bus, d.ports, d.serial]).sort(),
		[[1, [1], f405], [1, [2], f405b], [2, [4], f411]],
		describe(run),
	);
});

test('list --watch --json follows each board plugged in and pulled out on its own', {skip: skipReason, timeout: 90_000}, async () => {
	const h = startHarness(
		'watch',
		['--start-unplugged', '--board', 'profile=stm32f405', '--board', 'profile=stm32f405', '--board', 'profile=stm32f411'],
		[process.execPath, cli, 'list', '--watch', '--json'],
	);
	type Event = {event: string; board?: {kind: string; serialNumber?: string; usbPath?: string; chip?: string}};
	const events = (): Event[] => h.out.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Event);
	const context = () => `events: ${JSON.stringify(events())}\nstderr: ${h.out.stderr}`;
	const count = (event: string, serial: string) => events().filter((e) => e.event === event && e.board?.serialNumber === serial).length;
	try {
		await h.ready();
		assert.match(h.status(), /^absent board=1 .*\nabsent board=2 .*\nabsent board=3 /);
		// libusb's hotplug monitor starts with the first listener; a uevent before it is lost.
		await new Promise((r) => setTimeout(r, 1500));
		assert.equal(events().filter((e) => e.event === 'attach').length, 0, context());

		// One after another, then two at once.
		h.control('add\n');
		await waitFor('board 1 to attach', () => count('attach', f405) === 1, context);
		h.control('add 2\nadd 3\n');
		await waitFor('boards 2 and 3 to attach', () => count('attach', f405b) === 1 && count('attach', f411) === 1, context);
		const attach = (serial: string) => events().find((e) => e.event === 'attach' && e.board?.serialNumber === serial)!.board!;
		assert.equal(attach(f405).usbPath, '1-1');
		assert.equal(attach(f405b).usbPath, '1-2');
		assert.equal(attach(f411).usbPath, '1-3');
		assert.match(attach(f411).chip ?? '', /512 KiB/);
		assert.match(h.status(), /^present 1 \d+ board=1 .*\npresent 1 \d+ board=2 .*\npresent 1 \d+ board=3 /);

		h.control('remove 2\n');
		await waitFor('board 2 to detach', () => count('detach', f405b) === 1, context);
		h.control('replug 3 300\n');
		await waitFor('board 3 to come back', () => count('detach', f411) === 1 && count('attach', f411) === 2, context);
		// Board 1 sat through all of it.
		assert.equal(count('detach', f405), 0, context());
		assert.match(h.status(), /^present 1 \d+ board=1 .*\nabsent board=2 .*\npresent 1 \d+ board=3 /);

		h.child.kill('SIGINT');
		assert.equal(await h.exited, 0, context());
		assert.equal(events().at(-1)!.event, 'result');
	} finally {
		await h.stop();
	}
});

test('two concurrent dfu-util -D on two boards: each board holds its own image', {skip: skipReason, timeout: 90_000}, async () => {
	// 100 KiB and a ragged tail: four 16 KiB sectors and part of the 64 KiB one, a short last block.
	const images = [randomBytes(100 * 1024 + 1234), randomBytes(90 * 1024 + 321)];
	const paths = images.map((image, i) => files.write(`dfu-${i + 1}.bin`, image));
	const outs = [1, 2].map((i) => join(files.dir, `dfu-out-${i}.bin`));
	const times = join(files.dir, 'dfu-times');
	// Each dfu-util notes when it started and ended, so the test can tell that they overlapped.
	const one = (i: number, select: string) =>
		`(echo "start ${i} $(date +%s%N)" >> '${times}'; dfu-util ${select} -a 0 -s 0x08000000 -D '${paths[i - 1]}'; r=$?; echo "end ${i} $(date +%s%N)" >> '${times}'; exit $r)`;
	const script = `${one(1, '-p 1-1')} & a=$!; ${one(2, `-S ${f405b}`)} ${shiftFds} & b=$!; wait $a; ra=$?; wait $b; rb=$?; echo "rc $ra $rb"; [ $ra -eq 0 ] && [ $rb -eq 0 ]`;
	// A small time scale makes each download take long enough to overlap, with DNBUSY polling on erase.
	const run = await runHarness(
		['--time-scale', '0.1', '--board', `profile=stm32f405,flash-out=${outs[0]}`, '--board', `profile=stm32f405,flash-out=${outs[1]}`],
		['/bin/sh', '-c', script],
		80_000,
	);
	assert.equal(run.code, 0, describe(run));
	assert.equal(run.stdout.match(/File downloaded successfully/g)?.length, 2, describe(run));
	images.forEach((image, i) => {
		const flash = readFileSync(outs[i]!);
		assert.equal(flash.length, 1024 * 1024);
		assert.ok(flash.subarray(0, image.length).equals(image), `board ${i + 1} does not hold its image`);
		assert.ok(flash.subarray(image.length).every((b) => b === 0xff), `board ${i + 1}: flash past the image is not erased`);
	});
	const t = Object.fromEntries(readFileSync(times, 'utf8').trim().split('\n').map((l) => {
		const [what, i, ns] = l.split(' ');
		return [`${what}${i}`, BigInt(ns!)];
	}));
	assert.ok(t.start1! < t.end2! && t.start2! < t.end1!, `the two downloads did not overlap: ${JSON.stringify(t, (_, v) => String(v))}`);
});

test('one of two boards pulled out mid-flash: its flash fails, the other board finishes', {skip: skipReason, timeout: 120_000}, async () => {
	const images = [betaflightLikeImage({seed: 11}), betaflightLikeImage({seed: 12})];
	const hex = images.map((segments, i) => files.write(`bf-${i + 1}.hex`, toIntelHex(segments)));
	const outs = [1, 2].map((i) => join(files.dir, `cli-out-${i}.bin`));
	const json = [1, 2].map((i) => join(files.dir, `cli-${i}.json`));
	const rcs = [1, 2].map((i) => join(files.dir, `cli-${i}.rc`));
	const flash = (i: number, device: string) =>
		`('${process.execPath}' '${cli}' flash '${hex[i - 1]}' --device ${device} --yes --json > '${json[i - 1]}'; echo $? > '${rcs[i - 1]}')`;
	const script = `${flash(1, f405)} & ${flash(2, '1-2')} ${shiftFds} & wait`;
	// ROM timing x0.2: each flash takes a few seconds, so board 1 can be pulled out while it writes.
	const h = startHarness(
		'pull',
		['--time-scale', '0.2', '--board', `profile=stm32f405,flash-out=${outs[0]}`, '--board', `profile=stm32f405,flash-out=${outs[1]}`],
		['/bin/sh', '-c', script],
	);
	const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');
	const events = (i: number) => read(json[i]!).split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
	const context = () => `board 1: ${read(json[0]!)}\nboard 2: ${read(json[1]!)}\nstderr: ${h.out.stderr}`;
	try {
		await h.ready();
		await waitFor(
			'board 1 to be writing',
			() => events(0).some((e) => e.event === 'progress' && e.phase === 'write' && e.done > 0 && e.done < e.total),
			context,
			60_000,
		);
		h.control('remove 1\n');
		assert.equal(await h.exited, 0, context());
	} finally {
		await h.stop();
	}
	assert.equal(read(rcs[0]!).trim(), '1', context());
	const failed = events(0).at(-1);
	assert.equal(failed.ok, false, context());
	assert.equal(failed.error.code, 1);
	assert.match(failed.error.message, /disconnected/i);

	assert.equal(read(rcs[1]!).trim(), '0', context());
	const done = events(1).at(-1);
	assert.equal(done.ok, true, context());
	assert.equal(done.verified, true);
	const base = 0x0800_0000;
	const flash2 = readFileSync(outs[1]!);
	for (const s of images[1]!) assert.ok(flash2.subarray(s.address - base, s.address - base + s.data.length).equals(Buffer.from(s.data)), 'board 2 does not hold its image');
	// Board 1 kept what it got before it was pulled: part of its image, not all of it.
	const flash1 = readFileSync(outs[0]!);
	const code = images[0]![1]!;
	assert.ok(!flash1.subarray(code.address - base, code.address - base + code.data.length).equals(Buffer.from(code.data)), 'board 1 holds its whole image');
});

test('an image for another chip: refused on that board (exit 2, flash untouched), flashed on the right one', {skip: skipReason, timeout: 90_000}, async () => {
	const hex = files.write('bf-f405.hex', toIntelHex(betaflightLikeImage({seed: 21})));
	const outs = [1, 2].map((i) => join(files.dir, `target-out-${i}.bin`));
	const wrongIn = files.write('target-in-2.bin', Buffer.alloc(512 * 1024, 0x5a));
	const script = `'${process.execPath}' '${cli}' flash '${hex}' --device 1-2 --yes --json; echo "rc $?"; '${process.execPath}' '${cli}' flash '${hex}' --device 1-1 --yes --json; echo "rc $?"`;
	const run = await runHarness(
		['--board', `profile=stm32f405,flash-out=${outs[0]}`, '--board', `profile=stm32f411,flash-in=${wrongIn},flash-out=${outs[1]}`],
		['/bin/sh', '-c', script],
		80_000,
	);
	assert.equal(run.code, 0, describe(run));
	const results = run.stdout.split('\n').filter((l) => l.includes('"event":"result"')).map((l) => JSON.parse(l));
	assert.deepEqual(run.stdout.match(/^rc \d+$/gm), ['rc 2', 'rc 0'], describe(run));
	assert.equal(results[0].ok, false);
	assert.equal(results[0].error.code, 2);
	assert.equal(results[1].ok, true);
	assert.ok(readFileSync(outs[1]!).every((b) => b === 0x5a), 'the F411 was written to');
});
