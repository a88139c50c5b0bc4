// Public API of the emulated STM32 ROM DFU bootloader.
export type {ControlResult, ControlSetup, DescriptorFault, EmulatorOptions, EmulatorProfile, Faults, ProfileName, StuckBusyFault} from './types.js';
export {EmulatedBootloader, type BootloaderEvents, type DisconnectReason, type EmulatorStats} from './bootloader.js';
export {BusClock, dataStageMs, FULL_SPEED_BYTES_PER_MS} from './bus.js';
export {EmulatedUsbDevice, busyError, createEmulatedDevice, noDeviceError, type EmulatedUsbDeviceOptions, type NoDeviceError} from './webusb-device.js';
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
