// The last step between Ink and the terminal. Ink renders each frame as text into `stream` (a
// stream of ours, not the terminal: Ink's debug mode hands over whole frames and writes nothing
// else); the writer owns the terminal: it runs in the alternate screen, keeps what it last put on
// each row as cells (character + style), and writes only the cells that changed, each run at an
// absolute position. No relative cursor movement, so a frame can never drift or leave stale rows,
// whatever was on the screen before. Frames are clipped to rows x columns and written at most
// `maxFps` times a second (the latest frame wins).
import {EventEmitter} from 'node:events';

export interface TerminalOut {
	write(text: string): unknown;
}

/** What Ink needs of its stdout. isTTY is false so Ink writes frames only (no cursor codes). */
export interface FrameStream extends EventEmitter {
	columns: number;
	rows: number;
	isTTY: false;
	write(chunk: string | Uint8Array, ...rest: unknown[]): boolean;
}

export const enterScreen = '\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J';
export const leaveScreen = '\x1b[0m\x1b[?25h\x1b[?1049l';

interface Cell {
	ch: string;
	style: string;
}

export interface Row {
	cells: Cell[];
	/** Text with escape codes we do not model, or characters whose width is not one column: rewritten whole. */
	opaque?: string;
	width: number;
}

const blankRow: Row = {cells: [], width: 0};

interface Pen {
	fg: string;
	bg: string;
	bold: boolean;
	dim: boolean;
	italic: boolean;
	underline: boolean;
	inverse: boolean;
	strike: boolean;
}

const plainPen: Pen = {fg: '', bg: '', bold: false, dim: false, italic: false, underline: false, inverse: false, strike: false};

/** Apply one SGR parameter list; undefined for a code we do not model. */
function applySgr(pen: Pen, params: string): Pen | undefined {
	const codes = params === '' ? [0] : params.split(';').map(Number);
	let p = {...pen};
	for (let i = 0; i < codes.length; i++) {
		const c = codes[i]!;
		if (Number.isNaN(c)) return undefined;
		if (c === 0) p = {...plainPen};
		else if (c === 1) p.bold = true;
		else if (c === 2) p.dim = true;
		else if (c === 22) p.bold = p.dim = false;
		else if (c === 3) p.italic = true;
		else if (c === 23) p.italic = false;
		else if (c === 4) p.underline = true;
		else if (c === 24) p.underline = false;
		else if (c === 7) p.inverse = true;
		else if (c === 27) p.inverse = false;
		else if (c === 9) p.strike = true;
		else if (c === 29) p.strike = false;
		else if ((c >= 30 && c <= 37) || (c >= 90 && c <= 97)) p.fg = String(c);
		else if (c === 39) p.fg = '';
		else if ((c >= 40 && c <= 47) || (c >= 100 && c <= 107)) p.bg = String(c);
		else if (c === 49) p.bg = '';
		else if (c === 38 || c === 48) {
			const mode = codes[i + 1];
			const n = mode === 5 ? 1 : mode === 2 ? 3 : -1;
			if (n < 0 || i + 1 + n >= codes.length) return undefined;
			const value = codes.slice(i, i + 2 + n).join(';');
			if (c === 38) p.fg = value;
			else p.bg = value;
			i += 1 + n;
		} else return undefined;
	}
	return p;
}

function penCode(p: Pen): string {
	const parts: string[] = [];
	if (p.bold) parts.push('1');
	if (p.dim) parts.push('2');
	if (p.italic) parts.push('3');
	if (p.underline) parts.push('4');
	if (p.inverse) parts.push('7');
	if (p.strike) parts.push('9');
	if (p.fg) parts.push(p.fg);
	if (p.bg) parts.push(p.bg);
	return parts.join(';');
}

/** Characters known to take exactly one column (ASCII, Latin, and the glyphs the theme uses). */
function singleWidth(code: number): boolean {
	if (code >= 0x20 && code < 0x7f) return true;
	if (code >= 0xa0 && code < 0x300) return true;
	return code === 0x2013 || code === 0x2014 || code === 0x2026 || code === 0x2500 || code === 0x2588 || code === 0x2591 || code === 0x25b6 || code === 0x26a0 || code === 0x2714 || code === 0x2718 || code === 0x276f || code === 0x2192;
}

