// Waiting on ink-testing-library frames: poll until the frame shows what we want, then let passive
// effects (input subscriptions) settle before the next key.
import assert from 'node:assert/strict';

export const tick = (ms = 30) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(frame: () => string | undefined, want: string | RegExp, ms = 15_000): Promise<string> {
	const end = Date.now() + ms;
	for (;;) {
		const f = frame() ?? '';
		if (typeof want === 'string' ? f.includes(want) : want.test(f)) {
			await tick(25);
			return frame() ?? f;
		}
		if (Date.now() > end) assert.fail(`timed out waiting for ${String(want)}; last frame:\n${f}`);
		await tick(15);
	}
}
