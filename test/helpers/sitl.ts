// Real Betaflight for the tests: ../shared/betaflight-sitl/fc-sitl runs a SITL build of the firmware
// on a pseudo terminal that vanishes when it reboots and comes back a second later, like a USB
// flight controller. One instance per machine (fixed TCP ports), so only u-sitl-*.test.ts use it,
// and the test script runs those one at a time. Also: CLI transcripts, recorded the same way from
// the real firmware and from the emulation so the two can be compared.
import {spawn, type ChildProcess} from 'node:child_process';
import {existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync} from 'node:fs';
import {connect} from 'node:net';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {CliSession} from '../../source/devices/fc-cli.js';
import {MspCommand, mspRequest} from '../../source/devices/msp.js';
import {openSerial, type Link, type SerialLink} from '../../source/devices/serial-link.js';
import {sleep} from '../../source/sleep.js';
import {killGroup, signalIfAlive} from './signal.js';
import {hasTool} from './tools.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

/** Where fc-sitl is: next to the repository (../shared), or the shared folder of this machine. */
export function sitlDir(): string | undefined {
	return [resolve(repo, '..', 'shared', 'betaflight-sitl'), '/work/shared/betaflight-sitl'].find((d) => existsSync(join(d, 'fc-sitl')));
}

/** The environment fc-sitl runs in: its socat comes a moment late (see helpers/sitl-bin/socat). */
export function sitlEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
	return {...env, PATH: `${join(repo, 'test', 'helpers', 'sitl-bin')}:${env.PATH ?? ''}`};
}

/** false when the SITL tests can run, else why not (for `skip`). */
export function sitlSkip(): string | false {
	if (!sitlDir()) return 'the Betaflight SITL builds are not here (../shared/betaflight-sitl/fc-sitl)';
	if (!hasTool('socat')) return 'socat is not installed (apt-get install socat)';
	return false;
}

const tcpBusy = () =>
	new Promise<boolean>((done) => {
		const socket = connect({host: '127.0.0.1', port: 5761});
		socket.once('connect', () => (socket.destroy(), done(true)));
		socket.once('error', () => done(false));
	});

export interface Sitl {
	/** The flight controller's serial port (a PTY). */
	port: string;
	state: string;
	/**
	 * The port, opened, with the firmware answering on it. fc-sitl probes the firmware's TCP port
	 * and then connects socat; under load socat's connection can arrive before the probe's has
	 * closed, and the SITL then serves neither (its log: `New connection on UART1, 1`, then
	 * `[CLS]UART1: 1,0`): the board is silent until it restarts. Then the firmware process is
	 * restarted, as a replug, and the port opened again.
	 */
	open(): Promise<SerialLink>;
	/** How many times open() had to replug the board. */
	replugs: number;
	/** fc-sitl's log: socat, the firmware's output, its bootloader visits. */
	log(): string;
	stop(): Promise<void>;
}

export interface SitlOptions {
	firmware?: '4.5.6' | '2026.12.0-alpha';
	/** Runs (through sh) while the firmware is in its bootloader. */
	onBootloader?: string;
	/** The firmware that starts after a bootloader visit (an upgrade). */
	thenFirmware?: '4.5.6' | '2026.12.0-alpha';
}

