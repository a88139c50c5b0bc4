// Which MCU a board in DFU is, from what the ROM bootloader shows: its USB vendor id and the memory
// layouts of all its alternate settings. Alt 0 alone cannot tell an F411 from an F722 (both
// 04*016K,01*064K,03*128K); the option bytes can: 0x1FFFC000 on F4, 0x1FFF0000 on F7.
import {layoutSize, parseLayout, type MemoryLayout} from '../dfu/layout.js';

export interface ChipGuess {
	/** e.g. "STM32F405/F407 (1 MiB)": for people. */
	text: string;
	/** e.g. "STM32F4", "STM32F7", "STM32H7", "AT32F4": for the target check. */
	family?: string;
	/** The parts this can be, as they appear in firmware target names (F405, F7X2, H743...). */
	parts?: string[];
}

export function flashSizeText(bytes: number): string {
	return bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0 ? `${bytes / 1024 / 1024} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

function parseOrUndefined(text: string): MemoryLayout | undefined {
	try {
		return parseLayout(text);
	} catch {
		return undefined;
	}
}

const KiB = 1024;

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
