// An emulated Betaflight flight controller: the firmware a simulated board runs after leave. It
// speaks MSP (API_VERSION, FC_VARIANT, FC_VERSION, BOARD_INFO, BUILD_INFO, UID, SET_REBOOT) and,
// after `#`, the CLI (fc-cli-commands.ts), on an in-process serial link. Its settings come from the
// emulated config sector when it boots: missing, damaged, or written by a firmware of another
// major.minor means defaults, as on a real board after a full erase or an upgrade.
//
// Rebooting (MSP_SET_REBOOT, the character `R`, CLI save/exit/bl) hangs up the link, as a USB VCP
// vanishes; the board (SimulatedSource) decides what comes back and when.
import type {FlightControllerInfo} from '../devices/types.js';
import type {FirmwareIdent} from '../firmware/image.js';
import {EmulatedCli} from './fc-cli-commands.js';
import {majorMinor, readConfig, writeConfig, type ConfigArea} from './fc-config-sector.js';
import {EmulatedLink, type FirmwarePort} from './fc-link.js';
import {defaultConfig, dialectFor, normaliseConfig, type Dialect, type FcConfig} from './fc-settings.js';

/** What the running image says about itself (its identification string). */
export interface EmulatedFirmware {
	version: string;
	/** Unified target / MCU name: "STM32F7X2", "SITL". */
	target: string;
	/** Four-character board identifier: "S7X2". */
	boardId: string;
	apiVersion: string;
	/** "Nov 24 2026" */
	date: string;
	time: string;
	revision: string;
}

// `Betaflight / STM32F7X2 (S7X2) 4.5.1 Nov 24 2026 / 12:00:00 (c155f5830) MSP API: 1.46`
const identLine = /^Betaflight \/ (\S+) \((\S+)\) (\S+) ([A-Z][a-z]{2} +\d+ \d{4}) \/ (\d\d:\d\d:\d\d) \(([^)]*)\)(?: MSP API: (\d+\.\d+))?/;

/** The emulation runs Betaflight images; other flavours' images boot into silence. */
export function emulatedFirmwareOf(ident: FirmwareIdent | null): EmulatedFirmware | undefined {
	if (!ident || ident.flavour !== 'Betaflight') return undefined;
	const m = identLine.exec(ident.raw);
	if (!m) return undefined;
	return {target: m[1]!, boardId: m[2]!, version: m[3]!, date: m[4]!, time: m[5]!, revision: m[6]!, apiVersion: m[7] ?? '1.46'};
}

export const identText = (fw: EmulatedFirmware) => `Betaflight / ${fw.target} (${fw.boardId}) ${fw.version} ${fw.date} / ${fw.time} (${fw.revision}) MSP API: ${fw.apiVersion}`;

export interface EmulatedFcOptions {
	/** The board's main flash (live): the config sector is read and written in place. */
	flash: Uint8Array;
	area: ConfigArea;
	/** U_ID_0..2. */
	uid: readonly [number, number, number];
	firmware: EmulatedFirmware;
	/** The firmware asked for a reboot; its link is already hung up. */
	onReboot: (target: 'firmware' | 'bootloader') => void;
	/** Cut what the firmware sends into chunks of at most this many bytes (tests). */
	maxChunk?: number;
	/** Its CLI has no `bl` (tests). */
	withoutBl?: boolean;
}

export type RebootTarget = 'firmware' | 'bootloader';

type MspState = 'idle' | 'M' | 'dir' | 'len' | 'cmd' | 'payload' | 'checksum';

export class EmulatedFlightController implements FirmwarePort {
	readonly firmware: EmulatedFirmware;
	readonly dialect: Dialect;
	private config!: FcConfig;
	/** Did the last boot find its own settings (false: defaults)? */
	bootedWithSettings = false;
	private link?: EmulatedLink;
	private cli?: EmulatedCli;
	/** What the firmware printed this tick, sent together like one USB transfer. */
	private pending: Buffer[] = [];
	private flushing = false;
	private running = false;
	private msp: {state: MspState; len: number; cmd: number; payload: number[]} = {state: 'idle', len: 0, cmd: 0, payload: []};

	constructor(private readonly options: EmulatedFcOptions) {
		this.firmware = options.firmware;
		this.dialect = dialectFor(options.firmware.version);
		this.boot();
	}

	/** Power-on: read the config sector; a foreign or damaged record means defaults. */
	boot() {
		const stored = readConfig(this.options.flash, this.options.area);
		const own = stored && majorMinor(stored.version) === majorMinor(this.firmware.version);
		this.config = own ? normaliseConfig(this.dialect, stored.config) : defaultConfig(this.dialect);
		this.bootedWithSettings = Boolean(own);
		this.cli = undefined;
		this.msp.state = 'idle';
		this.running = true;
	}

	get mcuId(): string {
		return this.options.uid.map((w) => (w >>> 0).toString(16).padStart(8, '0')).join('');
	}

	/** What a listing shows before anyone asks over MSP. */
	get identity(): FlightControllerInfo {
		// As MSP says it: BUILD_INFO carries 7 characters of the revision.
		return {variant: 'BTFL', version: this.firmware.version, apiVersion: this.firmware.apiVersion, board: this.firmware.boardId, target: this.firmware.target, mcuId: this.mcuId, revision: this.firmware.revision.slice(0, 7)};
	}

	/** A copy of the live config, with the CLI's unsaved changes (tests look at it). */
	get settings(): FcConfig {
		return structuredClone(this.cli?.current ?? this.config);
	}

	get inCli(): boolean {
		return this.cli !== undefined;
	}

