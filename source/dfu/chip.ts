// What the engine infers about the chip from its USB vendor id and flash layout: a human name, as the
// Configurator guesses it, and the few behaviours that differ by family. The layout is the fact;
// the family is a guess that only selects quirks documented in REFERENCE.md.
import {layoutSize, type MemoryLayout} from './layout.js';

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

/** A human guess at the chip from the layout, as the Configurator does; the layout is the fact. */
export function describeChip(vendorId: number, flash: MemoryLayout): string {
	const size = layoutSize(flash);
	const f = family(vendorId, flash);
	let name: string = f;
	if (f === 'STM32F4') name = size === MiB ? 'STM32F405/F407' : size === 2 * MiB ? 'STM32F42x/F43x' : 'STM32F4/F7';
	else if (f === 'STM32F7') name = 'STM32F745/F765';
	else if (f === 'STM32G4/F3') name = 'STM32G4/F3 or clone';
	return `${name} (${flashSizeText(size)})`;
}
