// USB chapter 9 standard requests as the ST ROM answers them: descriptors, configuration and the
// alternate setting. Nothing DFU-specific happens here.
import {DESCRIPTOR_CONFIGURATION, DESCRIPTOR_DEVICE, DESCRIPTOR_STRING, languageDescriptor, stringDescriptor, stringText} from './descriptors.js';
import {RequestType, StandardRequest} from './protocol.js';
import type {ControlResult, ControlSetup, EmulatorProfile} from './types.js';

/** The device as standard requests see and change it. */
export interface StandardDevice {
	readonly profile: EmulatorProfile;
	readonly serialNumber: string;
	readonly alternate: number;
	configurationValue: number;
	deviceDescriptor(): Uint8Array;
	configurationDescriptor(): Uint8Array;
	/** SET_INTERFACE: false (stall) for an alternate setting that does not exist. */
	setAlternate(alt: number): boolean;
}

export function standardRequest(device: StandardDevice, setup: ControlSetup): ControlResult {
	const dirIn = (setup.requestType & RequestType.IN) !== 0;
	const recipient = setup.requestType & RequestType.RECIPIENT_MASK;
	switch (setup.request) {
		case StandardRequest.GET_DESCRIPTOR:
			return dirIn ? descriptor(device, setup.value >> 8, setup.value & 0xff) : {status: 'stall'};
		case StandardRequest.GET_STATUS:
			if (!dirIn) return {status: 'stall'};
			// Device: bit0 self-powered (matches bmAttributes 0xC0); interface/endpoint: zero.
			return {status: 'ok', data: Uint8Array.of(recipient === RequestType.DEVICE ? 1 : 0, 0)};
		case StandardRequest.GET_CONFIGURATION:
			return dirIn ? {status: 'ok', data: Uint8Array.of(device.configurationValue)} : {status: 'stall'};
		case StandardRequest.SET_CONFIGURATION:
			if (dirIn || (setup.value !== 0 && setup.value !== 1)) return {status: 'stall'};
			device.configurationValue = setup.value;
			return {status: 'ok'};
		case StandardRequest.GET_INTERFACE:
			return dirIn && setup.index === 0 ? {status: 'ok', data: Uint8Array.of(device.alternate)} : {status: 'stall'};
		case StandardRequest.SET_INTERFACE:
			if (dirIn || setup.index !== 0) return {status: 'stall'};
			return device.setAlternate(setup.value) ? {status: 'ok'} : {status: 'stall'};
		case StandardRequest.SET_ADDRESS:
		case StandardRequest.CLEAR_FEATURE:
		case StandardRequest.SET_FEATURE:
			return dirIn ? {status: 'stall'} : {status: 'ok'};
		default:
			return {status: 'stall'};
	}
}

function descriptor(device: StandardDevice, type: number, index: number): ControlResult {
	if (type === DESCRIPTOR_DEVICE && index === 0) return {status: 'ok', data: device.deviceDescriptor()};
	if (type === DESCRIPTOR_CONFIGURATION && index === 0) return {status: 'ok', data: device.configurationDescriptor()};
	if (type === DESCRIPTOR_STRING) {
		if (index === 0) return {status: 'ok', data: languageDescriptor()};
		const text = stringText(device.profile, index, device.serialNumber);
		if (text !== undefined) return {status: 'ok', data: stringDescriptor(text)};
	}
	// Device qualifier, BOS, other-speed...: a full-speed USB 2.0 device stalls them.
	return {status: 'stall'};
}
