// The app's reducer with a scripted world: keys in bursts and slowly end on the same screen with
// the same selection; each screen returns where it was; the job's events drive the screens.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import type {AppState} from '../source/screens/app-state.js';
import {currentEntry} from '../source/screens/use-firmware-picker-state.js';
import {optionsCursor} from '../source/screens/use-options-state.js';
import {boardTitle, progressStats, wrapText} from '../source/screens/screen-text.js';
import {knownBoard, shownBoards} from '../source/screens/use-device-list-state.js';
import {KeyReader, parseKeys} from '../source/screens/keys.js';
import type {ConfirmFacts, JobEvent, JobResult} from '../source/jobs/types.js';
import {JobBinding} from '../source/screens/app-effects.js';
import {fleetCounts, fleetPageRows, fleetWindow} from '../source/screens/use-fleet-state.js';
import {dfuBoard, image, keys, serialBoard, world, type World} from './helpers/tui-world.js';

/** Where the app is: the screen, and what is highlighted there. */
function where(s: AppState) {
	const v = s.view;
	const out: Record<string, unknown> = {screen: v.screen};
	if (v.screen === 'firmware') out.board = v.board.id;
	if (v.screen === 'firmware' && s.picker) out.cursor = currentEntry(s.picker)?.name;
	if (v.screen === 'options') Object.assign(out, {board: v.board.id, file: v.file, cursor: optionsCursor(s.options, {...v, onConnect: s.available['on-connect']}), choices: s.options.choices});
	if (v.screen === 'devices') out.selected = s.devices.selectedId;
	return out;
}

function both(raw: string, setup: (w: World) => void = () => {}) {
	const burst = world();
	setup(burst);
	burst.type(raw, 'burst');
	const slow = world();
	setup(slow);
	slow.type(raw, 'slow');
	return {burst, slow};
}

test('keys: every key of a chunk is its own key, in order; "Esc, Up" typed ahead is two keys', async () => {
	const names = (raw: string) => parseKeys(raw).map((k) => (k.name === 'char' ? (k.ctrl ? `^${k.ch}` : k.ch) : k.name));
	assert.deepEqual(names('\x7f\x7f\x7f'), ['backspace', 'backspace', 'backspace']);
	assert.deepEqual(names('\r\x1b[B\x1b[B\r'), ['return', 'down', 'down', 'return']);
	assert.deepEqual(names('\x1b\x1b[A'), ['escape', 'up'], 'not Alt-Up');
	assert.deepEqual(names('\x1b\x1b'), ['escape', 'escape']);
	assert.deepEqual(names('jq\x03'), ['j', 'q', '^c']);
	assert.deepEqual(names('\x1b[1;5A\x1b[5~\x1bOB\x1b[H\x1b[4~'), ['up', 'pageup', 'down', 'home', 'end']);
	// A sequence cut between two reads is completed by the next one; a lone ESC is Escape.
	const got: string[] = [];
	const reader = new KeyReader((ks) => got.push(...ks.map((k) => k.name)), 20);
	reader.push('\x1b[');
	reader.push('B\x1b');
	assert.deepEqual(got, ['down']);
	await new Promise((r) => setTimeout(r, 40));
	assert.deepEqual(got, ['down', 'escape']);
	reader.close();
});

test('bursts: Enter Down Down Enter on the device list ends on the options of the third entry, as typed slowly', () => {
	const raw = keys.enter + keys.down + keys.down + keys.enter;
	const {burst, slow} = both(raw);
	assert.deepEqual(where(burst.state()), where(slow.state()));
	assert.deepEqual(where(burst.state()), {...where(slow.state()), screen: 'options', board: 'SN405', file: '/fw/inav-8.0.0-MATEKF399.hex'});
});

test('bursts: every sequence ends where the same keys typed slowly end', () => {
	const sequences = [
		keys.enter + '/399' + keys.enter,
		keys.enter + keys.end + keys.up + keys.enter + keys.down + keys.down + keys.down + keys.backspace.repeat(4) + '8000',
		keys.enter + keys.up + keys.up + keys.up + keys.enter + keys.enter + keys.backspace + keys.down,
		keys.down + keys.enter + keys.enter + keys.esc + keys.esc + keys.down + keys.enter,
		keys.enter + '?' + keys.esc + keys.down + keys.enter + ' ' + keys.down + ' ' + keys.esc + keys.enter,
		keys.enter + 's' + keys.down + 's' + keys.enter + keys.esc + keys.esc,
	];
	for (const raw of sequences) {
		const {burst, slow} = both(raw);
		assert.deepEqual(where(burst.state()), where(slow.state()), JSON.stringify(raw));
	}
});

test('picker: the highlight follows the filter matches; Enter with the cursor on ../ chooses the one match', () => {
	const w = world();
	w.type(keys.enter);
	w.type(keys.home);
	assert.equal(currentEntry(w.state().picker!)?.kind, 'up');
	w.type('/399');
	assert.equal(currentEntry(w.state().picker!)?.name, 'inav-8.0.0-MATEKF399.hex');
	w.type(keys.enter);
	assert.equal(w.state().view.screen, 'options');
	const v = w.state().view;
	assert.equal(v.screen === 'options' && v.file, '/fw/inav-8.0.0-MATEKF399.hex');
});

