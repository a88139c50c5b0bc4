// What the engine infers about the chip from its USB vendor id and flash layout: a human name, as the
// Configurator guesses it, and the few behaviours that differ by family. The layout is the fact;
// the family is a guess that only selects quirks documented in REFERENCE.md.
import {layoutSize, parseLayout, type MemoryLayout} from './layout.js';

export type ChipFamily = 'STM32H7' | 'STM32F4' | 'STM32F7' | 'STM32G4/F3' | 'AT32F43x' | 'APM32' | 'GD32' | 'X32' | 'STM32';

export interface ChipQuirks {
	family: ChipFamily;
	/**
	 * STM32H7 can stay in dfuDNBUSY past its poll timeout after a sector erase or a data write (bank 2);
	 * Betaflight and STM32CubeProgrammer clear that with CLRSTATUS and carry on. On every other chip a
	 * stuck busy is a fault.
	 */
	recoversStuckBusy: boolean;
	/** Flash word programmed at once with ECC (H7: 32 bytes, programmable once per erase); 0 for none. */
	flashWord: number;
	/** What a mass erase takes, for progress only (the wait itself is bounded by 35 s). */
	massEraseExpectedMs: number;
}

const MiB = 1024 * 1024;

export function flashSizeText(bytes: number): string {
	return bytes >= MiB && bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

function family(vendorId: number, flash: MemoryLayout): ChipFamily {
	const sizes = flash.sectors.map((s) => s.size / 1024);
	if (vendorId === 0x2e3c) return 'AT32F43x';
	if (vendorId === 0x314b) return 'APM32';
	if (vendorId === 0x28e9) return 'GD32';
	if (vendorId === 0x3997) return 'X32';
	if (sizes.every((s) => s === 128) && flash.sectors.length >= 8) return 'STM32H7';
	if (sizes[0] === 16 && sizes[4] === 64) return 'STM32F4';
	if (sizes[0] === 32 && sizes[4] === 128) return 'STM32F7';
	if (sizes[0] === 2 || sizes[0] === 4) return 'STM32G4/F3';
	return 'STM32';
}

export function chipQuirks(vendorId: number, flash: MemoryLayout): ChipQuirks {
	const f = family(vendorId, flash);
	// F40x: 8 s for 1 MiB at x32 (REFERENCE.md); bigger parts take proportionally longer.
	const massEraseExpectedMs = Math.min(35_000, 8000 * Math.max(1, layoutSize(flash) / MiB));
	return {family: f, recoversStuckBusy: f === 'STM32H7', flashWord: f === 'STM32H7' ? 32 : 0, massEraseExpectedMs};
}

export function bootloaderVersion(bcdDevice: number): string {
	const high = (bcdDevice >> 8) & 0xff;
	return `${high >> 4}.${high & 0xf}`;
}

export interface ChipGuess {
	/** e.g. "STM32F405/F407 (1 MiB)": for people. */
	text: string;
	/** e.g. "STM32F4", "STM32F7", "STM32H7", "AT32F4": for the target check. */
	family?: string;
	/** The parts this can be, as they appear in firmware target names (F405, F7X2, H743...). */
	parts?: string[];
}

function parseOrUndefined(text: string): MemoryLayout | undefined {
	try {
		return parseLayout(text);
	} catch {
		return undefined;
	}
}

const KiB = 1024;

/**
 * Which MCU a board in DFU is, from its vendor id and the layouts of all its alternate settings: a
 * name for people, the family and parts for the target check. Alt 0 alone cannot tell an F411 from
 * an F722 (both 04*016K,01*064K,03*128K); the option bytes can: 0x1FFFC000 on F4, 0x1FFF0000 on F7.
 */
export function describeChip(vendorId: number, layoutTexts: readonly string[]): ChipGuess {
	const layouts = layoutTexts.map(parseOrUndefined);
	const main = layouts[0];
	if (!main) return {text: 'unknown chip'};
	const size = layoutSize(main);
	const sized = (name: string, family?: string, parts?: string[]): ChipGuess => ({text: `${name} (${flashSizeText(size)})`, family, parts});
	if (vendorId === 0x2e3c) return sized('AT32F43x', 'AT32F4', ['F435', 'F437']);
	if (vendorId === 0x314b) return sized('APM32F4', 'APM32F4', ['F405', 'F407']);
	if (vendorId === 0x28e9) return sized('GD32', 'GD32');
	if (vendorId === 0x3997) return sized('X32', 'X32');
	const optionBytes = layouts.slice(1).map((l) => l?.sectors[0]?.start);
	const sizes = main.sectors.map((s) => s.size);
	if (sizes.every((s) => s === 128 * KiB) && main.sectors.length >= 8) return sized('STM32H7', 'STM32H7', size >= 2048 * KiB ? ['H743', 'H753'] : ['H743', 'H750', 'H723', 'H725', 'H730', 'H735']);
	const f7 = optionBytes.includes(0x1fff0000);
	const f4 = optionBytes.includes(0x1fffc000);
	if (sizes[0] === 32 * KiB) return sized('STM32F745/F765', 'STM32F7', ['F745', 'F746', 'F765', 'F767', 'F769']);
	if (sizes[0] === 16 * KiB && sizes[4] === 64 * KiB) {
		if (f7) return sized('STM32F722/F7X2', 'STM32F7', ['F7X2', 'F722', 'F723', 'F732', 'F733']);
		if (f4 || optionBytes.length === 0) {
			const family = f4 ? 'STM32F4' : undefined;
			if (size === 1024 * KiB) return sized('STM32F405/F407', family, family && ['F405', 'F407']);
			if (size === 2048 * KiB) return sized('STM32F42x/F43x', family, family && ['F427', 'F429', 'F437', 'F439']);
			if (size === 512 * KiB) return f4 ? sized('STM32F411/F401', family, ['F411', 'F401']) : sized('STM32F4/F7');
			return sized('STM32F4', family);
		}
	}
	if (sizes[0] === 2 * KiB || sizes[0] === 4 * KiB) return sized('STM32G4/F3 or clone');
	return sized('STM32');
}
