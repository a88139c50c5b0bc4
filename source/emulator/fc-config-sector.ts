// The emulated firmware's settings live where Betaflight keeps them on F4/F7: in a flash sector of
// their own (the 16 KiB sector at 0x08004000), which firmware images leave out. So a sector-wise
// flash keeps them, a full chip erase wipes them, and --simulate-state carries them between runs.
//
// Record: "EMFC", format 1, the version text of the firmware that wrote it (a firmware of another
// major.minor treats the record as foreign, as a real upgrade to another config layout does), the
// payload length and its CRC-32, then the config as JSON.
import {crc32} from '../firmware/dfu-file.js';
import {parseLayout} from '../dfu/layout.js';
import type {FcConfig} from './fc-settings.js';

const MAGIC = Buffer.from('EMFC', 'latin1');
const FORMAT = 1;
const MAX_CONFIG = 16 * 1024;

export interface ConfigArea {
	/** Offset into the main flash buffer. */
	offset: number;
	size: number;
}

/** The second sector of the main flash (0x08004000, 16 KiB on F4/F7), at most 16 KiB of it. */
export function configArea(mainLayout: string): ConfigArea {
	const {sectors} = parseLayout(mainLayout);
	const sector = sectors[1] ?? sectors[0]!;
	return {offset: sector.start - sectors[0]!.start, size: Math.min(sector.size, MAX_CONFIG)};
}

export interface StoredConfig {
	/** The version text of the firmware that wrote it. */
	version: string;
	config: Partial<FcConfig>;
}

export function readConfig(flash: Uint8Array, area: ConfigArea): StoredConfig | undefined {
	const buf = Buffer.from(flash.buffer, flash.byteOffset + area.offset, area.size);
	if (!buf.subarray(0, 4).equals(MAGIC) || buf[4] !== FORMAT) return undefined;
	const versionLength = buf[5]!;
	const at = 6 + versionLength;
	if (at + 8 > buf.length) return undefined;
	const length = buf.readUInt32LE(at);
	const crc = buf.readUInt32LE(at + 4);
	const payload = buf.subarray(at + 8, at + 8 + length);
	if (payload.length !== length || crc32(payload) !== crc) return undefined;
	try {
		return {version: buf.toString('latin1', 6, at), config: JSON.parse(payload.toString('utf8')) as Partial<FcConfig>};
	} catch {
		return undefined;
	}
}

/** Erase the area and program the record, as the firmware's `save` does. */
export function writeConfig(flash: Uint8Array, area: ConfigArea, version: string, config: FcConfig): void {
	const payload = Buffer.from(JSON.stringify(config), 'utf8');
	const versionText = Buffer.from(version, 'latin1').subarray(0, 255);
	const head = Buffer.alloc(6 + versionText.length + 8);
	MAGIC.copy(head, 0);
	head[4] = FORMAT;
	head[5] = versionText.length;
	versionText.copy(head, 6);
	head.writeUInt32LE(payload.length, 6 + versionText.length);
	head.writeUInt32LE(crc32(payload), 10 + versionText.length);
	const record = Buffer.concat([head, payload]);
	if (record.length > area.size) throw new RangeError(`The emulated config (${record.length} bytes) does not fit its ${area.size}-byte sector`);
	const sector = flash.subarray(area.offset, area.offset + area.size);
	sector.fill(0xff);
	sector.set(record);
}

/** "4.5.6" -> "4.5"; "2026.12.0-alpha" -> "2026.12". */
export const majorMinor = (version: string) => version.split('.').slice(0, 2).join('.');