test('picker: three Backspaces in one burst delete three characters of the filter', () => {
	const w = world();
	w.type(keys.enter + '/abcd');
	w.type(keys.backspace.repeat(3));
	assert.equal(w.state().picker!.filter, 'a');
});

test('picker: the file built for the board is preselected (name or ident) and the sort puts the newest first', () => {
	const w = world();
	w.type(keys.down + keys.enter);
	assert.equal(currentEntry(w.state().picker!)?.name, 'betaflight-4.5.1-STM32F7X2.hex', 'the FC reports STM32F7X2');
	w.type(keys.esc + keys.up + keys.enter);
	assert.equal(currentEntry(w.state().picker!)?.name, 'betaflight-4.5.1-STM32F7X2.hex', 'the cursor stays where it was for the next board');
	w.type(keys.end + 's' + keys.home);
	assert.equal(w.state().picker!.sort, 'date');
	w.type(keys.down + keys.down);
	assert.equal(currentEntry(w.state().picker!)?.name, 'betaflight-4.5.1-STM32F405.hex', 'newest file first after the folder');
});

test('hints: ? then Esc returns to the same folder, cursor and option values', () => {
	const w = world();
	w.type(keys.enter + keys.home + keys.down + keys.enter);
	assert.equal(currentEntry(w.state().picker!)?.path, '/fw/older/betaflight-4.4.0-STM32F405.hex');
	const before = where(w.state());
	w.type('?');
	assert.equal(w.state().view.screen, 'hints');
	w.type(keys.down + keys.esc);
	assert.deepEqual(where(w.state()), before);
	w.type(keys.enter + keys.down + ' ');
	const options = where(w.state());
	assert.equal(options.cursor, 'verify');
	w.type('?' + keys.esc);
	assert.deepEqual(where(w.state()), options);
	// Back from the options to the picker: same folder and file.
	w.type(keys.esc);
	assert.equal(currentEntry(w.state().picker!)?.path, '/fw/older/betaflight-4.4.0-STM32F405.hex');
});

function confirmFacts(over: Partial<ConfirmFacts> = {}): ConfirmFacts {
	return {board: dfuBoard, file: '/fw/a.hex', image: image('/fw/a.hex', 'STM32F405'), erase: '5 sectors, 128 KiB', steps: ['write 8 KiB', 'verify'], warnings: [], ...over};
}

const result = (over: Partial<JobResult> = {}): JobResult => ({kind: 'flash', ok: true, exitCode: 0, fields: {}, summary: 'ok', cancelled: false, data: {boardState: 'running'}, ...over});

/** Device list -> first file -> options -> Enter: the flash job is started and waits to ask. */
function toConfirm(w: World, requires: 'yes' | 'force' = 'yes') {
	w.type(keys.enter + keys.enter + keys.enter);
	assert.equal(w.jobs.length, 1);
	assert.equal(w.state().view.screen, 'options', 'waiting for the job to ask');
	w.job({type: 'phases', phases: ['erase', 'write', 'verify', 'leave']});
	w.job({type: 'question', question: {id: 1, kind: 'confirm', facts: confirmFacts({mismatch: requires === 'force' ? 'Built for X' : undefined}), requires}});
	assert.equal(w.state().view.screen, 'question');
}

test('confirm: keys typed before the job asks go to the confirmation; y answers yes', () => {
	const w = world();
	w.type(keys.enter + keys.enter + keys.enter + 'y');
	assert.equal(w.state().queue.length, 1, 'y waits for the question');
	w.job({type: 'question', question: {id: 7, kind: 'confirm', facts: confirmFacts(), requires: 'yes'}});
	assert.deepEqual(w.log.filter((c) => c.type === 'answer').map((c) => c.type === 'answer' && c.reply), ['yes']);
	assert.equal(w.state().view.screen, 'progress');
});

test('confirm: n goes back to the options (values kept) once the job has ended; nothing else is said', () => {
	const w = world();
	toConfirm(w);
	w.type('n');
	w.job({type: 'result', result: result({ok: false, exitCode: 5, error: {code: 5, message: 'Not confirmed', hint: null, hintId: null}})});
	assert.equal(w.state().view.screen, 'options');
	assert.equal(w.state().options.error, undefined);
	assert.equal(w.state().options.busy, undefined);
});

