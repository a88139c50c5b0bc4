// Flash on connect with --json: a board's progress goes out as a single flash's does (the same
// throttle: every timed event of a mass erase, byte phases at most 10 a second, every phase start
// and end), each event with the board's id. Runs the bundled CLI against a simulated board, and the
// CLI front end (runCliJob) against scripted fleet events with a fake clock.
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {describe, it} from 'node:test';
import {Reporter} from '../source/cli/reporter.js';
import {runCliJob} from '../source/cli/run-job.js';
import type {Board} from '../source/devices/types.js';
import type {Job, JobEvent, JobListener, JobPhase, JobResult} from '../source/jobs/types.js';
import {betaflightLikeImage, toIntelHex} from '../scripts/synthetic-firmware.js';
import {tempFiles} from './helpers/temp-files.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = process.env.FCFLASH_TEST_CLI ?? join(repo, 'dist', 'cli.js');
const files = tempFiles('fcflash-on-connect-json-');
const f405Hex = files.write('betaflight-STM32F405.hex', toIntelHex(betaflightLikeImage({target: 'STM32F405', bytes: 200 * 1024})));

interface Line {
	at: number;
	json: Record<string, any>;
}

/** Run the CLI; every stdout line parsed, with the time it arrived. */
function runTimed(args: string[], env: Record<string, string>): Promise<{code: number | null; lines: Line[]; stderr: string}> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [cli, ...args], {env: {...process.env, TERM: 'dumb', NO_COLOR: '1', ...env}, stdio: ['ignore', 'pipe', 'pipe']});
		const lines: Line[] = [];
		let partial = '';
		let stderr = '';
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
			reject(new Error(`timed out; stderr: ${stderr}`));
		}, 60_000);
		child.stdout.setEncoding('utf8');
		child.stderr.setEncoding('utf8');
		child.stderr.on('data', (d: string) => (stderr += d));
		child.stdout.on('data', (d: string) => {
			const at = performance.now();
			partial += d;
			const parts = partial.split('\n');
			partial = parts.pop()!;
			for (const l of parts) {
				if (l.length === 0) continue;
				try {
					lines.push({at, json: JSON.parse(l) as Record<string, any>});
				} catch {
					reject(new Error(`stdout line is not JSON: ${l}`));
				}
			}
		});
		child.on('close', (code) => {
			clearTimeout(timer);
			assert.equal(partial, '', 'stdout ends with a newline');
			resolve({code, lines, stderr});
		});
	});
}

describe('flash --on-connect --json: progress of each board', () => {
	it('a mass erase sends at least one progress event a second with elapsedMs and expectedMs, each with boardId', async () => {
		// 0.4: the simulated F405's 8 s mass erase takes about 3.2 s.
		const r = await runTimed(['flash', f405Hex, '--on-connect', '--count', '1', '--full-erase', '--json', '--yes', '--simulate=stm32f405'], {FCFLASH_SIM_TIME_SCALE: '0.4'});
		assert.equal(r.code, 0, r.stderr);
		const events = r.lines.map((l) => l.json);
		const boardResult = events.find((e) => e.event === 'board-result');
		assert.ok(boardResult, 'a board-result line');
		const boardId = boardResult.boardId as string;
		assert.equal(typeof boardId, 'string');
		for (const e of events.filter((e) => e.event !== 'result')) assert.equal(e.boardId, boardId, `boardId on ${JSON.stringify(e)}`);

		const timed = r.lines.filter((l) => l.json.event === 'progress' && l.json.phase === 'erase' && l.json.elapsedMs !== undefined);
		assert.ok(timed.length >= 4, `timed erase events: ${timed.length}; erase events: ${JSON.stringify(events.filter((e) => e.phase === 'erase'))}`);
		for (const l of timed) {
			assert.equal(typeof l.json.elapsedMs, 'number');
			assert.equal(typeof l.json.expectedMs, 'number');
			assert.ok(l.json.expectedMs > 0);
		}
		// By the board's clock: from the start of the erase, never a second without an event.
		assert.equal(timed[0]!.json.elapsedMs, 0);
		const elapsed = timed.map((l) => l.json.elapsedMs as number);
		for (let i = 1; i < elapsed.length; i++) assert.ok(elapsed[i]! - elapsed[i - 1]! <= 1000, `elapsedMs ${elapsed[i - 1]} then ${elapsed[i]}`);
		// And as they arrive on stdout (a loose bound: the ticker runs every 500 ms).
		for (let i = 1; i < timed.length; i++) assert.ok(timed[i]!.at - timed[i - 1]!.at <= 1500, `${Math.round(timed[i]!.at - timed[i - 1]!.at)} ms between two erase events on stdout`);
		// The erase ends with its finished event, right after the last timed one.
		const eraseEnd = r.lines.find((l) => l.json.phase === 'erase' && l.json.done === l.json.total);
		assert.ok(eraseEnd, 'the finished erase event');
		assert.ok(eraseEnd.at - timed.at(-1)!.at <= 1500, 'no silent second before the erase finished');
	});
});

