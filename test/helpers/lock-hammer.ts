// Run as a child process by the lock test: take and release one board's lock `rounds` times,
// recording inside each hold whether anyone else held it too (an exclusive marker file).
import {closeSync, openSync, unlinkSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {acquireBoardLock, BoardLockedError} from '../../source/jobs/board-lock.js';

const [dir, key, roundsText, out] = process.argv.slice(2);
const rounds = Number(roundsText);
let held = 0;
let overlaps = 0;
let busy = 0;
for (let i = 0; i < rounds; i++) {
	let release: (() => void) | undefined;
	try {
		release = await acquireBoardLock(key!, dir!);
	} catch (error) {
		if (!(error instanceof BoardLockedError)) throw error;
		busy++;
		continue;
	}
	held++;
	const marker = join(dir!, 'inside');
	try {
		closeSync(openSync(marker, 'wx'));
		await new Promise((r) => setImmediate(r));
		unlinkSync(marker);
	} catch {
		overlaps++;
	}
	release();
}
writeFileSync(out!, JSON.stringify({held, overlaps, busy}));