test('confirm: s flashes from the serial port only where the job offers it (a board in DFU running another release)', () => {
	const plain = world();
	toConfirm(plain);
	plain.type('s');
	assert.equal(plain.log.filter((c) => c.type === 'answer').length, 0, 's is no answer where it is not offered');
	assert.equal(plain.state().view.screen, 'question');
	const w = world();
	w.type(keys.enter + keys.enter + keys.enter);
	w.job({type: 'question', question: {id: 3, kind: 'confirm', facts: confirmFacts({offersSerial: true, runs: 'Betaflight 4.5.1, built for STM32F405'}), requires: 'yes'}});
	w.type('s');
	assert.deepEqual(w.log.filter((c) => c.type === 'answer').map((c) => c.type === 'answer' && c.reply), ['serial']);
	assert.equal(w.state().view.screen, 'progress', 'the job goes on: its firmware is started');
	// Its serial port answers: the job asks again, for the board as it is now; only y flashes.
	w.job({type: 'question', question: {id: 4, kind: 'confirm', facts: confirmFacts({board: serialBoard, steps: ['back up its settings', 'write 8 KiB', 'verify', 'restore its settings']}), requires: 'yes'}});
	assert.equal(w.state().view.screen, 'question');
	w.type('s' + keys.enter);
	assert.deepEqual(w.log.filter((c) => c.type === 'answer').map((c) => c.type === 'answer' && c.reply), ['serial', 'no'], 's is not offered again, and Enter goes back');
});

test('confirm, asked again from the serial port: y flashes', () => {
	const w = world();
	w.type(keys.enter + keys.enter + keys.enter);
	w.job({type: 'question', question: {id: 3, kind: 'confirm', facts: confirmFacts({offersSerial: true}), requires: 'yes'}});
	w.type('s');
	w.job({type: 'question', question: {id: 4, kind: 'confirm', facts: confirmFacts({board: serialBoard}), requires: 'yes'}});
	w.type('y');
	assert.deepEqual(w.log.filter((c) => c.type === 'answer').map((c) => c.type === 'answer' && c.reply), ['serial', 'yes']);
	assert.equal(w.state().view.screen, 'progress');
});

test('confirm: a wrong-target image flashes only after the typed word force and Enter; y alone does nothing', () => {
	const w = world();
	toConfirm(w, 'force');
	w.type('y');
	assert.equal(w.log.filter((c) => c.type === 'answer').length, 0);
	w.type(keys.backspace + 'forc' + keys.enter);
	assert.equal(w.log.filter((c) => c.type === 'answer').length, 0, 'not the whole word');
	assert.match(w.state().view.screen === 'question' ? (w.state().view as {q: {notice?: string}}).q.notice ?? '' : '', /not the word force/);
	w.type('force' + keys.enter);
	assert.deepEqual(w.log.filter((c) => c.type === 'answer').map((c) => c.type === 'answer' && c.reply), ['force']);
});

test('stop: the question closes when the flash ends while it is open; y afterwards does not quit', () => {
	const w = world();
	toConfirm(w);
	w.type('y');
	w.job({type: 'progress', phase: 'write', done: 10, total: 100, rate: 0});
	w.type('q');
	assert.equal(w.state().ask, 'quit');
	w.job({type: 'result', result: result()});
	assert.equal(w.state().ask, undefined);
	assert.equal(w.state().view.screen, 'result');
	w.type('y');
	assert.deepEqual(w.exits, []);
});

test('stop: q then y stops the job; its result screen is shown, then the app quits with 130', () => {
	const w = world();
	toConfirm(w);
	w.type('y');
	w.job({type: 'progress', phase: 'erase', done: 0, total: 100, rate: 0});
	w.type('q' + 'n');
	assert.equal(w.state().ask, undefined);
	assert.equal(w.log.filter((c) => c.type === 'stop-job').length, 0);
	w.type(keys.ctrlC + 'y');
	assert.equal(w.log.filter((c) => c.type === 'stop-job').length, 1);
	assert.equal(w.state().job?.stopping, true);
	assert.deepEqual(w.exits, [], 'nothing quits before the job has stopped');
	w.job({type: 'result', result: result({ok: false, cancelled: true, exitCode: 130, data: {boardState: 'partly-written'}, error: {code: 130, message: 'Interrupted at a block boundary.', hint: null, hintId: 'interrupted'}})});
	assert.equal(w.state().view.screen, 'result');
	assert.deepEqual(w.exits, [130]);
});

test('options: the baud rate is not selectable with "No reboot sequence" on', () => {
	const w = world();
	w.type(keys.down + keys.enter + keys.enter);
	assert.equal(w.state().view.screen, 'options');
	w.type(keys.down + keys.down + ' ' + keys.down);
	assert.equal(w.state().options.choices.reboot, false);
	assert.equal(where(w.state()).cursor, 'onConnect', 'baud and keep settings are skipped');
	w.type(keys.up + ' ' + keys.down + ' ');
	assert.equal(w.state().options.choices.baud, 230400);
});

test('options: a burst of Backspaces in the .bin address deletes as many characters', () => {
	const w = world();
	w.type(keys.enter + keys.end + keys.up + keys.enter + keys.end + keys.up + keys.backspace.repeat(4) + '8000' + keys.enter);
	assert.equal(w.state().options.choices.address, '0x08008000');
	const reload = w.log.find((c) => c.type === 'load-image');
	assert.equal(reload?.type === 'load-image' && reload.address, 0x08008000);
	assert.equal(w.jobs.length, 1, 'the flash starts with the reloaded image');
	assert.equal((w.jobs[0]!.request.image as {low: number}).low, 0x08008000);
});

