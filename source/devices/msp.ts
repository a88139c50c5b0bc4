// MSP v1 (MultiWii Serial Protocol) as spoken by Betaflight, INAV, Cleanflight and EmuFlight: just
// enough to identify a flight controller and ask it to reboot into its ROM bootloader.
//
// Frame: '$' 'M' dir len cmd payload[len] checksum, where dir is '<' (to the FC), '>' (reply) or
// '!' (the FC refused or does not know the command) and checksum = len ^ cmd ^ every payload byte.
// No Node serial types here: a transport is anything that can write bytes and report received ones.
import type {FlightControllerInfo} from './types.js';

export const MspCommand = {
	apiVersion: 1,
	fcVariant: 2,
	fcVersion: 3,
	boardInfo: 4,
	buildInfo: 5,
	setReboot: 68,
	/** The MCU's 96-bit unique id (U_ID): three little-endian u32. */
	uid: 160,
} as const;

/** MSP_SET_REBOOT's type byte (Betaflight). INAV ignores it and always restarts the firmware. */
export const RebootType = {
	firmware: 0,
	bootloaderRom: 1,
	msc: 2,
	mscUtc: 3,
	bootloaderFlash: 4,
} as const;

export type MspDirection = '<' | '>' | '!';

export interface MspFrame {
	direction: MspDirection;
	cmd: number;
	payload: Buffer;
}

const DOLLAR = 0x24;
const M = 0x4d;
const directionBytes: Record<MspDirection, number> = {'<': 0x3c, '>': 0x3e, '!': 0x21};
const directionOf = (byte: number): MspDirection | undefined => (byte === 0x3c ? '<' : byte === 0x3e ? '>' : byte === 0x21 ? '!' : undefined);
/** MSP v1 cannot carry more; 255 announces a "jumbo" frame, which nothing here needs. */
const MAX_PAYLOAD = 254;

export function mspChecksum(bytes: ArrayLike<number>): number {
	let sum = 0;
	for (let i = 0; i < bytes.length; i++) sum ^= bytes[i]!;
	return sum & 0xff;
}

export function encodeFrame(direction: MspDirection, cmd: number, payload: ArrayLike<number> = []): Buffer {
	if (!Number.isInteger(cmd) || cmd < 0 || cmd > 255) throw new RangeError(`MSP v1 command out of range: ${cmd}`);
	if (payload.length > MAX_PAYLOAD) throw new RangeError(`MSP v1 payload too long: ${payload.length} bytes`);
	const frame = Buffer.alloc(6 + payload.length);
	frame[0] = DOLLAR;
	frame[1] = M;
	frame[2] = directionBytes[direction];
	frame[3] = payload.length;
	frame[4] = cmd;
	for (let i = 0; i < payload.length; i++) frame[5 + i] = payload[i]!;
	frame[5 + payload.length] = mspChecksum(frame.subarray(3, 5 + payload.length));
	return frame;
}

/** A request to the FC: `$M<`. */
export const encodeRequest = (cmd: number, payload: ArrayLike<number> = []) => encodeFrame('<', cmd, payload);

/**
 * Streaming MSP v1 parser. Feed it whatever the port delivers (partial frames, several frames,
 * CLI text, line noise); it returns the complete, checksum-valid frames. A frame with a bad
 * checksum or an impossible length is dropped and the search restarts one byte after its '$', so a
 * good frame hidden behind garbage is still found.
 */
export class MspParser {
	private buffer: Buffer = Buffer.alloc(0);
	/** Frames dropped for a bad checksum (diagnostics and tests). */
	checksumErrors = 0;

