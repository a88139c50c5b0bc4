// DFU 1.1 / DfuSe numbers the emulated ROM speaks (REFERENCE.md). Kept here, not imported from the
// engine, so that the emulator stays an independent referee of the engine's own constants.

export const DfuRequest = {
	DETACH: 0,
	DNLOAD: 1,
	UPLOAD: 2,
	GETSTATUS: 3,
	CLRSTATUS: 4,
	GETSTATE: 5,
	ABORT: 6,
} as const;

export const DfuState = {
	appIDLE: 0,
	appDETACH: 1,
	dfuIDLE: 2,
	dfuDNLOAD_SYNC: 3,
	dfuDNBUSY: 4,
	dfuDNLOAD_IDLE: 5,
	dfuMANIFEST_SYNC: 6,
	dfuMANIFEST: 7,
	dfuMANIFEST_WAIT_RESET: 8,
	dfuUPLOAD_IDLE: 9,
	dfuERROR: 10,
} as const;
export type DfuStateCode = (typeof DfuState)[keyof typeof DfuState];

export const DfuStatus = {
	OK: 0,
	errTARGET: 1,
	errFILE: 2,
	errWRITE: 3,
	errERASE: 4,
	errCHECK_ERASED: 5,
	errPROG: 6,
	errVERIFY: 7,
	errADDRESS: 8,
	errNOTDONE: 9,
	errFIRMWARE: 10,
	errVENDOR: 11,
	errUSBR: 12,
	errPOR: 13,
	errUNKNOWN: 14,
	errSTALLEDPKT: 15,
} as const;
export type DfuStatusCode = (typeof DfuStatus)[keyof typeof DfuStatus];

export const DfuseCommand = {
	GET_COMMANDS: 0x00,
	SET_ADDRESS: 0x21,
	ERASE: 0x41,
	READ_UNPROTECT: 0x92,
} as const;

export const StandardRequest = {
	GET_STATUS: 0,
	CLEAR_FEATURE: 1,
	SET_FEATURE: 3,
	SET_ADDRESS: 5,
	GET_DESCRIPTOR: 6,
	SET_DESCRIPTOR: 7,
	GET_CONFIGURATION: 8,
	SET_CONFIGURATION: 9,
	GET_INTERFACE: 10,
	SET_INTERFACE: 11,
} as const;

/** bmRequestType fields. */
export const RequestType = {
	IN: 0x80,
	TYPE_MASK: 0x60,
	STANDARD: 0x00,
	CLASS: 0x20,
	VENDOR: 0x40,
	RECIPIENT_MASK: 0x1f,
	DEVICE: 0,
	INTERFACE: 1,
	ENDPOINT: 2,
	OTHER: 3,
} as const;
