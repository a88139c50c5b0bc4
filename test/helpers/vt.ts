// A small terminal emulator for the escape codes a full-screen app may use (cursor position, erase
// line/screen, SGR, alternate screen, relative moves), so tests can check what a screen would show.
export class VirtualTerminal {
	screen: string[][];
	private saved: string[][] | undefined;
	row = 0;
	col = 0;
	/** Escape sequences seen that move the cursor relative to where it is. */
	relativeMoves = 0;
	alternate = false;
	cursorHidden = false;

	constructor(
		readonly columns: number,
		readonly rows: number,
		initial: string[] = [],
	) {
		this.screen = this.blank();
		initial.slice(0, rows).forEach((line, r) => [...line].slice(0, columns).forEach((ch, c) => (this.screen[r]![c] = ch)));
	}

	private blank() {
		return Array.from({length: this.rows}, () => Array.from({length: this.columns}, () => ' '));
	}

	lines(): string[] {
		return this.screen.map((r) => r.join('').trimEnd());
	}

	write(data: string) {
		for (let i = 0; i < data.length; ) {
			const ch = data[i]!;
			if (ch === '\x1b') {
				const m = /^\x1b\[(\??)([0-9;]*)([A-Za-z])/.exec(data.slice(i));
				if (!m) throw new Error(`unknown escape at ${JSON.stringify(data.slice(i, i + 8))}`);
				this.csi(m[1]!, m[2]!, m[3]!);
				i += m[0].length;
				continue;
			}
			if (ch === '\n') {
				this.row = Math.min(this.rows - 1, this.row + 1);
				i++;
				continue;
			}
			if (ch === '\r') {
				this.col = 0;
				i++;
				continue;
			}
			const cp = String.fromCodePoint(data.codePointAt(i)!);
			if (this.col >= this.columns) {
				// Pending wrap: the next character goes to the next line.
				this.col = 0;
				this.row = Math.min(this.rows - 1, this.row + 1);
			}
			this.screen[this.row]![this.col] = cp;
			this.col++;
			i += cp.length;
		}
	}

	private csi(private_: string, params: string, final: string) {
		const n = params.split(';').map((x) => (x === '' ? undefined : Number(x)));
		if (private_ === '?') {
			if (params === '1049') {
				if (final === 'h' && !this.alternate) {
					this.saved = this.screen.map((r) => [...r]);
					this.screen = this.blank();
					this.alternate = true;
				} else if (final === 'l' && this.alternate) {
					this.screen = this.saved ?? this.blank();
					this.alternate = false;
				}
			}
			if (params === '25') this.cursorHidden = final === 'l';
			return;
		}
		switch (final) {
			case 'H':
				this.row = Math.min(this.rows - 1, (n[0] ?? 1) - 1);
				this.col = Math.min(this.columns - 1, (n[1] ?? 1) - 1);
				return;
			case 'K': {
				const from = Math.min(this.col, this.columns);
				for (let c = from; c < this.columns; c++) this.screen[this.row]![c] = ' ';
				return;
			}
			case 'J':
				if ((n[0] ?? 0) === 2) {
					this.screen = this.blank();
					return;
				}
				for (let c = this.col; c < this.columns; c++) this.screen[this.row]![c] = ' ';
				for (let r = this.row + 1; r < this.rows; r++) this.screen[r] = Array.from({length: this.columns}, () => ' ');
				return;
			case 'm':
				return;
			case 'A':
				this.relativeMoves++;
				this.row = Math.max(0, this.row - (n[0] || 1));
				return;
			case 'B':
				this.relativeMoves++;
				this.row = Math.min(this.rows - 1, this.row + (n[0] || 1));
				return;
			case 'G':
				this.col = (n[0] ?? 1) - 1;
				return;
			default:
				throw new Error(`unhandled CSI ${params}${final}`);
		}
	}
}
