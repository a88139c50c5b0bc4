// Built-in boards for the emulated ROM bootloader. Descriptors and layouts are the strings the real
// ROMs report (REFERENCE.md); timings are the fixed "emulated bootloader must use" figures so that
// benchmarks compare like with like, not measurements of any one chip.
import type {EmulatorProfile, ProfileName} from './types.js';

const KiB = 1024;

/**
 * F4/F7 sector erase time: 16 KiB 0.35 s, 64 KiB 0.8 s, 128 KiB 1.2 s, interpolated linearly in
 * between so that odd sizes (AT32 4 KiB pages) get a proportional figure.
 */
export function stEraseMs(size: number): number {
	if (size <= 16 * KiB) return (350 * size) / (16 * KiB);
	if (size <= 64 * KiB) return 350 + ((size - 16 * KiB) * 450) / (48 * KiB);
	return 800 + ((size - 64 * KiB) * 400) / (64 * KiB);
}

/** H7 128 KiB sectors take 1.5 s; anything else scales with size. */
function h7EraseMs(size: number): number {
	return (1500 * size) / (128 * KiB);
}

// Option bytes as the F4 ROM shows them at 0x1FFFC000: USER 0xEF (BOR off, IWDG sw), RDP 0xAA
// (level 0), then the complements and nWRP = 0x0FFF (no sector write protected).
const f4OptionBytes = [0xef, 0xaa, 0x10, 0x55, 0xff, 0xff, 0x00, 0x00, 0xff, 0x0f, 0x00, 0xf0, 0xff, 0xff, 0xff, 0xff];

const stCommon = {
	vendorId: 0x0483,
	productId: 0xdf11,
	bcdDevice: 0x2200,
	manufacturer: 'STMicroelectronics',
	product: 'STM32  BOOTLOADER',
	dfuAttributes: 0x0b,
	massEraseMs: 8000,
} as const;

/** F40x/F41x: the same system memory behind the flash (option bytes, OTP, device feature). */
const f4System = {
	wTransferSize: 2048,
	rdp: {alt: 1, offset: 1, level0: 0xaa, level1: 0xbb},
	altData: {1: f4OptionBytes},
	eraseMs: stEraseMs,
} as const;
const f4Alts = ['@Option Bytes  /0x1FFFC000/01*016 e', '@OTP Memory /0x1FFF7800/01*512 e,01*016 e', '@Device Feature/0xFFFF0000/01*004 e'];

export const profiles: Record<ProfileName, EmulatorProfile> = {
	stm32f405: {
		...stCommon,
		...f4System,
		name: 'stm32f405',
		chip: 'STM32F405',
		serialNumber: '3276364A3030',
		layouts: ['@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg', ...f4Alts],
	},
	stm32f411: {
		...stCommon,
		...f4System,
		name: 'stm32f411',
		chip: 'STM32F411',
		serialNumber: '356F38623435',
		layouts: ['@Internal Flash  /0x08000000/04*016Kg,01*064Kg,03*128Kg', ...f4Alts],
	},
	stm32f722: {
		...stCommon,
		name: 'stm32f722',
		chip: 'STM32F722',
		serialNumber: '206A37813153',
		wTransferSize: 2048,
		layouts: [
			'@Internal Flash  /0x08000000/04*016Kg,01*064Kg,03*128Kg',
			// F72x option bytes: 0x1FFF0000, RDP in bits 15:8 of the first word (approx. string).
			'@Option Bytes   /0x1FFF0000/01*032 e',
			'@OTP Memory   /0x1FF07800/01*512 e,01*016 e',
		],
		rdp: {alt: 1, offset: 1, level0: 0xaa, level1: 0xbb},
		altData: {1: [0xfd, 0xaa, 0x02, 0x55, 0xff, 0x00, 0x00, 0xff]},
		eraseMs: stEraseMs,
	},
	stm32h743: {
		...stCommon,
		name: 'stm32h743',
		chip: 'STM32H743',
		serialNumber: '2058326D5948',
		wTransferSize: 1024,
		flashWord: 32,
		layouts: [
			'@Internal Flash   /0x08000000/16*128Kg',
			// FLASH_OPTSR_CUR onwards; RDP is bits 15:8 of OPTSR (approx. string).
			'@Option Bytes   /0x5200201C/01*128 e',
		],
		rdp: {alt: 1, offset: 1, level0: 0xaa, level1: 0xbb},
		altData: {1: [0xf0, 0xaa, 0xc6, 0x13]},
		eraseMs: h7EraseMs,
	},
	at32f435: {
		...stCommon,
		name: 'at32f435',
		chip: 'AT32F435',
		vendorId: 0x2e3c,
		productId: 0xdf11,
		bcdDevice: 0x0200,
		manufacturer: 'ArteryTek',
		product: 'AT32 Bootloader DFU',
		serialNumber: '3A5D1F2E0B47',
		wTransferSize: 2048,
		layouts: [
			'@Internal Flash  /0x08000000/256*04Kg',
			// User system data; byte 0 is FAP: 0xA5 = unprotected, anything else = access protection.
			'@Option Bytes  /0x1FFFC000/01*512 e',
		],
		rdp: {alt: 1, offset: 0, level0: 0xa5, level1: 0xff},
		altData: {1: [0xa5, 0x5a]},
		eraseMs: stEraseMs,
	},
};

export const profileNames = Object.keys(profiles) as ProfileName[];

export function isProfileName(name: string): name is ProfileName {
	return Object.hasOwn(profiles, name);
}