test('options: the .bin address is read by the same grammar as --address (0x hex or decimal; a leading 0 is refused)', () => {
	const typed = (text: string) => {
		const w = world();
		w.type(keys.enter + keys.end + keys.up + keys.enter + keys.end + keys.up + keys.backspace.repeat(10) + text + keys.enter);
		return w;
	};
	const decimal = typed('134250496');
	const reload = decimal.log.find((c) => c.type === 'load-image');
	assert.equal(reload?.type === 'load-image' && reload.address, 0x08008000, 'decimal, as the CLI reads it');
	const octalLooking = typed('08008000');
	assert.equal(octalLooking.log.find((c) => c.type === 'load-image'), undefined, 'nothing loaded at a guessed address');
	assert.match(octalLooking.state().options.error?.message ?? '', /starts with 0, which some tools read as octal\. Did you mean 0x08008000\?/);
	assert.equal(octalLooking.jobs.length, 0);
});

test('device list: s starts the firmware of a DFU board, b backs it up to a file named in the backups folder', () => {
	const w = world();
	w.type('s');
	assert.equal(w.jobs[0]?.kind, 'leave');
	assert.equal(w.state().view.screen, 'progress');
	w.job({type: 'result', result: result({kind: 'leave', data: {board: dfuBoard, alreadyRunning: false, boardState: 'running'}})});
	w.type(keys.enter + 'b');
	const v = w.state().view;
	assert.equal(v.screen, 'save-as');
	assert.equal(v.screen === 'save-as' && v.s.text, '/backups/SN405/flash.bin');
	w.type(keys.backspace.repeat(3) + 'img' + keys.enter);
	assert.equal(w.jobs[1]?.kind, 'backup');
	assert.equal(w.jobs[1]?.request.out, '/backups/SN405/flash.img');
});

test('device list: s on a running FC says so; b on it needs the settings-backup job', () => {
	const w = world();
	w.type(keys.down + 's');
	assert.match(w.state().devices.notice ?? '', /already runs its firmware/);
	w.type('b');
	assert.match(w.state().devices.notice ?? '', /not available/);
	const v = world({available: {'settings-backup': true}});
	v.type(keys.down + 'b');
	assert.equal(v.jobs[0]?.kind, 'settings-backup');
});

test('device list: a flight controller that rebooted into DFU keeps its name', () => {
	const w = world({boards: [serialBoard]});
	const inDfu = {...dfuBoard, id: 'SN722', serialNumber: 'SN722', chip: 'STM32F4/F7 (512 KiB)'};
	w.dispatch({type: 'boards', boards: [inDfu]});
	const b = shownBoards(w.state().devices)[0]!;
	assert.equal(boardTitle(b, knownBoard(w.state().devices, b)), 'STM32F7X2 (was BTFL 4.5.1 on ttyACM1)  DFU');
});

test('progress: a phase the board does not report shows elapsed against expected time', () => {
	assert.equal(progressStats({type: 'progress', phase: 'erase', done: 0, total: 1, rate: 0, elapsedMs: 3200, expectedMs: 8000}), '3 s of about 8 s (the board does not report progress)');
	assert.equal(progressStats({type: 'progress', phase: 'erase', done: 0, total: 1, rate: 0, elapsedMs: 5000}), '5 s in this phase');
	assert.equal(progressStats({type: 'progress', phase: 'erase', done: 512 * 1024, total: 1024 * 1024, rate: 0, elapsedMs: 5000}), '512 KiB / 1.00 MiB  5 s in this phase');
});

test('wrapping: continuation lines never start with a space; aligned columns keep their spacing', () => {
	const lines = wrapText('Erase:  5 sectors, 128 KiB (0x08000000-0x0801FFFF); the rest is kept', 40, '        ');
	assert.deepEqual(lines, ['Erase:  5 sectors, 128 KiB', '        (0x08000000-0x0801FFFF); the', '        rest is kept']);
	for (const l of wrapText('a b c d e f g h i j k l m n o p q r s t u v w x y z '.repeat(4), 13)) assert.doesNotMatch(l, /^ /);
});

test('job binding: progress at most every 100 ms; a silent phase is passed on again each whole second with the time spent', async () => {
	const sent: JobEvent[] = [];
	const b = new JobBinding(1, (e) => sent.push(e));
	for (let i = 0; i <= 20; i++) b.listener({type: 'progress', phase: 'erase', done: i, total: 100, rate: 0});
	assert.equal(sent.length, 1, 'the first goes at once, the rest waits');
	await new Promise((r) => setTimeout(r, 130));
	assert.equal(sent.length, 2);
	assert.equal((sent[1] as {done: number}).done, 20, 'the latest wins');
	await new Promise((r) => setTimeout(r, 1000));
	const tick = sent.at(-1) as {done: number; elapsedMs?: number};
	assert.ok(sent.length >= 3 && tick.done === 20 && (tick.elapsedMs ?? 0) >= 1000, JSON.stringify(sent.at(-1)));
	b.listener({type: 'result', result: {kind: 'flash', ok: true, exitCode: 0, fields: {}, summary: '', cancelled: false}});
	const n = sent.length;
	await new Promise((r) => setTimeout(r, 1100));
	assert.equal(sent.length, n, 'nothing after the result');
});