	/** The host opens the port. One at a time, as a locked serial port. */
	open(path: string): EmulatedLink {
		if (!this.running) throw Object.assign(new Error(`${path} is gone (the board is rebooting)`), {code: 'ENOENT'});
		if (this.link && !this.link.closed) throw Object.assign(new Error(`${path} is busy`), {code: 'EBUSY'});
		const link = new EmulatedLink(path, this);
		link.onHostClose = () => {
			if (this.link === link) this.link = undefined;
		};
		this.link = link;
		return link;
	}

	/** The USB cable is pulled: the port vanishes, nothing is saved. */
	unplug() {
		this.running = false;
		this.link?.hangUp();
		this.link = undefined;
	}

	onHostBytes(bytes: Buffer) {
		for (let i = 0; i < bytes.length && this.running; i++) {
			const c = bytes[i]!;
			if (this.cli) {
				this.cli.input(c);
				continue;
			}
			if (this.mspByte(c) === 'cli') {
				// Betaflight switches the port to the CLI after this read: the rest of the chunk is lost,
				// which is why a command sent right after `#` goes missing on the real firmware.
				return;
			}
		}
	}

	private print(text: string | Buffer) {
		if (!this.link) return; // nobody has the port open: the bytes are lost
		this.pending.push(typeof text === 'string' ? Buffer.from(text, 'latin1') : text);
		if (this.flushing) return;
		this.flushing = true;
		setImmediate(() => this.flush());
	}

	private flush() {
		this.flushing = false;
		const bytes = Buffer.concat(this.pending);
		this.pending = [];
		if (bytes.length) this.link?.deliver(bytes, this.options.maxChunk);
	}

	private reboot(target: RebootTarget) {
		this.running = false;
		this.cli = undefined;
		// The last words ("Rebooting", the MSP ack) leave before the port goes.
		setImmediate(() => {
			this.flush();
			const link = this.link;
			this.link = undefined;
			link?.hangUp();
			this.options.onReboot(target);
		});
	}

	private save(config: FcConfig) {
		writeConfig(this.options.flash, this.options.area, this.firmware.version, config);
	}

	// ---- MSP -----------------------------------------------------------------------------------

	/** Betaflight's msp_serial byte machine; `#` and the reboot character outside a frame. */
	private mspByte(c: number): 'cli' | undefined {
		const m = this.msp;
		switch (m.state) {
			case 'idle':
				if (c === 0x24) m.state = 'M';
				else if (c === 0x23) {
					this.cli = new EmulatedCli(
						{
							ident: identText(this.firmware),
							mcuId: this.mcuId,
							dialect: this.dialect,
							print: (text) => this.print(text),
							save: (config) => this.save(config),
							reboot: (target) => this.reboot(target),
							withoutBl: this.options.withoutBl,
						},
						this.config,
					);
					this.cli.enter();
					return 'cli';
				} else if (c === 0x52) this.reboot('bootloader'); // reboot_character 'R'
				return;
			case 'M':
				m.state = c === 0x4d ? 'dir' : 'idle';
				return;
			case 'dir':
				m.state = c === 0x3c ? 'len' : 'idle';
				return;
			case 'len':
				m.len = c;
				m.payload = [];
				m.state = 'cmd';
				return;
			case 'cmd':
				m.cmd = c;
				m.state = m.len ? 'payload' : 'checksum';
				return;
			case 'payload':
				m.payload.push(c);
				if (m.payload.length === m.len) m.state = 'checksum';
				return;
			case 'checksum': {
				m.state = 'idle';
				let x = m.len ^ m.cmd;
				for (const b of m.payload) x ^= b;
				if ((x & 0xff) === c) this.request(m.cmd, m.payload);
				return;
			}
		}
	}

	private reply(cmd: number, payload: ArrayLike<number>, direction = '>') {
		const body = Buffer.from([payload.length, cmd, ...Array.from(payload)]);
		let x = 0;
		for (const b of body) x ^= b;
		this.print(Buffer.concat([Buffer.from(`$M${direction}`, 'latin1'), body, Buffer.from([x])]));
	}

	private request(cmd: number, payload: number[]) {
		const fw = this.firmware;
		const ascii = (s: string) => [...Buffer.from(s, 'latin1')];
		const pstring = (s: string) => [s.length, ...ascii(s)];
		switch (cmd) {
			case 1: {
				const [major, minor] = fw.apiVersion.split('.').map(Number);
				return this.reply(cmd, [0, major!, minor!]);
			}
			case 2:
				return this.reply(cmd, ascii('BTFL'));
			case 3: {
				const [a, b, c] = fw.version.split(/[.-]/).map(Number);
				// Calendar versions send year-2000 and the full text after the numbers.
				return this.reply(cmd, this.dialect.calendar ? [a! - 2000, b!, c!, ...pstring(fw.version)] : [a!, b!, c!]);
			}
			case 4:
				return this.reply(cmd, [...ascii(fw.boardId.padEnd(4).slice(0, 4)), 0, 0, 2, 0, ...pstring(fw.target), 0, 0, ...new Array<number>(32).fill(0), 0, 1]);
			case 5:
				return this.reply(cmd, ascii(`${fw.date.padEnd(11)}${fw.time}${fw.revision.padEnd(7).slice(0, 7)}`));
			case 160: {
				const body = Buffer.alloc(12);
				this.options.uid.forEach((w, i) => body.writeUInt32LE(w >>> 0, i * 4));
				return this.reply(cmd, body);
			}
			case 68: {
				const type = payload[0] ?? 0;
				if (type !== 0 && type !== 1) return this.reply(cmd, [], '!');
				this.reply(cmd, [type]);
				return this.reboot(type === 1 ? 'bootloader' : 'firmware');
			}
			default:
				return this.reply(cmd, [], '!');
		}
	}
}
