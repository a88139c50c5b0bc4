// What a live board holds for the settings a backup names. A setting missing from a board's `diff`
// holds that firmware's default, and defaults move between versions (4.5.6 lists `feature -GPS`,
// 2026.12 does not), so the board is asked rather than its diff text compared:
// - `set` names: `get NAME` in the setting's context (`profile 1` first);
// - the other commands (feature, aux, serial, resource, ...): one `dump all`, which lists every
//   one of them with its current value in the same syntax as the backup.
// Reading switches profiles on the board without saving; leave the CLI with `exit` afterwards.
import type {CliSession} from '../devices/fc-cli.js';
import {parseSettings, sameValue, settingId, type DiffEntry} from './diff-text.js';

export interface BoardValue {
	value: string;
	/** The board's value as a CLI line (`set p_roll = 45`, `aux 0 0 0 900 900 0 0`). */
	line: string;
}

/** settingId -> what the board holds; absent: the board has no such setting (renamed, removed). */
export type BoardValues = Map<string, BoardValue>;

export interface ReadOptions {
	/** Stop at the first setting whose value differs (is there anything to restore at all?). */
	untilDifferent?: boolean;
	/** Progress through the settings read. */
	onProgress?: (done: number, total: number) => void;
}

export async function readBoardValues(session: CliSession, assignments: readonly DiffEntry[], options: ReadOptions = {}): Promise<{values: BoardValues; stoppedEarly: boolean}> {
	const values: BoardValues = new Map();
	const sets = assignments.filter((a) => a.command === 'set');
	const others = assignments.filter((a) => a.command !== 'set');
	const total = assignments.length;
	let done = 0;
	const tick = () => options.onProgress?.(++done, total);

	// Commands other than `set` first: one exchange answers all of them, and it is the cheapest
	// way to find a difference early.
	if (others.length) {
		const reply = await session.run('dump all', {timeoutMs: 30_000, printableOnly: true});
		const dump = parseSettings(reply.lines.join('\n'));
		const byId = new Map(dump.assignments.map((e) => [settingId(e), e]));
		for (const a of others) {
			const hit = byId.get(settingId(a));
			if (hit) values.set(settingId(a), {value: hit.value!, line: hit.text});
			tick();
			if (options.untilDifferent && !sameValue(hit?.value, a.value)) return {values, stoppedEarly: true};
		}
	}

	const contexts = new Map<string, DiffEntry[]>();
	for (const a of sets) contexts.set(a.context, [...(contexts.get(a.context) ?? []), a]);
	for (const [context, entries] of contexts) {
		if (context) {
			const switched = await session.run(context);
			if (switched.errors.length) {
				// The firmware has no such profile: none of its settings can be held.
				done += entries.length;
				options.onProgress?.(done, total);
				if (options.untilDifferent) return {values, stoppedEarly: true};
				continue;
			}
		}
		for (const a of entries) {
			const value = await session.get(a.key!);
			if (value !== undefined) values.set(settingId(a), {value, line: `set ${a.key} = ${value}`});
			tick();
			if (options.untilDifferent && !sameValue(value, a.value)) return {values, stoppedEarly: true};
		}
	}
	return {values, stoppedEarly: false};
}

/** The backup's assignments that the board does not hold (missing or another value). */
export function differing(assignments: readonly DiffEntry[], values: BoardValues): DiffEntry[] {
	return assignments.filter((a) => !sameValue(values.get(settingId(a))?.value, a.value));
}