test('no CLI flags: every hint the TUI shows and every text on its screens names keys, not flags', async () => {
	const {readFileSync, readdirSync} = await import('node:fs');
	const {join} = await import('node:path');
	const {knownFlagNames} = await import('../source/cli/flags.js');
	const {hints, tuiHint} = await import('../source/hints.js');
	const flags = [...knownFlagNames()].filter((f) => f.length > 1 && /^[a-z-]+$/.test(f));
	const named = (text: string) => flags.filter((f) => new RegExp(`(^|[^\\w-])--${f}(?![\\w-])`).test(text));
	for (const id of Object.keys(hints) as (keyof typeof hints)[]) assert.deepEqual(named(tuiHint(id).text), [], `hint ${id}: ${tuiHint(id).text}`);
	// The screens' own strings (comments left out).
	const dir = join(process.cwd(), 'source', 'screens');
	for (const file of readdirSync(dir)) {
		const code = readFileSync(join(dir, file), 'utf8')
			.split('\n')
			.filter((l) => !/^\s*(\/\/|\/?\*)/.test(l))
			.join('\n');
		const strings = [...code.matchAll(/'([^'\n]*)'|`([^`]*)`|"([^"\n]*)"/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
		for (const s of strings) assert.deepEqual(named(s), [], `${file}: ${s}`);
	}
});

test('force: another board\'s settings, like a wrong-target image, go ahead only on the typed word; q and ? are letters there', () => {
	const w = world({available: {'settings-backup': true}});
	w.type(keys.down + 'b');
	w.job({type: 'question', question: {id: 3, kind: 'restore-other-board', backupMcuId: 'AAA', boardMcuId: 'BBB'}});
	assert.equal(w.state().view.screen, 'question');
	w.type('y');
	assert.equal(w.log.filter((c) => c.type === 'answer').length, 0, 'y alone does nothing');
	w.type('q?');
	assert.equal(w.state().ask, undefined, 'q is typed, not quit');
	assert.equal(w.state().view.screen, 'question', '? is typed, not the hints');
	w.type(keys.backspace + keys.backspace + keys.backspace + 'force' + keys.enter);
	assert.deepEqual(w.log.filter((c) => c.type === 'answer').map((c) => c.type === 'answer' && c.reply), ['force']);
});

test('keep settings: on by default for a flight controller, toggled with Space, sent with the flash; not offered for a board in DFU', () => {
	const raw = keys.down + keys.enter + keys.enter + keys.down.repeat(4);
	const {burst, slow} = both(raw);
	assert.deepEqual(where(burst.state()), where(slow.state()));
	const w = burst;
	assert.equal(w.state().options.choices.keepSettings, true);
	assert.equal(where(w.state()).cursor, 'keepSettings');
	w.type(' ');
	assert.equal(w.state().options.choices.keepSettings, false);
	w.type(' ' + keys.enter);
	assert.equal(w.jobs[0]!.request.keepSettings, true);
	const off = world();
	off.type(keys.down + keys.enter + keys.enter + keys.down.repeat(4) + ' ' + keys.enter);
	assert.equal(off.jobs[0]!.request.keepSettings, false);
	// A board in DFU: the row is never highlighted.
	const d = world();
	d.type(keys.enter + keys.enter);
	const seen = new Set<string>();
	for (let i = 0; i < 8; i++) {
		d.type(keys.down);
		seen.add(String(where(d.state()).cursor));
	}
	assert.ok(!seen.has('keepSettings'), [...seen].join(' '));
});

test('keep settings: when the backup fails the job asks; y flashes on without one, n ends the flash', () => {
	const ask = (reply: string) => {
		const w = world();
		w.type(keys.down + keys.enter + keys.enter + keys.enter);
		w.job({type: 'phases', phases: ['backup', 'reboot', 'wait', 'erase', 'write', 'verify', 'leave', 'firmware', 'restore']});
		w.job({type: 'question', question: {id: 1, kind: 'confirm', facts: confirmFacts({board: serialBoard}), requires: 'yes'}});
		w.type('y');
		w.job({type: 'progress', phase: 'backup', done: 0, total: 1, rate: 0});
		w.job({type: 'question', question: {id: 2, kind: 'continue-without-backup', reason: 'The settings backup of /dev/ttyACM1 failed: no CLI prompt. Nothing was flashed.'}});
		assert.equal(w.state().view.screen, 'question');
		w.type(reply);
		return w;
	};
	const yes = ask('y');
	assert.deepEqual(yes.log.filter((c) => c.type === 'answer').map((c) => c.type === 'answer' && [c.id, c.reply]), [[1, 'yes'], [2, 'yes']]);
	assert.equal(yes.state().view.screen, 'progress');
	const no = ask('n');
	assert.deepEqual(no.log.filter((c) => c.type === 'answer').map((c) => c.type === 'answer' && c.reply), ['yes', 'no']);
	no.job({type: 'result', result: result({ok: false, exitCode: 1, data: {boardState: 'untouched'}, error: {code: 1, message: 'The settings backup of /dev/ttyACM1 failed: no CLI prompt. Nothing was flashed.', hint: null, hintId: 'cli-no-prompt'}})});
	assert.equal(no.state().view.screen, 'result');
});