	push(chunk: Uint8Array): MspFrame[] {
		this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : Buffer.from(chunk);
		const frames: MspFrame[] = [];
		let pos = 0;
		const buf = this.buffer;
		while (pos < buf.length) {
			const start = buf.indexOf(DOLLAR, pos);
			if (start < 0) {
				pos = buf.length;
				break;
			}
			// Header: '$' 'M' dir len cmd. Wait for more bytes if the header is cut short.
			if (start + 1 >= buf.length) {
				pos = start;
				break;
			}
			if (buf[start + 1] !== M) {
				pos = start + 1;
				continue;
			}
			if (start + 2 >= buf.length) {
				pos = start;
				break;
			}
			const direction = directionOf(buf[start + 2]!);
			if (!direction) {
				pos = start + 1;
				continue;
			}
			if (start + 3 >= buf.length) {
				pos = start;
				break;
			}
			const len = buf[start + 3]!;
			if (len > MAX_PAYLOAD) {
				pos = start + 1;
				continue;
			}
			const end = start + 6 + len;
			if (end > buf.length) {
				pos = start;
				break;
			}
			const expected = mspChecksum(buf.subarray(start + 3, start + 5 + len));
			if (expected !== buf[start + 5 + len]) {
				this.checksumErrors++;
				pos = start + 1;
				continue;
			}
			frames.push({direction, cmd: buf[start + 4]!, payload: Buffer.from(buf.subarray(start + 5, start + 5 + len))});
			pos = end;
		}
		this.buffer = pos >= buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(pos));
		// Never hoard: a stream of '$' without frames must not grow without bound.
		if (this.buffer.length > 2 * (MAX_PAYLOAD + 6)) this.buffer = Buffer.from(this.buffer.subarray(this.buffer.length - (MAX_PAYLOAD + 6)));
		return frames;
	}

	reset() {
		this.buffer = Buffer.alloc(0);
	}
}

/** What an MSP request needs from a port. */
export interface MspTransport {
	write(data: Uint8Array): Promise<void>;
	/** Subscribe to received bytes; returns the unsubscribe function. */
	onData(listener: (chunk: Buffer) => void): () => void;
}

export class MspTimeoutError extends Error {
	override name = 'MspTimeoutError';
	constructor(readonly cmd: number, readonly timeoutMs: number) {
		super(`No MSP reply to command ${cmd} within ${timeoutMs} ms.`);
	}
}

/** The FC answered `$M!`: it does not know the command or refused it. */
export class MspErrorReply extends Error {
	override name = 'MspErrorReply';
	constructor(readonly cmd: number) {
		super(`The flight controller rejected MSP command ${cmd}.`);
	}
}

export const DEFAULT_MSP_TIMEOUT_MS = 400;

/** Send one request and wait for the reply with the same command (other frames are ignored). */
export function mspRequest(port: MspTransport, cmd: number, payload: ArrayLike<number> = [], options: {timeoutMs?: number} = {}): Promise<Buffer> {
	const timeoutMs = options.timeoutMs ?? DEFAULT_MSP_TIMEOUT_MS;
	const parser = new MspParser();
	return new Promise<Buffer>((resolve, reject) => {
		let done = false;
		const finish = (fn: () => void) => {
			if (done) return;
			done = true;
			clearTimeout(timer);
			unsubscribe();
			fn();
		};
		const timer = setTimeout(() => finish(() => reject(new MspTimeoutError(cmd, timeoutMs))), timeoutMs);
		const unsubscribe = port.onData((chunk) => {
			for (const frame of parser.push(chunk)) {
				if (frame.cmd !== cmd || frame.direction === '<') continue;
				if (frame.direction === '!') finish(() => reject(new MspErrorReply(cmd)));
				else finish(() => resolve(frame.payload));
				return;
			}
		});
		port.write(encodeRequest(cmd, payload)).catch((error: unknown) => finish(() => reject(error)));
	});
}

// ---- Decoders -------------------------------------------------------------------------------

const ascii = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1').replace(/\0+$/, '').trim();

export interface ApiVersion {
	protocol: number;
	major: number;
	minor: number;
	/** "1.46" */
	text: string;
}

