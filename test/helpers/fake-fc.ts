// An emulated flight controller on one end of a PTY pair (socat), for tests of the serial side, and
// (at the end) in-process stand-ins: the emulated Betaflight on its own flash, a scripted port.
// It answers MSP v1 like Betaflight 4.5 (or INAV, or old Betaflight, by options): API_VERSION,
// FC_VARIANT, FC_VERSION, BOARD_INFO; it reboots into "DFU" on MSP_SET_REBOOT(1), on the reboot
// character 'R', or on the CLI ('#' enters it, `dfu` / `bl` leave for the bootloader). Rebooting
// closes its side and stops socat, so the host's port vanishes as a real VCP does, and then calls
// onReboot so a test can make an emulated DFU board appear.
//
// The firmware side is written from the firmware's point of view (byte-by-byte state machine, as
// Betaflight's msp_serial.c does) rather than with the host's parser, so each checks the other.
import {spawn, type ChildProcess} from 'node:child_process';
import {existsSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {SerialPort} from 'serialport';
import {EmulatedLink, type FirmwarePort} from '../../source/emulator/fc-link.js';
import {EmulatedFlightController, type EmulatedFirmware, type RebootTarget} from '../../source/emulator/fc-firmware.js';

export type FakeVariant = 'BTFL' | 'INAV' | 'CLFL' | 'EMUF';

export interface FakeFcOptions {
	variant?: FakeVariant;
	/** "4.5.1" */
	version?: string;
	/** "1.46" */
	apiVersion?: string;
	boardIdentifier?: string;
	targetName?: string;
	boardName?: string;
	manufacturerId?: string;
	/** MSP_UID as the CLI prints it (24 hex digits); absent: MSP_UID is refused. */
	mcuId?: string;
	/** MSP_BUILD_INFO's git revision (default c155f58). */
	revision?: string;
	/** false: a port that never answers MSP (a GPS, a silent board). */
	msp?: boolean;
	/** The firmware honours MSP_SET_REBOOT's type byte (Betaflight since about API 1.41; never INAV). */
	mspRebootTypes?: boolean;
	/** Byte that reboots into the bootloader when no frame is in progress (default 'R'). */
	rebootCharacter?: string | null;
	/** false: '#' does not open a CLI (a firmware without one, or a CLI that never answers). */
	cli?: boolean;
	onReboot?: (reboot: FakeReboot) => void;
}

export interface FakeReboot {
	method: 'msp' | 'reboot-char' | 'cli';
	/** MSP_SET_REBOOT type (0 firmware, 1 ROM bootloader). */
	mode?: number;
	/** The CLI command that did it. */
	command?: string;
	/** True when the FC went to its ROM bootloader (DFU), false for a plain restart. */
	dfu: boolean;
}

export interface MspSeen {
	cmd: number;
	payload: Buffer;
}

const xor = (bytes: ArrayLike<number>) => {
	let x = 0;
	for (let i = 0; i < bytes.length; i++) x ^= bytes[i]!;
	return x;
};

function reply(cmd: number, payload: number[] | Buffer, direction = '>'): Buffer {
	const body = Buffer.from([payload.length, cmd, ...payload]);
	return Buffer.concat([Buffer.from(`$M${direction}`, 'latin1'), body, Buffer.from([xor(body)])]);
}

const pstring = (text: string) => [text.length, ...Buffer.from(text, 'latin1')];

export class FakeFc {
	/** The port the code under test opens. */
	readonly hostPath: string;
	readonly fcPath: string;
	/** Every byte the FC received, in order. */
	received = Buffer.alloc(0);
	/** Every MSP request the FC understood. */
	readonly requests: MspSeen[] = [];
	/** Set once rebooted. */
	reboot?: FakeReboot;
	readonly rebooted: Promise<FakeReboot>;
	private resolveReboot!: (r: FakeReboot) => void;
	private readonly options: Required<Omit<FakeFcOptions, 'onReboot' | 'boardName' | 'manufacturerId' | 'mcuId'>> & FakeFcOptions;
	private socat?: ChildProcess;
	private port?: SerialPort;
	private state: 'idle' | 'header-M' | 'header-dir' | 'len' | 'cmd' | 'payload' | 'checksum' = 'idle';
	private frame = {len: 0, cmd: 0, payload: [] as number[]};
	private cli = false;
	private cliLine = '';

	private constructor(private readonly dir: string, options: FakeFcOptions) {
		const variant = options.variant ?? 'BTFL';
		this.options = {
			variant,
			version: options.version ?? (variant === 'INAV' ? '8.0.1' : '4.5.1'),
			apiVersion: options.apiVersion ?? (variant === 'INAV' ? '2.5' : '1.46'),
			boardIdentifier: options.boardIdentifier ?? 'S405',
			targetName: options.targetName ?? 'STM32F405',
			msp: options.msp ?? true,
			mspRebootTypes: options.mspRebootTypes ?? (variant !== 'INAV'),
			rebootCharacter: options.rebootCharacter === undefined ? 'R' : options.rebootCharacter,
			cli: options.cli ?? true,
			boardName: options.boardName,
			manufacturerId: options.manufacturerId,
			mcuId: options.mcuId,
			revision: options.revision ?? 'c155f58',
			onReboot: options.onReboot,
		};
		this.fcPath = join(dir, 'ttyFC');
		this.hostPath = join(dir, 'ttyHOST');
		this.rebooted = new Promise((resolve) => (this.resolveReboot = resolve));
	}

	/** Start socat and open the FC's end. Needs `socat` on PATH. */
	static async start(options: FakeFcOptions = {}): Promise<FakeFc> {
		const dir = mkdtempSync(join(tmpdir(), 'fake-fc-'));
		const fc = new FakeFc(dir, options);
		await fc.open();
		return fc;
	}

	private async open() {
		const socat = spawn('socat', [`pty,raw,echo=0,link=${this.fcPath}`, `pty,raw,echo=0,link=${this.hostPath}`], {stdio: 'ignore'});
		this.socat = socat;
		const spawnError = new Promise<never>((_, reject) => socat.once('error', reject));
		const ready = (async () => {
			const deadline = Date.now() + 5000;
			while (!(existsSync(this.fcPath) && existsSync(this.hostPath))) {
				if (Date.now() > deadline) throw new Error('socat did not create the PTY pair within 5 s');
				await new Promise((r) => setTimeout(r, 20));
			}
		})();
		await Promise.race([ready, spawnError]);
		const port = new SerialPort({path: this.fcPath, baudRate: 115200, autoOpen: false});
		await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
		port.on('error', () => {});
		port.on('data', (chunk: Buffer) => this.onBytes(chunk));
		this.port = port;
	}

	private send(data: Buffer | string) {
		if (!this.port?.isOpen || this.reboot) return;
		this.port.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
	}

	private onBytes(chunk: Buffer) {
		this.received = Buffer.concat([this.received, chunk]);
		for (const byte of chunk) {
			if (this.reboot) return;
			this.onByte(byte);
		}
	}

	private onByte(c: number) {
		if (this.cli) return this.onCliByte(c);
		switch (this.state) {
			case 'idle':
				if (c === 0x24) this.state = 'header-M';
				else this.onNonMsp(c);
				return;
			case 'header-M':
				this.state = c === 0x4d ? 'header-dir' : 'idle';
				return;
			case 'header-dir':
				this.state = c === 0x3c ? 'len' : 'idle';
				return;
			case 'len':
				this.frame = {len: c, cmd: 0, payload: []};
				this.state = 'cmd';
				return;
			case 'cmd':
				this.frame.cmd = c;
				this.state = this.frame.len ? 'payload' : 'checksum';
				return;
			case 'payload':
				this.frame.payload.push(c);
				if (this.frame.payload.length === this.frame.len) this.state = 'checksum';
				return;
			case 'checksum': {
				this.state = 'idle';
				const {len, cmd, payload} = this.frame;
				if (xor([len, cmd, ...payload]) !== c) return; // firmware drops bad frames silently
				this.onRequest(cmd, Buffer.from(payload));
				return;
			}
		}
	}

	/** Betaflight's mspEvaluateNonMspData: '#' starts the CLI, the reboot character reboots. */
	private onNonMsp(c: number) {
		if (c === 0x23 && this.options.cli) {
			this.cli = true;
			this.cliLine = '';
			this.send("\r\nEntering CLI Mode, type 'exit' to return, or 'help'\r\n\r\n# ");
		} else if (this.options.rebootCharacter && c === this.options.rebootCharacter.charCodeAt(0)) {
			this.doReboot({method: 'reboot-char', dfu: true});
		}
	}

	private onCliByte(c: number) {
		if (c !== 0x0d && c !== 0x0a) {
			if (c >= 0x20 && c <= 0x7e) this.cliLine += String.fromCharCode(c);
			return;
		}
		// A '#' starts a comment, so the extra '###' of "####" make an empty line.
		const line = this.cliLine.replace(/#.*$/, '').trim();
		this.cliLine = '';
		if (!line) return this.send('\r\n# ');
		const inav = this.options.variant === 'INAV';
		if ((inav && line === 'dfu') || (!inav && (line === 'bl' || line === 'bl rom' || line === 'dfu'))) {
			this.send('\r\nRebooting to DFU mode\r\n');
			setTimeout(() => this.doReboot({method: 'cli', command: line, dfu: true}), 20);
			return;
		}
		if (line === 'exit') {
			this.send('\r\nLeaving CLI mode, rebooting\r\n');
			setTimeout(() => this.doReboot({method: 'cli', command: line, dfu: false}), 20);
			return;
		}
		this.send(`\r\nUnknown command, try 'help'\r\n# `);
	}

	private onRequest(cmd: number, payload: Buffer) {
		this.requests.push({cmd, payload});
		if (!this.options.msp) return;
		const o = this.options;
		switch (cmd) {
			case 1: {
				const [major, minor] = o.apiVersion.split('.').map(Number);
				return this.send(reply(cmd, [0, major!, minor!]));
			}
			case 2:
				return this.send(reply(cmd, Buffer.from(o.variant.padEnd(4).slice(0, 4), 'latin1')));
			case 3:
				return this.send(reply(cmd, o.version.split('.').map(Number)));
			case 4: {
				const body = [
					...Buffer.from(o.boardIdentifier.padEnd(4).slice(0, 4), 'latin1'),
					0,
					0, // hardware revision u16
					2, // FC with MAX7456
					0b0000_0101, // VCP, unified
					...pstring(o.targetName),
					...pstring(o.boardName ?? ''),
					...pstring(o.manufacturerId ?? ''),
					...new Array<number>(32).fill(0), // signature
					3, // MCU type
					1, // configuration state
				];
				return this.send(reply(cmd, body));
			}
			case 5:
				return this.send(reply(cmd, Buffer.from(`Nov 24 202612:00:00${o.revision.padEnd(7).slice(0, 7)}`, 'latin1')));
			case 160: {
				if (!o.mcuId) return this.send(reply(cmd, [], '!'));
				// Three u32, little-endian, from the printed hex words.
				const words = o.mcuId.match(/.{8}/g)!.map((w) => Number.parseInt(w, 16));
				const body = Buffer.alloc(12);
				words.forEach((w, i) => body.writeUInt32LE(w, i * 4));
				return this.send(reply(cmd, body));
			}
			case 68: {
				const mode = payload.length ? payload[0]! : 0;
				if (!o.mspRebootTypes) {
					// INAV: acknowledges and restarts the firmware, whatever the type says.
					this.send(reply(cmd, []));
					setTimeout(() => this.doReboot({method: 'msp', mode, dfu: false}), 20);
					return;
				}
				if (mode > 4) return this.send(reply(cmd, [], '!'));
				this.send(reply(cmd, [mode]));
				setTimeout(() => this.doReboot({method: 'msp', mode, dfu: mode === 1}), 20);
				return;
			}
			default:
				return this.send(reply(cmd, [], '!'));
		}
	}

	private doReboot(reboot: FakeReboot) {
		if (this.reboot) return;
		this.reboot = reboot;
		void this.shutdown().then(() => {
			this.options.onReboot?.(reboot);
			this.resolveReboot(reboot);
		});
	}

	/** True if `text` was received in order after `after` (both as latin1). */
	receivedText(): string {
		return this.received.toString('latin1');
	}

	private async shutdown() {
		const port = this.port;
		this.port = undefined;
		// serialport may never confirm closing a PTY whose other side already went away (the
		// host closed it after sending 'R'); a real FC does not wait either.
		if (port?.isOpen) await new Promise<void>((r) => {
			const timer = setTimeout(r, 500);
			port.close(() => {
				clearTimeout(timer);
				r();
			});
		});
		const socat = this.socat;
		this.socat = undefined;
		if (socat && socat.exitCode === null && socat.signalCode === null) {
			const exited = new Promise<void>((r) => socat.once('exit', () => r()));
			socat.kill('SIGTERM');
			await Promise.race([exited, new Promise((r) => setTimeout(r, 1000))]);
		}
	}

	/** Stop everything and remove the temporary directory. */
	async close() {
		await this.shutdown();
		rmSync(this.dir, {recursive: true, force: true});
	}
}

// ---- In-process stand-ins for a flight controller's port (no socat) ---------------------------


/** Betaflight 4.5.6 as the SITL build reports it (its MCU id is 0, 1, 2). */
export const sitl456: EmulatedFirmware = {version: '4.5.6', target: 'SITL', boardId: 'SITL', apiVersion: '1.46', date: 'Dec  1 2026', time: '08:26:41', revision: ''};
export const sitl2026: EmulatedFirmware = {version: '2026.12.0-alpha', target: 'SITL', boardId: 'SITL', apiVersion: '1.49', date: 'Dec  1 2026', time: '08:04:59', revision: 'norevision'};

/**
 * An emulated flight controller on its own 512 KiB flash (config sector at 0x4000) that boots again
 * at once after any reboot (as if it left the bootloader straight away); `reboots` records them.
 */
export function emulatedFc(firmware: EmulatedFirmware = sitl456, options: {maxChunk?: number; flash?: Uint8Array; uid?: [number, number, number]} = {}) {
	const reboots: RebootTarget[] = [];
	const flash = options.flash ?? new Uint8Array(512 * 1024).fill(0xff);
	const fc = new EmulatedFlightController({
		flash,
		area: {offset: 0x4000, size: 0x4000},
		uid: options.uid ?? [0, 1, 2],
		firmware,
		maxChunk: options.maxChunk,
		onReboot: (target) => {
			reboots.push(target);
			fc.boot();
		},
	});
	return {fc, flash, reboots, open: () => fc.open('emu:ttyACM0')};
}

/** A port whose "firmware" is a function of each line the host sends (`#` alone is a line too). */
export function scriptedLink(answer: (line: string, say: (text: string) => void) => void, path = 'script:ttyACM0'): EmulatedLink {
	let buffer = '';
	const port: FirmwarePort = {
		onHostBytes(bytes) {
			buffer += bytes.toString('latin1');
			if (buffer === '#') {
				buffer = '';
				return answer('#', say);
			}
			let nl: number;
			while ((nl = buffer.indexOf('\n')) >= 0) {
				const line = buffer.slice(0, nl);
				buffer = buffer.slice(nl + 1);
				answer(line, say);
			}
		},
	};
	const link = new EmulatedLink(path, port);
	const say = (text: string) => setImmediate(() => link.deliver(Buffer.from(text, 'latin1')));
	return link;
}

/** Poll `fn` until it gives a value (emulated boards come and go on timers). */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
	const deadline = performance.now() + timeoutMs;
	for (;;) {
		const v = await fn();
		if (v !== undefined) return v;
		if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 10));
	}
}
