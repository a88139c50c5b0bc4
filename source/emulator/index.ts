// Public API of the emulated STM32 ROM DFU bootloader.
export type {ControlResult, ControlSetup, EmulatorOptions, EmulatorProfile, Faults, ProfileName} from './types.js';
export {EmulatedBootloader, type BootloaderEvents, type DisconnectReason} from './bootloader.js';
export {EmulatedUsbDevice, createEmulatedDevice, noDeviceError, type EmulatedUsbDeviceOptions, type NoDeviceError} from './usb-device.js';
export {profiles, profileNames, isProfileName, stEraseMs} from './profiles.js';
export {
	configurationDescriptor,
	descriptorBlob,
	deviceDescriptor,
	languageDescriptor,
	stringDescriptor,
	stringText,
} from './descriptors.js';
export {AltMemory, type ProgramMode, type MemoryRange} from './flash-memory.js';
export {DfuRequest, DfuState, DfuStatus, DfuseCommand, StandardRequest, RequestType, type DfuStateCode, type DfuStatusCode} from './protocol.js';