export function decodeApiVersion(payload: Uint8Array): ApiVersion {
	if (payload.length < 3) throw new RangeError(`MSP_API_VERSION reply too short (${payload.length} bytes)`);
	const [protocol, major, minor] = [payload[0]!, payload[1]!, payload[2]!];
	return {protocol, major, minor, text: `${major}.${minor}`};
}

/** "BTFL", "INAV", "CLFL", "EMUF", ... (four characters). */
export function decodeFcVariant(payload: Uint8Array): string {
	if (payload.length < 4) throw new RangeError(`MSP_FC_VARIANT reply too short (${payload.length} bytes)`);
	return ascii(payload.subarray(0, 4));
}

/**
 * "4.5.1". Betaflight's calendar versions (2025.12 on) send year-2000, month, patch and then the
 * version text as a length-prefixed string; when that string is there it wins.
 */
export function decodeFcVersion(payload: Uint8Array): string {
	if (payload.length < 3) throw new RangeError(`MSP_FC_VERSION reply too short (${payload.length} bytes)`);
	if (payload.length > 4) {
		const len = payload[3]!;
		if (len > 0 && payload.length >= 4 + len) {
			const text = ascii(payload.subarray(4, 4 + len));
			if (/^[\x20-\x7e]+$/.test(text)) return text;
		}
	}
	return `${payload[0]}.${payload[1]}.${payload[2]}`;
}

export interface BoardInfo {
	/** Four characters, e.g. "S405". */
	boardIdentifier: string;
	hardwareRevision: number;
	/** 0 = FC, 1 = OSD (old), 2 = FC with MAX7456 OSD. */
	boardType?: number;
	targetCapabilities?: number;
	/** e.g. "STM32F405" (unified targets) or a legacy target name. */
	targetName?: string;
	/** e.g. "SPEEDYBEEF405V3" (USE_BOARD_INFO). */
	boardName?: string;
	manufacturerId?: string;
	signature?: Buffer;
	mcuTypeId?: number;
	/** API 1.42+. */
	configurationState?: number;
}

/**
 * MSP_BOARD_INFO. Fields arrived over the years, so everything after the revision is read only as
 * far as the reply goes: 4-byte identifier, u16 hardware revision (LE), u8 board type, u8 target
 * capabilities, then target name, board name and manufacturer id as (u8 length + text), a 32-byte
 * signature, u8 MCU type, u8 configuration state (1.42), and more we do not need.
 */
export function decodeBoardInfo(payload: Uint8Array): BoardInfo {
	if (payload.length < 4) throw new RangeError(`MSP_BOARD_INFO reply too short (${payload.length} bytes)`);
	const buf = Buffer.from(payload);
	const info: BoardInfo = {boardIdentifier: ascii(buf.subarray(0, 4)), hardwareRevision: 0};
	let pos = 4;
	const left = () => buf.length - pos;
	if (left() >= 2) {
		info.hardwareRevision = buf.readUInt16LE(pos);
		pos += 2;
	}
	if (left() >= 1) info.boardType = buf[pos++];
	if (left() >= 1) info.targetCapabilities = buf[pos++];
	const pstring = (): string | undefined => {
		if (left() < 1) return undefined;
		const len = buf[pos]!;
		if (left() < 1 + len) {
			pos = buf.length;
			return undefined;
		}
		const text = ascii(buf.subarray(pos + 1, pos + 1 + len));
		pos += 1 + len;
		return text || undefined;
	};
	const targetName = pstring();
	const boardName = pstring();
	const manufacturerId = pstring();
	if (targetName) info.targetName = targetName;
	if (boardName) info.boardName = boardName;
	if (manufacturerId) info.manufacturerId = manufacturerId;
	if (left() >= 32) {
		info.signature = Buffer.from(buf.subarray(pos, pos + 32));
		pos += 32;
	}
	if (left() >= 1) info.mcuTypeId = buf[pos++];
	if (left() >= 1) info.configurationState = buf[pos++];
	return info;
}