/** Start the firmware on its PTY; resolves once the port is there. Always call stop(). */
export async function startSitl(options: SitlOptions = {}): Promise<Sitl> {
	const dir = sitlDir();
	if (!dir) throw new Error('fc-sitl is not installed');
	// A previous instance (the test before) may still be letting go of the fixed ports.
	for (let i = 0; (await tcpBusy()) && i < 50; i++) await sleep(200);
	if (await tcpBusy()) throw new Error('TCP 127.0.0.1:5761 is taken: another fc-sitl (or a SITL firmware) is running; only one can run at a time');
	const state = mkdtempSync(join(tmpdir(), 'fcflash-sitl-'));
	const stopFile = join(state, 'stop-test');
	const args = [...(options.firmware ? ['--firmware', options.firmware] : []), '--state', state];
	if (options.onBootloader) args.push('--on-bootloader', options.onBootloader);
	if (options.thenFirmware) args.push('--then-firmware', options.thenFirmware);
	// The command fc-sitl runs for us: wait until stop() asks it to end.
	args.push('--', 'sh', '-c', 'while [ ! -e "$0" ]; do sleep 0.1; done', stopFile);
	const child: ChildProcess = spawn(join(dir, 'fc-sitl'), args, {stdio: 'ignore', detached: true, env: sitlEnv()});
	const exited = new Promise<void>((done) => child.once('exit', () => done()));
	const port = join(state, 'ttyACM-sitl');
	const log = () => (existsSync(join(state, 'sitl.log')) ? readFileSync(join(state, 'sitl.log'), 'utf8') : '') + (existsSync(join(state, 'fw.log')) ? readFileSync(join(state, 'fw.log'), 'utf8') : '');
	let stopped = false;
	const stop = async () => {
		if (stopped) return;
		stopped = true;
		writeFileSync(stopFile, '');
		const done = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]);
		if (!done && child.pid) killGroup(child.pid, 'SIGTERM');
		// fc-sitl can restart the firmware while it stops (a reboot in flight): end what it left.
		for (const pid of firmwareIn(state)) signalIfAlive(pid, 'SIGTERM');
		rmSync(state, {recursive: true, force: true});
	};
	const deadline = performance.now() + 15_000;
	while (!existsSync(port)) {
		if (performance.now() > deadline || child.exitCode !== null) {
			const text = log();
			await stop();
			throw new Error(`fc-sitl's port did not appear:\n${text.slice(-2000)}`);
		}
		await sleep(50);
	}
	const sitl: Sitl = {
		port,
		state,
		log,
		stop,
		replugs: 0,
		async open() {
			for (let attempt = 0; ; attempt++) {
				const link = await openPort(port);
				if (await answers(link)) return link;
				await link.close();
				if (attempt === 2) throw new Error(`the SITL firmware does not answer on ${port} even after ${attempt} restarts:\n${log().slice(-2000)}`);
				sitl.replugs++;
				console.error(`fc-sitl: the firmware is silent on ${port} (fc-sitl's TCP probe raced socat); restarting it`);
				for (const pid of firmwareIn(state)) signalIfAlive(pid, 'SIGTERM');
				await portGone(port).catch(() => undefined);
			}
		},
	};
	return sitl;
}

/** Does the firmware answer MSP_API_VERSION on this link (twice asked)? */
async function answers(link: Link): Promise<boolean> {
	for (let i = 0; i < 2; i++) {
		try {
			await mspRequest(link, MspCommand.apiVersion, [], {timeoutMs: 500});
			return true;
		} catch {
			if (link.closed) return false;
		}
	}
	return false;
}

/** The firmware processes running in a state folder (their working directory). */
export function firmwareIn(state: string): number[] {
	const pids: number[] = [];
	for (const name of readdirSync('/proc')) {
		if (!/^\d+$/.test(name)) continue;
		try {
			if (readlinkSync(`/proc/${name}/cwd`).replace(/ \(deleted\)$/, '') === state && /betaflight-.*-sitl/.test(readFileSync(`/proc/${name}/cmdline`, 'latin1'))) pids.push(Number(name));
		} catch {
			// Gone, or not ours to look at.
		}
	}
	return pids;
}

/** Open the PTY once it is there (after a reboot it comes back about a second later). */
export async function openPort(path: string, timeoutMs = 15_000): Promise<SerialLink> {
	const deadline = performance.now() + timeoutMs;
	for (;;) {
		if (existsSync(path)) {
			try {
				return await openSerial(path);
			} catch (error) {
				if (performance.now() > deadline) throw error;
			}
		}
		if (performance.now() > deadline) throw new Error(`${path} did not come back within ${timeoutMs / 1000} s`);
		await sleep(100);
	}
}

/**
 * Wait until the PTY is gone (the firmware rebooted). Call it as soon as a reboot closed the link:
 * fc-sitl removes the port a moment after the firmware exits, and opening it in that moment gets
 * the dying one.
 */
export async function portGone(path: string, timeoutMs = 10_000): Promise<void> {
	const deadline = performance.now() + timeoutMs;
	while (existsSync(path)) {
		if (performance.now() > deadline) throw new Error(`${path} did not go away within ${timeoutMs / 1000} s`);
		await sleep(50);
	}
}

// ---- CLI transcripts ----------------------------------------------------------------------------