test('result: r opens the lines the firmware refused (and those still different), Esc returns, Enter then goes to the device list', () => {
	const w = world();
	w.type(keys.down + keys.enter + keys.enter + keys.enter);
	w.job({type: 'question', question: {id: 1, kind: 'confirm', facts: confirmFacts({board: serialBoard}), requires: 'yes'}});
	w.type('y');
	const rejected = Array.from({length: 30}, (_, i) => ({line: `set d_min_${i} = 20`, message: 'Invalid name'}));
	w.job({type: 'result', result: result({data: {board: serialBoard, durationMs: 1, warnings: [], boardState: 'running', settings: {backup: '/b/x.txt', restored: true, applied: 3, rejected, remaining: ['set a = 1']}}})});
	assert.equal(w.state().view.screen, 'result');
	w.type('r' + keys.down + keys.down);
	const v = w.state().view;
	assert.equal(v.screen, 'settings-lines');
	assert.equal(v.screen === 'settings-lines' && v.s.offset, 2);
	w.type(keys.end + keys.down);
	assert.equal(w.state().view.screen === 'settings-lines' && (w.state().view as {s: {offset: number}}).s.offset, 30, 'the last entry is the line still different');
	w.type(keys.esc);
	assert.equal(w.state().view.screen, 'result');
	w.type(keys.enter);
	assert.equal(w.state().view.screen, 'devices');
	// Nothing refused: r does nothing.
	const clean = world();
	clean.type(keys.enter + keys.enter + keys.enter);
	clean.job({type: 'question', question: {id: 1, kind: 'confirm', facts: confirmFacts(), requires: 'yes'}});
	clean.type('y');
	clean.job({type: 'result', result: result()});
	clean.type('r');
	assert.equal(clean.state().view.screen, 'result');
});

/** A flash of the flight controller, confirmed, now waiting for it in DFU after the reboot. */
function waitingForDfu() {
	const w = world();
	w.type(keys.down + keys.enter + keys.enter + keys.enter);
	w.job({type: 'phases', phases: ['backup', 'reboot', 'wait', 'erase', 'write', 'verify', 'leave', 'firmware', 'restore']});
	w.job({type: 'question', question: {id: 1, kind: 'confirm', facts: confirmFacts({board: serialBoard}), requires: 'yes'}});
	w.type('y');
	w.job({type: 'progress', phase: 'reboot', done: 1, total: 1, rate: 0});
	w.job({type: 'progress', phase: 'wait', done: 0, total: 1, rate: 0, elapsedMs: 12_000, expectedMs: 60_000});
	w.job({type: 'warning', warning: {text: 'No DFU board yet: hold the BOOT button and plug the board in again (still waiting).', hint: 'boot-button'}});
	return w;
}

test('stop: Esc on the progress asks to stop and stays in the app; q asks to stop and quit', () => {
	const w = waitingForDfu();
	w.type(keys.esc);
	assert.equal(w.state().ask, 'stop');
	w.type('n');
	assert.equal(w.state().ask, undefined);
	assert.equal(w.log.filter((c) => c.type === 'stop-job').length, 0);
	w.type(keys.esc + 'y');
	assert.equal(w.log.filter((c) => c.type === 'stop-job').length, 1);
	assert.equal(w.state().job?.stopping, true);
	assert.equal(w.state().quitting, false);
	w.job({type: 'result', result: result({ok: false, cancelled: true, exitCode: 130, data: {boardState: 'untouched'}, error: {code: 130, message: 'Interrupted while waiting for the DFU board.', hint: null, hintId: 'interrupted'}})});
	assert.equal(w.state().view.screen, 'result');
	assert.deepEqual(w.exits, [], 'still in the app');
	w.type(keys.enter);
	assert.equal(w.state().view.screen, 'devices');
	// Typed ahead in one burst: the same.
	const b = waitingForDfu();
	b.type(keys.esc + 'n' + keys.esc + 'y');
	assert.equal(b.log.filter((c) => c.type === 'stop-job').length, 1);
	const q = waitingForDfu();
	q.type('q');
	assert.equal(q.state().ask, 'quit');
	q.type('y');
	assert.equal(q.state().quitting, true);
});

test('progress: a phase the job did not announce (compare, unprotect) takes its place in the list', async () => {
	const {shownPhases} = await import('../source/screens/use-job-state.js');
	const w = world();
	w.type(keys.enter + keys.enter + keys.enter);
	w.job({type: 'phases', phases: ['erase', 'write', 'verify', 'leave']});
	w.job({type: 'question', question: {id: 1, kind: 'confirm', facts: confirmFacts(), requires: 'yes'}});
	w.type('y');
	w.job({type: 'progress', phase: 'compare', done: 10, total: 100, rate: 0});
	assert.deepEqual(shownPhases(w.state().job!), ['compare', 'erase', 'write', 'verify', 'leave']);
	w.job({type: 'progress', phase: 'write', done: 10, total: 100, rate: 0});
	assert.deepEqual(w.state().job!.finished, ['compare', 'erase']);
	assert.deepEqual(shownPhases(w.state().job!), ['compare', 'erase', 'write', 'verify', 'leave']);
});

