// Control transfers with the peers' 5 s timeout and one error vocabulary: a vanished device is
// DeviceGoneError (the board is still in its ROM bootloader), a stall is {stalled: true}, anything
// else is TransferError. WebUSB has no per-transfer timeout, so we race a timer.
import {DeviceGoneError, FcflashError, TransferError} from '../errors.js';
import type {DfuUsbDevice} from './webusb.js';

export const transferTimeoutMs = 5000;

export interface TraceEntry {
	dir: 'in' | 'out';
	request: number;
	value: number;
	length: number;
	status: string;
}
export type Tracer = (entry: TraceEntry) => void;

const goneCodes = /NO_DEVICE|LIBUSB_ERROR_IO|disconnected|ENODEV|device (has been|was) (removed|disconnected)|NotFoundError/i;

export function mapUsbError(error: unknown): FcflashError {
	if (error instanceof FcflashError) return error;
	const message = error instanceof Error ? `${error.message} ${(error as {code?: string}).code ?? ''}` : String(error);
	if (goneCodes.test(message)) return new DeviceGoneError();
	return new TransferError(`USB transfer failed: ${error instanceof Error ? error.message : String(error)}`);
}

async function withTimeout<T>(promise: Promise<T>, what: string, ms: number): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new TransferError(`${what} timed out after ${ms / 1000} s`)), ms);
	});
	try {
		return await Promise.race([promise, timeout]);
	} finally {
		clearTimeout(timer);
	}
}

export interface ClassTransfer {
	device: DfuUsbDevice;
	interfaceNumber: number;
	trace?: Tracer;
	timeoutMs?: number;
}

export type InResult = {stalled: false; data: Uint8Array} | {stalled: true};

export async function controlIn(
	t: ClassTransfer,
	request: number,
	value: number,
	length: number,
	setup: {requestType?: USBRequestType; recipient?: USBRecipient; index?: number} = {},
): Promise<InResult> {
	const params: USBControlTransferParameters = {
		requestType: setup.requestType ?? 'class',
		recipient: setup.recipient ?? 'interface',
		request,
		value,
		index: setup.index ?? t.interfaceNumber,
	};
	try {
		const result = await withTimeout(t.device.controlTransferIn(params, length), `request ${request}`, t.timeoutMs ?? transferTimeoutMs);
		t.trace?.({dir: 'in', request, value, length, status: result.status});
		if (result.status === 'stall') return {stalled: true};
		if (result.status !== 'ok' || !result.data) throw new TransferError(`USB IN request ${request} returned ${result.status}`);
		const view = result.data;
		return {stalled: false, data: new Uint8Array(view.buffer, view.byteOffset, view.byteLength)};
	} catch (error) {
		t.trace?.({dir: 'in', request, value, length, status: 'error'});
		throw mapUsbError(error);
	}
}

/** Returns false when the device stalled the request. */
export async function controlOut(t: ClassTransfer, request: number, value: number, data?: Uint8Array): Promise<boolean> {
	const params: USBControlTransferParameters = {requestType: 'class', recipient: 'interface', request, value, index: t.interfaceNumber};
	try {
		const result = await withTimeout(
			data && data.length > 0 ? t.device.controlTransferOut(params, data) : t.device.controlTransferOut(params),
			`request ${request}`,
			t.timeoutMs ?? transferTimeoutMs,
		);
		t.trace?.({dir: 'out', request, value, length: data?.length ?? 0, status: result.status});
		if (result.status === 'stall') return false;
		if (result.status !== 'ok') throw new TransferError(`USB OUT request ${request} returned ${result.status}`);
		return true;
	} catch (error) {
		t.trace?.({dir: 'out', request, value, length: data?.length ?? 0, status: 'error'});
		throw mapUsbError(error);
	}
}