/** One line of Ink's output as cells, at most `columns` wide. */
export function parseRow(line: string, columns: number): Row {
	const cells: Cell[] = [];
	let pen = plainPen;
	let style = '';
	for (let i = 0; i < line.length; ) {
		const code = line.codePointAt(i)!;
		if (code === 0x1b) {
			// Only SGR (ESC [ params m) is modelled; anything else makes the row opaque.
			if (line[i + 1] !== '[') return opaqueRow(line, columns);
			let j = i + 2;
			while (j < line.length && /[0-9;]/.test(line[j]!)) j++;
			if (line[j] !== 'm') return opaqueRow(line, columns);
			const next = applySgr(pen, line.slice(i + 2, j));
			if (!next) return opaqueRow(line, columns);
			pen = next;
			style = penCode(pen);
			i = j + 1;
			continue;
		}
		if (!singleWidth(code)) return opaqueRow(line, columns);
		const ch = String.fromCodePoint(code);
		if (cells.length < columns) cells.push({ch, style});
		i += ch.length;
	}
	// Trailing unstyled blanks are the same as nothing.
	while (cells.length > 0 && cells.at(-1)!.ch === ' ' && cells.at(-1)!.style === '') cells.pop();
	return {cells, width: cells.length};
}

function opaqueRow(line: string, columns: number): Row {
	// eslint-disable-next-line no-control-regex
	const visible = line.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
	return {cells: [], opaque: line, width: Math.min(columns, [...visible].length)};
}

const sameCell = (a: Cell | undefined, b: Cell | undefined) => (a?.ch ?? ' ') === (b?.ch ?? ' ') && (a?.style ?? '') === (b?.style ?? '');
const sameRow = (a: Row, b: Row) => a.opaque === b.opaque && a.width === b.width && a.cells.every((c, i) => sameCell(c, b.cells[i]));
const moveTo = (row: number, col: number) => `\x1b[${row + 1};${col + 1}H`;
/** Unchanged cells between two changed runs that are cheaper to rewrite than to jump over. */
const mergeGap = 6;

export interface ScreenWriterOptions {
	/** Writes a second at most (default 10). */
	maxFps?: number;
	columns: number;
	rows: number;
	now?: () => number;
	/** Each frame as written: its rows as plain text (for tests that compare with the terminal). */
	onFrame?: (rows: string[]) => void;
}

/** A row as the terminal shows it, without styles. */
export function rowText(row: Row): string {
	// eslint-disable-next-line no-control-regex
	return row.opaque !== undefined ? row.opaque.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').trimEnd() : row.cells.map((c) => c.ch).join('').trimEnd();
}

export class ScreenWriter {
	readonly stream: FrameStream;
	/** Bytes written to the terminal so far. */
	bytes = 0;
	/** Writes that changed something on the screen. */
	redraws = 0;
	/** When each of them happened (performance.now()). */
	readonly redrawTimes: number[] = [];
	private screen: Row[] | undefined = undefined;
	private pending: string | undefined;
	private last: string | undefined;
	private timer: NodeJS.Timeout | undefined;
	private lastFlush = Number.NEGATIVE_INFINITY;
	/** When the writes of the last second happened. */
	private recent: number[] = [];
	private active = false;
	private dead = false;
	private readonly maxFps: number;
	private readonly now: () => number;
	private readonly onFrame?: (rows: string[]) => void;