const f405 = (n: number) => ({...dfuBoard, id: `SN40${n}`, serialNumber: `SN40${n}`, usbPath: `1-${n}`});
const fleetFlash = (n: number, event: JobEvent): JobEvent => ({type: 'fleet', boardId: `SN40${n}@1-${n}`, board: f405(n), event});
const flashed = (n: number): JobEvent =>
	fleetFlash(n, {type: 'result', result: result({data: {board: f405(n), durationMs: 2100, verified: true, left: true, warnings: [], boardState: 'running'}})});

/** Device list -> firmware -> options -> the "Flash on connect" row -> y: the fleet screen. */
function toFleet(raw = keys.enter + keys.enter + keys.end + keys.enter, mode: 'burst' | 'slow' = 'burst') {
	const w = world();
	w.type(raw, mode);
	assert.equal(w.jobs[0]?.kind, 'on-connect');
	w.job({type: 'question', question: {id: 1, kind: 'confirm-fleet', file: '/fw/betaflight-4.5.1-STM32F405.hex', image: image('/fw/betaflight-4.5.1-STM32F405.hex', 'STM32F405')}});
	w.type('y', mode);
	return w;
}

test('flash on connect: the Options row starts the on-connect job with the image and the options; its question is answered from the y/n screen', () => {
	const w = world();
	w.type(keys.enter + keys.enter + ' ' + keys.end);
	assert.equal(where(w.state()).cursor, 'onConnect');
	w.type(keys.enter);
	assert.equal(w.jobs.length, 1);
	const job = w.jobs[0]!;
	assert.equal(job.kind, 'on-connect');
	assert.equal(job.request.board, undefined, 'no board: every board that fits');
	assert.equal(job.request.file, '/fw/betaflight-4.5.1-STM32F405.hex');
	assert.ok(job.request.image);
	assert.deepEqual([job.request.fullErase, job.request.verify, job.request.keepSettings, job.request.reboot], [true, true, true, true]);
	assert.equal(job.request.force, undefined, 'never forced');
	assert.equal(w.state().view.screen, 'options', 'waiting for the job to ask');
	w.job({type: 'question', question: {id: 4, kind: 'confirm-fleet', file: '/fw/betaflight-4.5.1-STM32F405.hex', image: image('/fw/betaflight-4.5.1-STM32F405.hex', 'STM32F405')}});
	assert.equal(w.state().view.screen, 'question');
	w.type('y');
	assert.deepEqual(w.log.filter((c) => c.type === 'answer').map((c) => c.type === 'answer' && [c.id, c.reply]), [[4, 'yes']]);
	assert.equal(w.state().view.screen, 'fleet');
	// Declined: back on the options (values kept) once the job has ended.
	const n = world();
	n.type(keys.enter + keys.enter + ' ' + keys.end + keys.enter);
	n.job({type: 'question', question: {id: 1, kind: 'confirm-fleet', file: '/fw/a.hex', image: image('/fw/a.hex', 'STM32F405')}});
	n.type('n');
	n.job({type: 'result', result: result({kind: 'on-connect', ok: false, exitCode: 5, error: {code: 5, message: 'Not confirmed', hint: null, hintId: null}})});
	assert.equal(n.state().view.screen, 'options');
	assert.equal(n.state().options.choices.fullErase, true);
	assert.equal(n.state().options.error, undefined);
});

test('flash on connect: a row per board from the job\'s events; a board seen again keeps its result; the counts', () => {
	const w = toFleet();
	w.job(fleetFlash(1, {type: 'phases', phases: ['erase', 'write', 'verify', 'leave']}));
	w.job(fleetFlash(1, {type: 'progress', phase: 'write', done: 10, total: 100, rate: 0}));
	w.job({type: 'board-skipped', boardId: 'SN722@1-9', board: {...serialBoard, usbPath: '1-9'}, reason: 'Built for STM32F405, but the flight controller reports STM32F7X2.'});
	w.job(fleetFlash(2, {type: 'phases', phases: ['erase', 'write', 'verify', 'leave']}));
	w.job(flashed(2));
	w.job({type: 'board-skipped', boardId: 'SN402@1-2', board: f405(2), reason: 'Already flashed in this run: not flashed again.'});
	w.job(fleetFlash(3, {type: 'result', result: result({ok: false, exitCode: 1, error: {code: 1, message: 'The board left mid-write.', hint: null, hintId: 'device-gone'}})}));
	const rows = w.state().job!.fleet;
	assert.deepEqual(rows.map((r) => r.boardId), ['SN401@1-1', 'SN722@1-9', 'SN402@1-2', 'SN403@1-3']);
	assert.equal(rows[0]!.progress?.phase, 'write');
	assert.match(rows[1]!.skipped ?? '', /reports STM32F7X2/);
	assert.equal(rows[2]!.result?.ok, true);
	assert.match(rows[2]!.seenAgain ?? '', /Already flashed/);
	assert.equal(rows[2]!.skipped, undefined);
	assert.deepEqual(fleetCounts(rows), {tried: 3, flashed: 1, failed: 1, running: 1, skipped: 1});
});

