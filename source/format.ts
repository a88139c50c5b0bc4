// Small text helpers shared by the engine's messages, the CLI reporter and the TUI.
export function formatBytes(n: number): string {
	if (n < 1024) return `${n} B`;
	if (n < 1024 * 1024) return `${(n / 1024).toFixed(n % 1024 === 0 ? 0 : 1)} KiB`;
	return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

export function formatRate(bytesPerSecond: number): string {
	return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

export function formatDuration(ms: number): string {
	if (ms < 1000) return `${Math.round(ms)} ms`;
	const s = ms / 1000;
	return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** 0x08000000: the way addresses are written everywhere (messages, CLI, TUI). */
export const hex32 = (n: number) => '0x' + (n >>> 0).toString(16).toUpperCase().padStart(8, '0');

/** "/very/long/path/to/file.hex" -> "/very/lo…/file.hex": keep both ends, cut the middle. */
export function truncateMiddle(text: string, width: number, ellipsis = '…'): string {
	if (text.length <= width) return text;
	if (width <= ellipsis.length) return text.slice(0, width);
	const keep = width - ellipsis.length;
	const head = Math.ceil(keep / 2);
	return text.slice(0, head) + ellipsis + text.slice(text.length - (keep - head));
}