export interface Exchange {
	/** What was sent: '#' for entering the CLI, else a command line. */
	sent: string;
	/** The answer between the echo and the prompt, line by line. */
	lines: string[];
}

/** Commands that reboot: the transcript enters the CLI again on a fresh link after them. */
const REBOOTS = /^(save|exit|bl|defaults)$/i;

/**
 * Run a script of CLI lines and record each answer. `open` gives a link to the board (again after a
 * reboot, once `afterReboot` says the old port is gone). A line `#` enters the CLI.
 */
export async function recordTranscript(open: () => Promise<Link>, script: readonly string[], afterReboot?: () => Promise<void>): Promise<Exchange[]> {
	const out: Exchange[] = [];
	let session: CliSession | undefined;
	for (const sent of script) {
		if (sent === '#') {
			let text = '';
			session = await CliSession.enter(await open(), {onText: (t) => (text += t)});
			out.push({sent, lines: bannerOf(text)});
			continue;
		}
		if (!session) throw new Error(`the transcript sends ${sent} before '#'`);
		const reply = REBOOTS.test(sent.trim()) ? await session.runUntilGone(sent) : await session.run(sent, {timeoutMs: 30_000});
		out.push({sent, lines: reply.lines});
		if ('closed' in reply && reply.closed) {
			await session.link.close();
			session = undefined;
			await afterReboot?.();
		}
	}
	if (session) {
		await session.exit();
		await session.link.close();
	}
	return out;
}

/** The banner after `#`: the text before our first sync line, without the prompt. */
function bannerOf(text: string): string[] {
	return text
		.slice(0, text.indexOf('#fcflash-sync-') >= 0 ? text.indexOf('#fcflash-sync-') : text.length)
		.split(/\r?\n/)
		.map((l) => l.trimEnd())
		.filter((l) => l && l !== '#');
}

export function formatTranscript(header: string, exchanges: readonly Exchange[]): string {
	return [...header.trim().split('\n').map((l) => `# ${l}`.trimEnd()), ...exchanges.flatMap((e) => [`>>> ${e.sent}`, ...e.lines])].join('\n') + '\n';
}

export function parseTranscript(text: string): Exchange[] {
	const out: Exchange[] = [];
	const lines = text.replace(/\n$/, '').split('\n');
	let i = 0;
	while (i < lines.length && !lines[i]!.startsWith('>>> ')) i++;
	for (; i < lines.length; i++) {
		const line = lines[i]!;
		if (line.startsWith('>>> ')) out.push({sent: line.slice(4), lines: []});
		else out.at(-1)!.lines.push(line);
	}
	return out;
}

export const transcriptFile = join(repo, 'test', 'fixtures', 'betaflight-4.5.6-cli.txt');

/**
 * What the fixture replays: the commands a settings backup and restore use, their errors, and the
 * firmware's quirks (`abc` is 0; `save` refused in a failed batch).
 */
export const transcriptScript = [
	'#',
	'defaults nosave',
	'get p_roll',
	'get craft_name',
	'get motor_pwm_protocol',
	'set p_roll = 50',
	'set p_roll = 999',
	'set p_roll = abc',
	'set p_roll = 50',
	'set nonexistent_setting = 1',
	'set craft_name = My  Quad',
	'get craft_name',
	'set motor_pwm_protocol = FOO',
	'set motor_pwm_protocol = DSHOT300',
	'profile 1',
	'get p_roll',
	'set i_roll = 90',
	'profile 9',
	'profile 0',
	'rateprofile 2',
	'set roll_rc_rate = 120',
	'rateprofile 0',
	'get roll_rc_rate',
	'aux 0 0 0 1700 2100 0 0',
	'aux 99 0 0 900 1200 0 0',
	'aux',
	'feature -AIRMODE',
	'feature MOTOR_STOP',
	'feature FOO',
	'feature',
	'serial 1 64 115200 57600 0 115200',
	'serial',
	'map TAER1234',
	'map',
	'bogus',
	'mcu_id',
	'version',
	'batch start',
	'batch end',
	'diff all',
	'batch start',
	'set bogus_name = 1',
	'batch end',
	'batch start',
	'set bogus_name = 1',
	'save',
	'batch end',
	'save',
	'#',
	'get p_roll',
	'get craft_name',
	'exit',
];