	constructor(
		private readonly out: TerminalOut,
		options: ScreenWriterOptions,
	) {
		this.maxFps = options.maxFps ?? 10;
		this.now = options.now ?? (() => performance.now());
		this.onFrame = options.onFrame;
		const stream = new EventEmitter() as FrameStream;
		stream.columns = options.columns;
		stream.rows = options.rows;
		stream.isTTY = false;
		stream.write = (chunk: string | Uint8Array) => {
			this.frame(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
			return true;
		};
		this.stream = stream;
	}

	get columns() {
		return this.stream.columns;
	}

	get rows() {
		return this.stream.rows;
	}

	/** Enter the alternate screen (cleared, cursor hidden). */
	start(): void {
		if (this.dead || this.active) return;
		this.active = true;
		this.emit(enterScreen);
		this.screen = [];
	}

	/** A whole frame from Ink. */
	frame(text: string): void {
		this.pending = text;
		this.last = text;
		if (!this.active || this.dead || this.timer) return;
		this.flushWhenAllowed();
	}

	private flushWhenAllowed(): void {
		this.timer = undefined;
		const wait = this.waitMs();
		if (wait <= 0) this.flush();
		// Timers may fire a little early: the window is checked again then.
		else this.timer = setTimeout(() => this.flushWhenAllowed(), wait);
	}

	/**
	 * How long until the next write is allowed: at most maxFps writes in any one second (a sliding
	 * window, so the boards arriving just after the first frame are not held back).
	 */
	private waitMs(): number {
		const now = this.now();
		while (this.recent.length > 0 && now - this.recent[0]! >= 1000) this.recent.shift();
		return this.recent.length < this.maxFps ? 0 : this.recent[0]! + 1000 - now;
	}

	/** The terminal changed size: the next frame repaints everything. */
	resize(columns: number, rows: number): void {
		if (columns === this.stream.columns && rows === this.stream.rows) return;
		this.stream.columns = columns;
		this.stream.rows = rows;
		this.screen = undefined;
		this.stream.emit('resize');
		// Ink renders again on resize; if nothing new comes, repaint the last frame at the new size.
		if (this.pending === undefined && this.last !== undefined) this.frame(this.last);
	}

	/** Write the pending frame now. */
	flush(): void {
		if (this.timer) clearTimeout(this.timer);
		this.timer = undefined;
		const text = this.pending;
		this.pending = undefined;
		if (text === undefined || !this.active || this.dead) return;
		this.lastFlush = this.now();
		const out = this.render(text);
		if (out) {
			this.redraws++;
			this.recent.push(this.lastFlush);
			if (this.redrawTimes.length < 100_000) this.redrawTimes.push(this.lastFlush);
			this.emit(out);
		}
		this.onFrame?.(this.screen!.map(rowText));
	}

	/** Give the terminal its normal screen back (a frame still waiting is dropped: it would not be seen). */
	stop(): void {
		if (!this.active) return;
		if (this.timer) clearTimeout(this.timer);
		this.timer = undefined;
		this.pending = undefined;
		this.active = false;
		this.emit(leaveScreen);
	}

	/** The terminal is gone (SIGHUP): never write again. */
	kill(): void {
		this.dead = true;
		if (this.timer) clearTimeout(this.timer);
		this.timer = undefined;
	}

	/** The most redraws in any one second. */
	maxRedrawsPerSecond(): number {
		const t = this.redrawTimes;
		let best = 0;
		for (let i = 0, j = 0; i < t.length; i++) {
			while (t[i]! - t[j]! >= 1000) j++;
			best = Math.max(best, i - j + 1);
		}
		return best;
	}

	get isDead() {
		return this.dead;
	}

	private emit(text: string) {
		if (this.dead) return;
		this.bytes += Buffer.byteLength(text);
		try {
			this.out.write(text);
		} catch {
			// The terminal went away; SIGHUP follows.
		}
	}

	/** The escape codes that turn the screen as we left it into `text`. */
	private render(text: string): string {
		const {columns, rows} = this.stream;
		const lines = text.split('\n').slice(0, rows);
		const next = lines.map((l) => parseRow(l, columns));
		let out = '';
		let style = '';
		const pen = (s: string) => {
			if (s === style) return;
			out += s === '' ? '\x1b[0m' : `\x1b[0;${s}m`;
			style = s;
		};
		let prev = this.screen;
		if (!prev) {
			out += '\x1b[0m\x1b[H\x1b[2J';
			prev = [];
		}
		for (let r = 0; r < next.length; r++) {
			const a = prev[r] ?? blankRow;
			const b = next[r]!;
			if (sameRow(a, b)) continue;
			if (a.opaque !== undefined || b.opaque !== undefined) {
				pen('');
				out += moveTo(r, 0);
				if (b.opaque !== undefined) out += b.opaque + '\x1b[0m';
				else
					for (const c of b.cells) {
						pen(c.style);
						out += c.ch;
					}
				pen('');
				if (b.width < columns) out += '\x1b[K';
				continue;
			}
			// Runs of changed cells, merged across short unchanged gaps.
			let i = 0;
			while (i < b.width) {
				if (sameCell(a.cells[i], b.cells[i])) {
					i++;
					continue;
				}
				let end = i + 1;
				for (let j = end; j < b.width; j++) {
					if (!sameCell(a.cells[j], b.cells[j])) end = j + 1;
					else if (j - end >= mergeGap) break;
				}
				out += moveTo(r, i);
				for (let j = i; j < end; j++) {
					const c = b.cells[j]!;
					pen(c.style);
					out += c.ch;
				}
				i = end;
			}
			if (b.width < a.width) {
				pen('');
				out += moveTo(r, b.width) + '\x1b[K';
			}
		}
		if (prev.slice(next.length).some((row) => row.width > 0 || row.opaque !== undefined)) {
			pen('');
			out += moveTo(next.length, 0) + '\x1b[J';
		}
		pen('');
		this.screen = next;
		return out;
	}
}
