// Driving the built binary in a tmux pane of a given size, as a pilot over SSH would see it.
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {existsSync, readFileSync} from 'node:fs';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export class Tmux {
	readonly socket = `fcflash-e2e-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
	constructor(
		public columns = 80,
		public rows = 24,
	) {}

	tmux(...args: string[]): string {
		return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], {encoding: 'utf8'});
	}

	/** Run `command` in a clean environment (no CI variables), then keep the pane open. */
	start(env: Record<string, string>, command: string) {
		const vars = Object.entries({PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env})
			.map(([k, v]) => `${k}=${shellQuote(v)}`)
			.join(' ');
		this.tmux('new-session', '-d', '-x', String(this.columns), '-y', String(this.rows), `env -i ${vars} sh -c ${shellQuote(`${command}; echo EXIT=$?; sleep 120`)}`);
		this.tmux('set-option', '-g', 'window-size', 'manual');
	}

	/** The pane as text, one entry per row (trailing blanks dropped). */
	lines(): string[] {
		const text = this.tmux('capture-pane', '-p');
		const lines = text.replace(/\n$/, '').split('\n').map((l) => l.trimEnd());
		while (lines.length < this.rows) lines.push('');
		return lines.slice(0, this.rows);
	}

	capture(): string {
		return this.lines().join('\n');
	}

	keys(...keys: string[]) {
		this.tmux('send-keys', ...keys);
	}

	resize(columns: number, rows: number) {
		this.columns = columns;
		this.rows = rows;
		this.tmux('resize-window', '-x', String(columns), '-y', String(rows));
	}

	async waitFor(want: string | RegExp, ms = 15000): Promise<string> {
		const end = Date.now() + ms;
		for (;;) {
			const screen = this.capture();
			if (typeof want === 'string' ? screen.includes(want) : want.test(screen)) return screen;
			if (Date.now() > end) assert.fail(`timed out waiting for ${String(want)}; screen:\n${screen}`);
			await sleep(40);
		}
	}

	/**
	 * Wait until the pane shows exactly the frame the app last wrote (its FCFLASH_TUI_FRAMES file),
	 * row by row: no stale row, no duplicate, nothing missing.
	 */
	async matchesFrame(framesFile: string, what: string, ms = 5000): Promise<string[]> {
		const end = Date.now() + ms;
		let screen: string[] = [];
		let want: string[] = [];
		for (;;) {
			screen = this.lines();
			want = existsSync(framesFile) ? readFileSync(framesFile, 'utf8').replace(/\n$/, '').split('\n') : [];
			while (want.length < this.rows) want.push('');
			if (want.length === this.rows && screen.every((l, i) => l === want[i])) return screen;
			if (Date.now() > end) break;
			await sleep(40);
		}
		const diff = screen.map((l, i) => (l === want[i] ? `  ${l}` : `! ${l}\n= ${want[i] ?? ''}`)).join('\n');
		assert.fail(`${what}: the pane is not the frame at ${this.columns}x${this.rows} (! pane, = frame):\n${diff}`);
	}

	kill() {
		try {
			this.tmux('kill-server');
		} catch {
			// Already gone.
		}
	}
}