describe('runCliJob: fleet progress in JSON is throttled like a single flash', () => {
	const board = {kind: 'dfu', id: 'B1', name: 'sim'} as unknown as Board;

	/** Replay `script` (fleet events of two boards at given times) through runCliJob; the JSON lines. */
	async function replay(script: Array<{t: number; boardId: string; phase: JobPhase; done: number; total: number; elapsedMs?: number; expectedMs?: number}>) {
		let clock = 0;
		let out = '';
		const stdout = {write: (s: string) => ((out += s), true)} as unknown as NodeJS.WritableStream;
		const stderr = {write: () => true} as unknown as NodeJS.WritableStream;
		const reporter = new Reporter('json', {stdout, stderr}, () => clock);
		const result: JobResult<unknown> = {kind: 'on-connect', ok: true, exitCode: 0, fields: {boards: []}, summary: '', data: undefined, cancelled: false} as unknown as JobResult<unknown>;
		const code = await runCliJob(reporter, (listener: JobListener) => {
			for (const s of script) {
				clock = s.t;
				const {t: _t, boardId, ...p} = s;
				const event: JobEvent = {type: 'progress', rate: 0, ...p};
				listener({type: 'fleet', boardId, board, event});
			}
			return {kind: 'on-connect', answer: () => {}, stop: () => {}, hangup: () => {}, done: Promise.resolve(result)} as unknown as Job<unknown>;
		});
		assert.equal(code, 0);
		return out
			.split('\n')
			.filter(Boolean)
			.map((l) => JSON.parse(l) as Record<string, any>)
			.filter((e) => e.event === 'progress');
	}

	it('every timed event goes out, with elapsedMs, expectedMs and boardId', async () => {
		const script = [0, 500, 1000, 1500, 2000].map((t) => ({t, boardId: 'A', phase: 'erase' as const, done: 0, total: 100, elapsedMs: t, expectedMs: 8000}));
		const events = await replay(script);
		assert.deepEqual(
			events,
			script.map((s) => ({event: 'progress', boardId: 'A', phase: 'erase', done: 0, total: 100, elapsedMs: s.elapsedMs, expectedMs: 8000})),
		);
	});

	it('byte progress: at most one event per 100 ms per board, plus each phase start and end; boards do not throttle each other', async () => {
		const script = [];
		// Two boards writing at once, an event every 20 ms each, for one second.
		for (let t = 0; t <= 1000; t += 20) {
			script.push({t, boardId: 'A', phase: 'write' as const, done: t, total: 1000});
			script.push({t, boardId: 'B', phase: 'write' as const, done: t, total: 1000});
		}
		const events = await replay(script);
		for (const id of ['A', 'B']) {
			const mine = events.filter((e) => e.boardId === id);
			assert.equal(mine[0]!.done, 0, `${id}: the phase start`);
			assert.equal(mine.at(-1)!.done, 1000, `${id}: the phase end`);
			// 0, 100, ..., 1000: eleven events, not 51 and not 2.
			assert.deepEqual(
				mine.map((e) => e.done),
				[0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000],
			);
		}
	});
});
