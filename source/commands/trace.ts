import type {Tracer} from '../dfu/transfer.js';

const names = ['DETACH', 'DNLOAD', 'UPLOAD', 'GETSTATUS', 'CLRSTATUS', 'GETSTATE', 'ABORT'];

/** --verbose: one stderr line per USB control request. */
export function usbTracer(out: NodeJS.WritableStream): Tracer {
	return (e) => out.write(`usb ${e.dir.padEnd(3)} ${(e.request === 6 && e.dir === 'in' ? 'GET_DESCRIPTOR' : names[e.request] ?? e.request).toString().padEnd(10)} wValue=${e.value} len=${e.length} ${e.status}\n`);
}
