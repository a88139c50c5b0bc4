// Run by u-sitl-flash-upgrade.test.ts inside fc-sitl (FC_PORT is the firmware's port) inside the
// umockdev harness: tune Betaflight 4.5.6, run `fcflash-tui flash --device $FC_PORT` as a pilot
// would, then read the settings back from whatever firmware runs afterwards. Prints one JSON line.
import {spawn} from 'node:child_process';
import {existsSync} from 'node:fs';
import {CliSession} from '../../source/devices/fc-cli.js';
import {identifyLink} from '../../source/devices/fc-identify.js';
import {openSerial} from '../../source/devices/serial-link.js';
import {sleep} from '../../source/sleep.js';

const [cli, image, ...settings] = process.argv.slice(2);
const port = process.env.FC_PORT!;

async function session(): Promise<CliSession> {
	for (let i = 0; !existsSync(port); i++) {
		if (i > 150) throw new Error(`${port} did not come back`);
		await sleep(100);
	}
	await sleep(300);
	return CliSession.enter(await openSerial(port), {promptTimeoutMs: 5000});
}

async function gone() {
	for (let i = 0; existsSync(port) && i < 100; i++) await sleep(100);
}

const names = settings.filter((l) => l.startsWith('set ')).map((l) => l.slice(4).split('=')[0]!.trim());

// 1. A tuned quad on 4.5.6.
let s = await session();
for (const line of settings) await s.run(line);
await s.save();
await s.link.close();
await gone();
for (let i = 0; !existsSync(port) && i < 150; i++) await sleep(100);
await sleep(500);

// 2. The flash, as a pilot runs it.
const flash = await new Promise<{code: number | null; stdout: string; stderr: string}>((resolve) => {
	const child = spawn(process.execPath, [cli!, 'flash', image!, '--device', port, '--yes', '--json'], {stdio: ['ignore', 'pipe', 'pipe']});
	let stdout = '';
	let stderr = '';
	child.stdout.on('data', (d) => (stdout += d));
	child.stderr.on('data', (d) => (stderr += d));
	child.on('exit', (code) => resolve({code, stdout, stderr}));
});

// 3. What the board runs and holds now. A board that does not come back still reports what the
// flasher printed, so a failure names its cause.
try {
	s = await session();
} catch (error) {
	process.stdout.write(JSON.stringify({flash, error: String(error)}) + '\n');
	process.exit(1);
}
const values: Record<string, string | undefined> = {};
for (const n of names) values[n] = await s.get(n);
await s.exit();
await s.link.close();
await gone();
const link = await (async () => {
	for (let i = 0; !existsSync(port) && i < 150; i++) await sleep(100);
	await sleep(300);
	return openSerial(port);
})();
// The firmware's port appears when its TCP socket accepts, a moment before MSP answers on a busy
// machine: ask again for a few seconds.
let running = await identifyLink(link);
for (let i = 0; !running && i < 10; i++) {
	await sleep(500);
	running = await identifyLink(link);
}
await link.close();
process.stdout.write(JSON.stringify({flash, values, running}) + '\n');
