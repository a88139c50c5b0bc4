// Flash on connect through real libusb: `fcflash-tui flash FILE --on-connect --yes --json` under
// scripts/with-emulated-usb with several boards, plugged in and pulled out at run time through the
// harness's control FIFO. Asserted on: the NDJSON (every event carries its boardId, one board-result
// or board-skipped per board, a final result with boards), the exit code, and what each emulated
// board's flash holds afterwards (--flash-out). test/jobs-on-connect.test.ts has the in-process cases.
import assert from 'node:assert/strict';
import {existsSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {test} from 'node:test';
import {betaflightLikeImage, toIntelHex} from '../scripts/synthetic-firmware.js';
import type {Segment} from '../source/firmware/image.js';
import {profiles} from '../source/emulator/profiles.js';
import {startSession, waitFor, type HarnessSession} from './helpers/harness-session.js';
import {tempFiles} from './helpers/temp-files.js';
import {repo, skipReason} from './helpers/usb-harness.js';

const cli = join(repo ?? '', 'dist', 'cli.js');
const files = tempFiles('usb-on-connect-');
// The flash log and the board locks stay in this test's folder.
const env = {...process.env, XDG_STATE_HOME: files.dir, FCFLASH_LOCK_DIR: files.dir};
const FLASH = 0x0800_0000;
const block = profiles.stm32f405.wTransferSize;

/** The harness gives board N of one profile the profile's serial number plus N-1 (in hex). */
const serialOf = (profile: keyof typeof profiles, n = 1) => {
	const s = profiles[profile].serialNumber;
	return (parseInt(s, 16) + n - 1).toString(16).toUpperCase().padStart(s.length, '0');
};
/** fleetBoardId: SERIAL@USB-PATH; board N sits at 1-N. */
const idOf = (profile: keyof typeof profiles, n: number, port = n) => `${serialOf(profile, n)}@1-${port}`;

const image = betaflightLikeImage({seed: 31});
const hex = files.write('betaflight_4.5.1_STM32F405.hex', toIntelHex(image));
const out = (name: string) => join(files.dir, `${name}.bin`);

interface Event {
	event: string;
	at: number;
	boardId?: string;
	phase?: string;
	done?: number;
	total?: number;
	ok?: boolean;
	reason?: string;
	verified?: boolean;
	boardState?: string;
	error?: {code: number; message: string; hint: string | null};
	boards?: Array<{boardId: string; ok: boolean; skipped?: boolean; reason?: string; error?: {code: number; message: string}}>;
}

const eventsOf = (s: HarnessSession): Event[] => s.lines.filter((l) => l.text.startsWith('{')).map((l) => ({...(JSON.parse(l.text) as Omit<Event, 'at'>), at: l.at}));
const ofBoard = (events: Event[], id: string, kind?: string) => events.filter((e) => e.boardId === id && (!kind || e.event === kind));
const writeStarted = (events: Event[], id: string) => ofBoard(events, id, 'progress').some((e) => e.phase === 'write' && e.done! < e.total!);

function flashOf(path: string): Buffer {
	assert.ok(existsSync(path), `${path} was not saved`);
	return readFileSync(path);
}
const region = (flash: Buffer, s: Segment) => flash.subarray(s.address - FLASH, s.address - FLASH + s.data.length);
const holds = (flash: Buffer, segments: Segment[]) => segments.every((s) => region(flash, s).equals(Buffer.from(s.data)));

/**
 * The stream's shape (CONTRACT, flash on connect): one JSON object a line, every event but the last
 * with a boardId of a board on the bus, the last one the result with `boards`.
 */
function checkStream(s: HarnessSession, ids: string[]): {events: Event[]; result: Event} {
	const events = eventsOf(s);
	const all = s.out.stdout.split('\n').filter(Boolean);
	assert.equal(events.length, all.length, `stdout carries only JSON\n${s.context()}`);
	const result = events.at(-1)!;
	assert.equal(result?.event, 'result', s.context());
	assert.equal(events.filter((e) => e.event === 'result').length, 1);
	assert.ok(Array.isArray(result.boards), 'the result lists the boards');
	for (const e of events.slice(0, -1)) {
		assert.equal(typeof e.boardId, 'string', `an event without boardId: ${JSON.stringify(e)}`);
		assert.ok(ids.includes(e.boardId!), `an event of an unexpected board ${e.boardId}: ${JSON.stringify(e)}`);
		assert.ok(['progress', 'board-result', 'board-skipped'].includes(e.event), `an unexpected event: ${JSON.stringify(e)}`);
	}
	return {events, result};
}

/** Node's warnings (MaxListenersExceededWarning...) on the CLI's stderr. */
const nodeWarnings = (s: HarnessSession) => s.out.stderr.split('\n').filter((l) => /^\(node:\d+\)|Warning:/.test(l));

const onConnect = (...extra: string[]) => [process.execPath, cli, 'flash', hex, '--on-connect', '--yes', '--json', ...extra];

test('boards plugged in one after another are each flashed once (--count 2), exit 0', {skip: skipReason, timeout: 90_000}, async () => {
	const [a, b] = [idOf('stm32f405', 1), idOf('stm32f405', 2)];
	const s = startSession('one-by-one', ['--board', `profile=stm32f405,unplugged,flash-out=${out('seq-1')}`, '--board', `profile=stm32f405,unplugged,flash-out=${out('seq-2')}`], onConnect('--count', '2'), {
		dir: files.dir,
		env,
		timeoutMs: 80_000,
	});
	try {
		await s.ready();
		// Nothing on the bus for a while: the run says nothing and waits.
		await new Promise((r) => setTimeout(r, 1500));
		assert.equal(eventsOf(s).length, 0, `nothing plugged in, nothing to say\n${s.context()}`);
		assert.equal(s.child.exitCode, null, 'it waits for boards');

		s.control('add 1');
		await waitFor('board 1 to be flashed', () => ofBoard(eventsOf(s), a, 'board-result').length === 1, s.context);
		// Board 1 flashed and started its firmware (it left the bus): the run waits for the second board.
		await new Promise((r) => setTimeout(r, 500));
		assert.equal(s.child.exitCode, null, `--count 2: it waits for a second board\n${s.context()}`);
		assert.equal(ofBoard(eventsOf(s), b).length, 0);

		s.control('add 2');
		assert.equal(await s.exit(40_000), 0, s.context());
	} finally {
		await s.stop();
	}
	const {events, result} = checkStream(s, [a, b]);
	for (const id of [a, b]) {
		const results = ofBoard(events, id, 'board-result');
		assert.equal(results.length, 1, `${id}: one board-result`);
		assert.equal(results[0]!.ok, true, s.context());
		assert.equal(results[0]!.verified, true);
		assert.equal(results[0]!.boardState, 'running');
		assert.equal(ofBoard(events, id, 'board-skipped').length, 0);
	}
	// One after the other: board 2 said nothing before board 1 was done.
	assert.ok(ofBoard(events, b)[0]!.at >= ofBoard(events, a, 'board-result')[0]!.at);
	assert.deepEqual(result.boards, [
		{boardId: a, ok: true},
		{boardId: b, ok: true},
	]);
	assert.equal(result.ok, true);
	assert.ok(holds(flashOf(out('seq-1')), image), 'board 1 holds the image');
	assert.ok(holds(flashOf(out('seq-2')), image), 'board 2 holds the image');
	// Each board got its line in the flash log.
	const log = readFileSync(join(files.dir, 'fcflash-tui', 'flash.log'), 'utf8')
		.trim()
		.split('\n')
		.map((l) => JSON.parse(l.replace(/^\S+ /, '')) as {reason?: string; board?: string; ok?: boolean; usbPath?: string});
	for (const [id, path] of [[a, '1-1'], [b, '1-2']] as const) {
		assert.equal(log.filter((l) => l.reason === 'on-connect' && l.board === id && l.ok === true && l.usbPath === path).length, 1, `${id}: one log line\n${JSON.stringify(log)}`);
	}
	assert.deepEqual(nodeWarnings(s), []);
});

test('two boards present at start are flashed at the same time: their write phases overlap', {skip: skipReason, timeout: 90_000}, async () => {
	const [a, b] = [idOf('stm32f405', 1), idOf('stm32f405', 2)];
	// A small time scale: each write takes long enough for the two to overlap if they run together.
	const s = startSession('together', ['--time-scale', '0.05', '--board', `profile=stm32f405,flash-out=${out('two-1')}`, '--board', `profile=stm32f405,flash-out=${out('two-2')}`], onConnect('--count', '2'), {
		dir: files.dir,
		env,
		timeoutMs: 80_000,
	});
	try {
		await s.ready();
		assert.equal(await s.exit(60_000), 0, s.context());
	} finally {
		await s.stop();
	}
	const {events, result} = checkStream(s, [a, b]);
	assert.equal(result.ok, true, s.context());
	assert.deepEqual(result.boards!.map((x) => [x.boardId, x.ok]).sort(), [[a, true], [b, true]]);
	// Position in the one stdout stream: each board's write starts before the other's write ends.
	const index = (id: string, pick: (e: Event) => boolean) => events.findIndex((e) => e.boardId === id && e.event === 'progress' && e.phase === 'write' && pick(e));
	const [startA, endA, startB, endB] = [index(a, (e) => e.done! < e.total!), index(a, (e) => e.done === e.total), index(b, (e) => e.done! < e.total!), index(b, (e) => e.done === e.total)];
	assert.ok(startA >= 0 && endA > startA && startB >= 0 && endB > startB, `both wrote\n${s.context()}`);
	assert.ok(startA < endB && startB < endA, `the write phases did not overlap\n${s.context()}`);
	for (const id of [a, b]) assert.equal(ofBoard(events, id, 'board-result').length, 1);
	assert.ok(holds(flashOf(out('two-1')), image), 'board 1 holds the image');
	assert.ok(holds(flashOf(out('two-2')), image), 'board 2 holds the image');
});

test('a board pulled out mid-flash fails alone; the others finish (exit 1)', {skip: skipReason, timeout: 120_000}, async () => {
	const [a, b, c] = [idOf('stm32f405', 1), idOf('stm32f405', 2), idOf('stm32f405', 3)];
	// Board 2 is unplugged through the FIFO while it writes; board 3's emulator drops off the bus by
	// itself after 200 KiB of downloads (disconnectAfterBytes).
	const s = startSession(
		'pulled',
		[
			'--time-scale',
			'0.3',
			'--board',
			`profile=stm32f405,flash-out=${out('pull-1')}`,
			'--board',
			`profile=stm32f405,flash-out=${out('pull-2')}`,
			'--board',
			`profile=stm32f405,flash-out=${out('pull-3')},faults={"disconnectAfterBytes":204800}`,
		],
		onConnect('--count', '3'),
		{dir: files.dir, env, timeoutMs: 100_000},
	);
	try {
		await s.ready();
		await waitFor('board 2 to be writing', () => writeStarted(eventsOf(s), b), s.context, 60_000);
		s.control('remove 2');
		assert.equal(await s.exit(60_000), 1, s.context());
	} finally {
		await s.stop();
	}
	const {events, result} = checkStream(s, [a, b, c]);
	const only = (id: string) => {
		const results = ofBoard(events, id, 'board-result');
		assert.equal(results.length, 1, `${id}: one board-result\n${s.context()}`);
		return results[0]!;
	};
	assert.equal(only(a).ok, true, s.context());
	assert.equal(only(a).verified, true);
	for (const id of [b, c]) {
		const r = only(id);
		assert.equal(r.ok, false, `${id} failed`);
		assert.equal(r.error?.code, 1);
		assert.match(r.error!.message, /disconnected/i);
		assert.equal(r.boardState, 'partly-written');
	}
	assert.equal(result.ok, false);
	const byId = Object.fromEntries(result.boards!.map((x) => [x.boardId, x]));
	assert.equal(byId[a]?.ok, true);
	assert.equal(byId[b]?.ok, false);
	assert.match(byId[b]?.error?.message ?? '', /disconnected/i);
	assert.equal(byId[c]?.ok, false);
	assert.equal(result.boards!.length, 3);
	assert.match(s.out.stderr, /3 boards tried: 1 flashed, 2 failed/);

	assert.ok(holds(flashOf(out('pull-1')), image), 'board 1 holds the image');
	// The pulled boards kept what they got before they left: not all of the code. Board 3 left after
	// 200 KiB of downloads, so its first sector (16 KiB, written first) is there.
	const code = image[1]!;
	for (const name of ['pull-2', 'pull-3']) assert.ok(!region(flashOf(out(name)), code).equals(Buffer.from(code.data)), `${name} holds the whole image`);
	assert.ok(region(flashOf(out('pull-3')), image[0]!).equals(Buffer.from(image[0]!.data)), 'board 3: the first sector was written before it left');
});

test('a board of another chip is skipped with the reason, left untouched, and not counted by --count', {skip: skipReason, timeout: 90_000}, async () => {
	const [f7, f4] = [idOf('stm32f722', 1), idOf('stm32f405', 1, 2)];
	const before = files.write('f722-in.bin', Buffer.alloc(512 * 1024, 0x5a));
	// --count 1 with the F722 present first: were it counted, the run would end before the F405 comes.
	const s = startSession(
		'wrong-chip',
		['--board', `profile=stm32f722,flash-in=${before},flash-out=${out('f722')}`, '--board', `profile=stm32f405,unplugged,flash-out=${out('f405')}`],
		onConnect('--count', '1'),
		{dir: files.dir, env, timeoutMs: 80_000},
	);
	try {
		await s.ready();
		await waitFor('the F722 to be skipped', () => ofBoard(eventsOf(s), f7, 'board-skipped').length > 0, s.context);
		await new Promise((r) => setTimeout(r, 500));
		assert.equal(s.child.exitCode, null, `a skipped board is not counted: it waits for one to flash\n${s.context()}`);
		s.control('add 2');
		assert.equal(await s.exit(40_000), 0, s.context());
	} finally {
		await s.stop();
	}
	const {events, result} = checkStream(s, [f7, f4]);
	const skipped = ofBoard(events, f7, 'board-skipped');
	assert.equal(skipped.length, 1);
	assert.match(skipped[0]!.reason!, /built for STM32F405, but the board in DFU is an STM32F722/);
	assert.equal(ofBoard(events, f7, 'board-result').length, 0);
	assert.equal(ofBoard(events, f7, 'progress').length, 0, 'nothing was done to the F722');
	assert.equal(ofBoard(events, f4, 'board-result')[0]?.ok, true, s.context());
	assert.deepEqual(result.boards, [
		{boardId: f7, ok: false, skipped: true, reason: skipped[0]!.reason},
		{boardId: f4, ok: true},
	]);
	assert.ok(flashOf(out('f722')).equals(readFileSync(before)), 'the F722 was written to');
	assert.ok(holds(flashOf(out('f405')), image), 'the F405 holds the image');
});

test('boards coming and going for a long while: one report per board, no listener piling up', {skip: skipReason, timeout: 90_000}, async () => {
	// A bench runs for hours while boards are plugged and unplugged. Each change of the board list
	// must not leave something behind in the job (an abort listener per change once did: Node's
	// MaxListenersExceededWarning after the 11th change).
	const [f7, f4] = [idOf('stm32f722', 1), idOf('stm32f405', 1, 2)];
	const s = startSession('churn', ['--board', 'profile=stm32f722', '--board', `profile=stm32f405,unplugged,flash-out=${out('churn')}`], onConnect('--count', '1'), {
		dir: files.dir,
		env,
		timeoutMs: 80_000,
	});
	const plugs = 7;
	try {
		await s.ready();
		await waitFor('the F722 to be skipped', () => ofBoard(eventsOf(s), f7, 'board-skipped').length > 0, s.context);
		// Board 1's line in the status file: "present BUS DEV board=1 ...", a new DEV at each plug.
		const plugged = () => /^present \d+ (\d+) board=1 /m.exec(s.status())?.[1];
		for (let i = 1; i <= plugs; i++) {
			const before = plugged();
			s.control('replug 1 200');
			// Until it is back: each unplug and each plug is a change of the list.
			await waitFor(`replug ${i}`, () => plugged() !== undefined && plugged() !== before, s.context, 5000);
			await new Promise((r) => setTimeout(r, 300));
		}
		s.control('add 2');
		assert.equal(await s.exit(40_000), 0, s.context());
	} finally {
		await s.stop();
	}
	const {events} = checkStream(s, [f7, f4]);
	assert.equal(ofBoard(events, f7, 'board-skipped').length, 1, 'the F722 is reported once, however often it comes back');
	assert.equal(ofBoard(events, f4, 'board-result')[0]?.ok, true, s.context());
	assert.deepEqual(nodeWarnings(s), [], s.context());
});

test('a board back in DFU right after its own leave is reported, not flashed a second time', {skip: skipReason, timeout: 90_000}, async () => {
	const [a, b] = [idOf('stm32f405', 1), idOf('stm32f405', 2)];
	// Board 1 "does not start its firmware": after the leave it re-enumerates in DFU 300 ms later.
	const s = startSession(
		'replug',
		['--board', `profile=stm32f405,on-disconnect=replug:300,flash-out=${out('back-1')}`, '--board', `profile=stm32f405,unplugged,flash-out=${out('back-2')}`],
		onConnect('--count', '2'),
		{dir: files.dir, env, timeoutMs: 80_000},
	);
	try {
		await s.ready();
		await waitFor('board 1 to be reported back in DFU', () => ofBoard(eventsOf(s), a, 'board-skipped').length > 0, s.context);
		assert.match(s.status(), /^present \d+ \d+ board=1 /m, 'board 1 is on the bus again');
		// Seconds later another board comes: board 1 is still there, and still not news.
		await new Promise((r) => setTimeout(r, 2000));
		assert.equal(ofBoard(eventsOf(s), a, 'board-result').length, 1, 'board 1 is not flashed again');
		s.control('add 2');
		assert.equal(await s.exit(40_000), 0, s.context());
	} finally {
		await s.stop();
	}
	const {events, result} = checkStream(s, [a, b]);
	assert.equal(ofBoard(events, a, 'board-result').length, 1, 'board 1 flashed once');
	assert.equal(ofBoard(events, a, 'board-result')[0]!.ok, true);
	// One write: the second visit never got as far as opening the board for a flash.
	assert.equal(ofBoard(events, a, 'progress').filter((e) => e.phase === 'write' && e.done === 0).length, 1);
	const again = ofBoard(events, a, 'board-skipped');
	assert.equal(again.length, 1);
	assert.match(again[0]!.reason!, /came back in DFU \d+ s after its firmware was started/);
	assert.equal(ofBoard(events, b, 'board-result')[0]?.ok, true, s.context());
	assert.equal(result.ok, true);
	// --count 2 counted the two boards, not board 1's return.
	assert.deepEqual(result.boards!.filter((x) => !x.skipped), [
		{boardId: a, ok: true},
		{boardId: b, ok: true},
	]);
	// Each emulated ROM was told to start its firmware once.
	assert.equal(s.out.stderr.match(/left DFU, application at/g)?.length, 2, s.out.stderr);
	assert.ok(holds(flashOf(out('back-1')), image));
	assert.ok(holds(flashOf(out('back-2')), image));
});

test('Ctrl-C once: no new board is taken, the running flash finishes (exit 130, summary printed)', {skip: skipReason, timeout: 90_000}, async () => {
	const [a, b] = [idOf('stm32f405', 1), idOf('stm32f405', 2)];
	// Board 1 at ROM timing x0.5: a few seconds of write and verify remain after the Ctrl-C.
	const s = startSession(
		'sigint-once',
		['--board', `profile=stm32f405,time-scale=0.5,flash-out=${out('int-1')}`, '--board', `profile=stm32f405,unplugged,flash-out=${out('int-2')}`],
		onConnect(),
		{dir: files.dir, env, timeoutMs: 80_000},
	);
	let plugged = 0;
	try {
		await s.ready();
		await waitFor('board 1 to be writing', () => writeStarted(eventsOf(s), a), s.context, 40_000);
		process.kill(s.pid(), 'SIGINT');
		// A board plugged in now is not taken.
		s.control('add 2');
		await waitFor('board 2 on the bus', () => /^present \d+ \d+ board=2 /m.test(s.status()), s.context, 5000);
		plugged = performance.now();
		assert.equal(await s.exit(40_000), 130, s.context());
	} finally {
		await s.stop();
	}
	const {events, result} = checkStream(s, [a]);
	const done = ofBoard(events, a, 'board-result');
	assert.equal(done.length, 1);
	assert.equal(done[0]!.ok, true, 'the running flash finished');
	assert.equal(done[0]!.verified, true);
	assert.equal(done[0]!.boardState, 'running');
	// The CLI had time to see board 2 (a plugged-in board is taken within a few hundred ms) and took none.
	assert.ok(done[0]!.at - plugged > 1000, `board 1 finished only ${Math.round(done[0]!.at - plugged)} ms after board 2 was plugged in`);
	assert.equal(ofBoard(events, b).length, 0, 'board 2 was not taken');
	assert.equal(result.ok, false);
	assert.equal(result.error?.code, 130);
	assert.deepEqual(result.boards, [{boardId: a, ok: true}]);
	// The summary on stderr, and no advice to flash again: nothing was stopped mid-flash.
	assert.match(s.out.stderr, /error: Stopped taking boards\. 1 board tried: 1 flashed, 0 failed\.\n {2}\S+@1-1: ok/);
	assert.doesNotMatch(result.error!.hint ?? '', /flash again|block boundary|ROM bootloader/i, 'the hint says the boards are stopped mid-flash');
	assert.ok(holds(flashOf(out('int-1')), image), 'board 1 holds the image');
	assert.ok(flashOf(out('int-2')).every((x) => x === 0xff), 'board 2 was written to');
});

test('Ctrl-C twice: the running flash stops at a block boundary (exit 130)', {skip: skipReason, timeout: 90_000}, async () => {
	const a = idOf('stm32f405', 1);
	// ROM timing: the write phase takes seconds, and the second Ctrl-C comes 300 ms into it.
	const s = startSession('sigint-twice', ['--board', `profile=stm32f405,time-scale=1,flash-out=${out('int-hard')}`], onConnect(), {dir: files.dir, env, timeoutMs: 80_000});
	let second = 0;
	try {
		await s.ready();
		await waitFor('board 1 to be writing', () => writeStarted(eventsOf(s), a), s.context, 40_000);
		process.kill(s.pid(), 'SIGINT');
		await new Promise((r) => setTimeout(r, 300));
		assert.equal(s.child.exitCode, null, 'the first Ctrl-C lets the flash go on');
		process.kill(s.pid(), 'SIGINT');
		second = performance.now();
		assert.equal(await s.exit(20_000), 130, s.context());
	} finally {
		await s.stop();
	}
	const {events, result} = checkStream(s, [a]);
	const done = ofBoard(events, a, 'board-result');
	assert.equal(done.length, 1);
	assert.equal(done[0]!.ok, false);
	assert.equal(done[0]!.error?.code, 130);
	assert.equal(done[0]!.boardState, 'partly-written');
	assert.ok(done[0]!.at - second < 2000, `it took ${Math.round(done[0]!.at - second)} ms to stop`);
	assert.ok(!ofBoard(events, a, 'progress').some((e) => e.phase === 'write' && e.done === e.total), 'the write did not finish');
	assert.equal(result.error?.code, 130);
	assert.deepEqual(result.boards?.map((x) => [x.boardId, x.ok, x.error?.code]), [[a, false, 130]]);
	assert.match(s.out.stderr, /error: Stopped\. 1 board tried: 0 flashed, 1 failed/);

	// What the board holds: whole blocks of the image from the start, then erased flash.
	const flash = flashOf(out('int-hard'));
	const blocks: Array<{image: Buffer; flash: Buffer}> = [];
	for (const seg of image) {
		for (let o = 0; o < seg.data.length; o += block) {
			const data = Buffer.from(seg.data.subarray(o, o + block));
			if (!data.every((x) => x === 0xff)) blocks.push({image: data, flash: flash.subarray(seg.address - FLASH + o, seg.address - FLASH + o + data.length)});
		}
	}
	const written = blocks.findIndex((x) => !x.flash.equals(x.image));
	assert.ok(written > 0, `no block was written (${written})`);
	for (const x of blocks.slice(written)) assert.ok(x.flash.every((v) => v === 0xff), 'a block after the stop is not erased flash: not stopped at a block boundary');
});