/**
 * MSP_UID: 12 bytes, three little-endian u32 (U_ID_0..2), printed as `%08x%08x%08x`, the same text
 * as the CLI's `mcu_id` (so a backup's `mcu_id` line and a live board compare as strings).
 */
export function decodeUid(payload: Uint8Array): string {
	if (payload.length < 12) throw new RangeError(`MSP_UID reply too short (${payload.length} bytes)`);
	const buf = Buffer.from(payload);
	return [0, 4, 8].map((at) => buf.readUInt32LE(at).toString(16).padStart(8, '0')).join('');
}

/**
 * MSP_BUILD_INFO: the build date (11 characters, `Nov 24 2026`), time (8, `12:00:00`) and the git
 * revision (7); newer firmware appends more, which is ignored.
 */
export function decodeBuildInfo(payload: Uint8Array): {date: string; time: string; revision: string} {
	if (payload.length < 26) throw new RangeError(`MSP_BUILD_INFO reply too short (${payload.length} bytes)`);
	const text = Buffer.from(payload).toString('latin1');
	return {date: text.slice(0, 11).trim(), time: text.slice(11, 19), revision: text.slice(19, 26).trim()};
}

/** MSP_SET_REBOOT asking for the ROM bootloader (DFU). */
export const rebootToRomRequest = () => encodeRequest(MspCommand.setReboot, [RebootType.bootloaderRom]);

/** FlightControllerInfo plus the board-info fields the shared type does not carry. */
export interface MspIdentity extends FlightControllerInfo {
	manufacturerId?: string;
	hardwareRevision?: number;
}

/**
 * Ask API_VERSION, FC_VARIANT, FC_VERSION, BOARD_INFO, BUILD_INFO and UID. Resolves undefined when the port does
 * not answer MSP at all (not a flight controller, CLI mode, another protocol); a reply that is only
 * partly understood still gives what was learnt.
 */
export async function identify(port: MspTransport, options: {timeoutMs?: number} = {}): Promise<MspIdentity | undefined> {
	const ask = async (cmd: number) => {
		try {
			return await mspRequest(port, cmd, [], options);
		} catch (error) {
			if (error instanceof MspTimeoutError || error instanceof MspErrorReply) return undefined;
			throw error;
		}
	};
	const api = await ask(MspCommand.apiVersion);
	if (!api) return undefined;
	const info: MspIdentity = {};
	const attempt = (fn: () => void) => {
		try {
			fn();
		} catch {
			// A short reply leaves that field unknown.
		}
	};
	attempt(() => (info.apiVersion = decodeApiVersion(api).text));
	const variant = await ask(MspCommand.fcVariant);
	if (variant) attempt(() => (info.variant = decodeFcVariant(variant)));
	const version = await ask(MspCommand.fcVersion);
	if (version) attempt(() => (info.version = decodeFcVersion(version)));
	const board = await ask(MspCommand.boardInfo);
	if (board) {
		attempt(() => {
			const b = decodeBoardInfo(board);
			info.board = b.boardIdentifier || undefined;
			info.target = b.targetName;
			info.boardName = b.boardName;
			info.manufacturerId = b.manufacturerId;
			info.hardwareRevision = b.hardwareRevision;
		});
	}
	const build = await ask(MspCommand.buildInfo);
	if (build) attempt(() => (info.revision = decodeBuildInfo(build).revision || undefined));
	const uid = await ask(MspCommand.uid);
	if (uid) attempt(() => (info.mcuId = decodeUid(uid)));
	for (const key of Object.keys(info) as (keyof MspIdentity)[]) if (info[key] === undefined) delete info[key];
	return info;
}

/** "1.46" >= "1.42"? Unknown or malformed versions compare as false. */
export function apiAtLeast(apiVersion: string | undefined, major: number, minor: number): boolean {
	const m = /^(\d+)\.(\d+)/.exec(apiVersion ?? '');
	if (!m) return false;
	const [a, b] = [Number(m[1]), Number(m[2])];
	return a > major || (a === major && b >= minor);
}