test('flash on connect: Esc asks, y stops taking boards; Esc again stops the flashes under way; the end shows the summary, Enter goes to the device list', () => {
	for (const mode of ['burst', 'slow'] as const) {
		const w = toFleet(keys.enter + keys.enter + keys.end + keys.enter, mode);
		w.job(fleetFlash(1, {type: 'progress', phase: 'write', done: 10, total: 100, rate: 0}));
		w.type(keys.esc + 'n', mode);
		assert.equal(w.log.filter((c) => c.type === 'stop-job').length, 0);
		w.type(keys.esc, mode);
		assert.equal(w.state().ask, 'stop');
		w.type('y', mode);
		assert.equal(w.log.filter((c) => c.type === 'stop-job').length, 1, 'the first stop: no new boards');
		assert.equal(w.state().job?.stopping, true);
		assert.equal(w.state().quitting, false);
		w.type(keys.esc + 'y', mode);
		assert.equal(w.log.filter((c) => c.type === 'stop-job').length, 2, 'the second stop: the flashes under way too');
		assert.equal(w.state().job?.stoppingAll, true);
		w.type(keys.esc, mode);
		assert.equal(w.state().ask, undefined, 'nothing left to stop');
		w.job(fleetFlash(1, {type: 'result', result: result({ok: false, cancelled: true, exitCode: 130, error: {code: 130, message: 'Interrupted.', hint: null, hintId: 'interrupted'}})}));
		w.job({type: 'result', result: result({kind: 'on-connect', ok: false, cancelled: true, exitCode: 130, summary: 'Stopped.', error: {code: 130, message: 'Stopped. 1 board tried: 0 flashed, 1 failed.', hint: null, hintId: 'interrupted'}})});
		assert.equal(w.state().view.screen, 'fleet', 'the summary is on the fleet screen');
		assert.deepEqual(w.exits, []);
		w.type(keys.enter, mode);
		assert.equal(w.state().view.screen, 'devices');
	}
	// Nothing under way: the first stop is the last.
	const idle = toFleet();
	idle.type(keys.esc + 'y' + keys.esc);
	assert.equal(idle.log.filter((c) => c.type === 'stop-job').length, 1);
	assert.equal(idle.state().ask, undefined);
	// q: stop taking boards and quit once the flashes under way are done; q again stops those too.
	const q = toFleet();
	q.job(fleetFlash(1, {type: 'progress', phase: 'write', done: 10, total: 100, rate: 0}));
	q.type('qy');
	assert.equal(q.state().quitting, true);
	q.type('qy');
	assert.equal(q.log.filter((c) => c.type === 'stop-job').length, 2);
	q.job({type: 'result', result: result({kind: 'on-connect', ok: false, cancelled: true, exitCode: 130})});
	assert.deepEqual(q.exits, [130]);
});

test('flash on connect: Up/Down move through the boards and keep the highlighted one in view', () => {
	const w = toFleet();
	for (let n = 1; n <= 12; n++) w.job(flashed(n));
	const page = fleetPageRows(w.state().size);
	w.type(keys.down.repeat(11));
	const v = w.state().view;
	assert.equal(v.screen === 'fleet' && v.s.selected, 'SN4012@1-12');
	assert.equal(v.screen === 'fleet' && fleetWindow(v.s, w.state().job!.fleet, page), 12 - page);
	w.type(keys.home);
	const h = w.state().view;
	assert.equal(h.screen === 'fleet' && fleetWindow(h.s, w.state().job!.fleet, page), 0);
	const slow = toFleet();
	for (let n = 1; n <= 12; n++) slow.job(flashed(n));
	slow.type(keys.down.repeat(11) + keys.home, 'slow');
	assert.deepEqual(slow.state().view, w.state().view);
});

test('job binding: each board\'s progress in flash on connect is passed on at most every 100 ms, its other events at once and in order', async () => {
	const sent: JobEvent[] = [];
	const b = new JobBinding(1, (e) => sent.push(e));
	for (let i = 0; i <= 20; i++) {
		b.listener(fleetFlash(1, {type: 'progress', phase: 'write', done: i, total: 100, rate: 0}));
		b.listener(fleetFlash(2, {type: 'progress', phase: 'write', done: i, total: 100, rate: 0}));
	}
	assert.equal(sent.length, 2, 'the first of each board at once');
	b.listener(fleetFlash(2, {type: 'info', text: 'hello'}));
	assert.equal(sent.length, 4, "board 2's latest progress first, then its info");
	assert.equal(((sent[2] as {event: {done: number}}).event).done, 20);
	await new Promise((r) => setTimeout(r, 130));
	assert.equal(sent.length, 5);
	assert.equal(((sent[4] as {boardId: string; event: {done: number}}).event).done, 20);
	b.listener({type: 'result', result: result({kind: 'on-connect'})});
	assert.equal(sent.at(-1)!.type, 'result');
});
