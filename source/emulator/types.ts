// Contract of the emulated STM32 ROM bootloader. The raw, synchronous control-transfer core
// (EmulatedBootloader) is shared by the in-process WebUSB wrapper (EmulatedUsbDevice, used by
// --simulate and the engine tests) and the umockdev harness that serves it to real libusb.

export interface ControlSetup {
	/** bmRequestType byte, e.g. 0x21 class-out-interface, 0xA1 class-in-interface, 0x80 standard-in-device. */
	requestType: number;
	request: number;
	value: number;
	index: number;
	/** wLength */
	length: number;
}

export type ControlResult =
	| {status: 'ok'; data?: Uint8Array}
	| {status: 'stall'}
	/** The device has vanished (fault injection, unprotect, or leave). Every later request also answers this. */
	| {status: 'disconnected'};

export type ProfileName = 'stm32f405' | 'stm32f411' | 'stm32f722' | 'stm32h743' | 'at32f435';

export interface EmulatorProfile {
	name: ProfileName;
	/** Human name, e.g. "STM32F405". */
	chip: string;
	vendorId: number;
	productId: number;
	/** bcdDevice, e.g. 0x2200 (bootloader v2.2). */
	bcdDevice: number;
	manufacturer: string;
	product: string;
	serialNumber: string;
	wTransferSize: number;
	/** bmAttributes of the DFU functional descriptor (0x0B on F4). */
	dfuAttributes: number;
	/** iInterface strings, one per alternate setting; alt 0 is the main flash. */
	layouts: string[];
	/** H7: program 32-byte flash words with ECC: a write to a word that is not erased fails with errPROG. */
	flashWord?: number;
	/** Sector erase time in ms for a sector of this many bytes. */
	eraseMs(sectorSize: number): number;
	/** Real mass-erase time in ms (the ROM still reports a 100 ms bwPollTimeout). Default 8000. */
	massEraseMs?: number;
	/**
	 * Where the read-protection byte lives: alternate setting, byte offset inside it, the value that
	 * means "not protected" (0xAA RDP level 0 on STM32) and the value written to protect it.
	 */
	rdp?: {alt: number; offset: number; level0: number; level1: number};
	/** Initial bytes (from the start of the alternate setting's memory) for alts other than 0; the rest is 0xFF. */
	altData?: Record<number, number[]>;
}

/** An operation that stays in dfuDNBUSY past its end (the STM32H7 pattern), until CLRSTATUS. */
export interface StuckBusyFault {
	/** An address inside the operation: the written block, or the erased sector. */
	at: number;
	op: 'write' | 'erase';
	/**
	 * done: the operation completed when its busy time ended (its effect is in flash), the device just
	 * never says so; lost: it never happened, and CLRSTATUS abandons it with an OK status; failed:
	 * it never happened, and CLRSTATUS leaves dfuERROR with errWRITE/errERASE; partial: a write
	 * programmed only its first half (an interrupted program), and CLRSTATUS says OK.
	 */
	outcome: 'done' | 'lost' | 'failed' | 'partial';
	/** Every such operation at or above `at` sticks, not only the first one covering it. */
	every?: boolean;
}

/** Descriptor overrides: what a broken clone or a bad bootloader might report. */
export interface DescriptorFault {
	/** wTransferSize in the DFU functional descriptor (also what the emulated ROM then uses). */
	transferSize?: number;
	/** false: no DFU functional descriptor at all. */
	functional?: boolean;
	/** Alternate setting 0's layout string instead of the profile's. */
	layout?: string;
}

/** Every fault the emulated ROM can inject; all of them are decided in faults.ts. JSON-safe. */
export interface Faults {
	/** Stall the Nth control request (1-based, counting every request after open). */
	stallOnRequest?: number;
	/** The device leaves the bus instead of answering the Nth request after open. */
	disconnectOnRequest?: number;
	/** Disconnect once this many data bytes have been DNLOADed. */
	disconnectAfterBytes?: number;
	/** Flip bits in UPLOAD data at this address (one byte XOR 0x01), the same on every read. */
	corruptUploadAt?: number;
	/**
	 * A noisy read path at this address: each affected UPLOAD flips a different bit, so two reads
	 * never agree. `reads` bounds how many reads are affected (intermittent); omitted, all are.
	 */
	corruptUpload?: {at: number; reads?: number};
	/** The write covering this address fails with errWRITE. */
	writeErrorAt?: number;
	/** The erase of the sector covering this address fails with errERASE. */
	eraseErrorAt?: number;
	/** The erase of the sector covering this address reports OK and does nothing (a lying clone): only a read-back shows it. */
	eraseIgnoredAt?: number;
	/** Mass erase fails (errERASE), so the host must fall back to sector erase. */
	massEraseFails?: boolean;
	/** A write or erase that stays in dfuDNBUSY past its end (H7). */
	stuckBusy?: StuckBusyFault;
	/** Start with read protection on (RDP level 1). */
	readProtected?: boolean;
	/** Read unprotect answers dfuDNBUSY until its wipe ends, then resets (some clones), instead of resetting at once. */
	unprotectStaysBusy?: boolean;
	/** The state the board is in whenever a host opens it: busy for ever, not in DFU, or in dfuERROR. */
	openState?: 'dfuDNBUSY' | 'appIDLE' | 'dfuERROR';
	/** Another program holds the interface: claiming it fails with LIBUSB_ERROR_BUSY. */
	claimBusy?: boolean;
	descriptor?: DescriptorFault;
	/** Leave (zero-length DNLOAD) is stalled, answered with dfuERROR, or manifests without a reset. */
	leave?: 'stall' | 'error' | 'no-reset';
}

export interface EmulatorOptions {
	/** Multiply every ROM timing by this (1 = real-silicon timing, 0 = instant). Default 1. */
	timeScale?: number;
	faults?: Faults;
	/** Initial main-flash contents (exactly the main flash size); default all 0xFF. */
	flash?: Uint8Array;
	/** Override the profile's serial number (several emulated boards side by side). */
	serialNumber?: string;
}
