// The stdout Ink renders to. Ink 6.8's incremental renderer (only changed lines are rewritten, which
// keeps a flash over SSH far below 64 KiB of output) moves the cursor up one line too few when the
// frame ends in a newline (every inline frame): before each same-or-taller frame it writes
// cursorUp(lines - 1) while the cursor sits on the row below the frame. Without a fix, each redraw
// lands one row lower. We correct that one escape sequence on its way out; everything else passes
// through untouched. (cursorUp(0) already moves one row in terminals, so it is left alone.)

/** Rewrite the leading cursor-up of an incremental frame to cover the whole previous frame. */
export function fixIncrementalFrame(chunk: string): string {
	const m = /^\x1b\[(\d+)A/.exec(chunk);
	if (!m || Number(m[1]) === 0) return chunk;
	return `\x1b[${Number(m[1]) + 1}A${chunk.slice(m[0].length)}`;
}

export interface CountingStream {
	stream: NodeJS.WriteStream;
	/** Bytes written so far (what the terminal received from us). */
	bytes(): number;
}

export function inkStdout(out: NodeJS.WriteStream = process.stdout): CountingStream {
	let bytes = 0;
	const write = (chunk: unknown, ...rest: unknown[]): boolean => {
		const text = typeof chunk === 'string' ? fixIncrementalFrame(chunk) : chunk;
		bytes += typeof text === 'string' ? Buffer.byteLength(text) : (text as Uint8Array).length;
		return (out.write as (...args: unknown[]) => boolean)(text, ...rest);
	};
	const stream = new Proxy(out, {
		get(target, prop) {
			if (prop === 'write') return write;
			const value = Reflect.get(target, prop, target) as unknown;
			return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
		},
	});
	return {stream, bytes: () => bytes};
}
