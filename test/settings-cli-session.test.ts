// The CLI session (devices/fc-cli.ts) against the emulated Betaflight and against scripted ports
// that misbehave: a CLI that never shows its prompt, one that hangs mid-command, binary instead of
// text, a port that vanishes. Every case ends by itself with a typed error.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {CliSession} from '../source/devices/fc-cli.js';
import {CancelledError, CliGarbageError, CliPortGoneError, CliPromptError, CliTimeoutError} from '../source/errors.js';
import {hints} from '../source/hints.js';
import {emulatedFc, scriptedLink} from './helpers/fake-fc.js';

const opts = {timeout: 15_000};

test('enter, run, get: output between the echo and the prompt, errors picked out', opts, async () => {
	const {open} = emulatedFc();
	const s = await CliSession.enter(open());
	assert.deepEqual(await s.run('set p_roll = 50'), {command: 'set p_roll = 50', lines: ['p_roll set to 50'], errors: []});
	const bad = await s.run('set nonexistent_setting = 1');
	assert.deepEqual(bad.errors, ['ERROR IN set: INVALID NAME: nonexistent_setting = 1']);
	const range = await s.run('set p_roll = 999');
	assert.deepEqual(range.lines, ['###ERROR IN set: INVALID VALUE###', 'Allowed range: 0 - 250']);
	assert.deepEqual(range.errors, ['ERROR IN set: INVALID VALUE']);
	assert.equal(await s.get('p_roll'), '50');
	// `get d_roll` also lists every name containing it; only the exact one counts.
	assert.equal(await s.get('roll'), undefined);
	assert.equal(await s.get('d_roll'), '40');
	await s.run('set craft_name = My  Quad');
	assert.equal(await s.get('craft_name'), 'My  Quad');
	assert.equal(await s.get('no_such_setting'), undefined);
	await s.exit();
});

test('diff all: the same text however the answer is cut, though every comment starts like a prompt', opts, async () => {
	const texts: string[] = [];
	for (const maxChunk of [0, 1, 4, 7]) {
		const {open} = emulatedFc(undefined, {maxChunk});
		const s = await CliSession.enter(open());
		await s.run('set p_roll = 50');
		await s.run('profile 1');
		await s.run('set i_roll = 90');
		texts.push(await s.diffAll());
		await s.exit();
	}
	assert.ok(texts[0]!.startsWith('# version\n# Betaflight / SITL (SITL) 4.5.6'), texts[0]);
	assert.ok(texts[0]!.includes('\n# profile 1\nset i_roll = 90\n'));
	assert.ok(texts[0]!.endsWith('# save configuration\nsave\n'));
	for (const t of texts) assert.equal(t, texts[0]);
});

test('the firmware drops a command sent with the #; the session waits for the prompt', opts, async () => {
	const {open} = emulatedFc();
	const raw = open();
	const seen: string[] = [];
	raw.onData((c) => seen.push(c.toString('latin1')));
	await raw.write(Buffer.from('#get p_roll\n'));
	await new Promise((r) => setTimeout(r, 50));
	assert.match(seen.join(''), /Entering CLI Mode/);
	assert.doesNotMatch(seen.join(''), /p_roll = /, 'the command after # was lost, as on the real firmware');
	await raw.close();
});

test('a CLI left active by an earlier session (dirty line buffer): one newline gets a fresh prompt', opts, async () => {
	const {fc, open} = emulatedFc();
	const first = open();
	await first.write(Buffer.from('#'));
	await new Promise((r) => setTimeout(r, 20));
	await first.write(Buffer.from('$M<\x00\x01\x01set p_r')); // half a line, never finished
	await first.close();
	assert.equal(fc.inCli, true);
	const s = await CliSession.enter(open());
	assert.equal((await s.run('get p_roll')).lines[0], 'p_roll = 45');
	await s.exit();
});

test('a CLI that never shows its prompt: CliPromptError after the timeout, with a next step', opts, async () => {
	const silent = scriptedLink(() => {});
	const started = performance.now();
	const error = await CliSession.enter(silent, {promptTimeoutMs: 800}).catch((e: unknown) => e);
	const took = performance.now() - started;
	assert.ok(error instanceof CliPromptError);
	assert.match(error.message, /script:ttyACM0: the CLI never showed its prompt \(sent '#', waited 0\.8 s\)/);
	assert.equal(error.hint, 'cli-no-prompt');
	assert.match(hints['cli-no-prompt'].text, /--no-keep-settings/);
	assert.ok(took >= 750 && took < 2500, `gave up after ${Math.round(took)} ms`);
});

test('a command that never comes back: CliTimeoutError naming the command', opts, async () => {
	// Answers `#` and the handshake, then swallows every line: a hung firmware.
	let lines = 0;
	const hung = scriptedLink((line, say) => {
		if (line === '#') return say("\r\nEntering CLI Mode, type 'exit' to reboot, or 'help'\r\n\r\n# ");
		if (lines++ === 0) say(`${line}\r\n\r\n# `);
	});
	const s = await CliSession.enter(hung);
	const error = await s.run('diff all', {timeoutMs: 300}).catch((e: unknown) => e);
	assert.ok(error instanceof CliTimeoutError);
	assert.match(error.message, /`diff all` did not finish within 0\.3 s/);
});

test('binary instead of a diff: CliGarbageError (the port is not answering as a CLI)', opts, async () => {
	const garbage = scriptedLink((line, say) => {
		if (line === '#') return say('\r\n# ');
		if (line === 'diff all') return say('diff all\r\n$M>\x03\x01\x00\x01\x2e\x2d\r\n# ');
		say(`${line}\r\n\r\n# `);
	});
	const s = await CliSession.enter(garbage);
	const error = await s.diffAll().catch((e: unknown) => e);
	assert.ok(error instanceof CliGarbageError);
	assert.equal(error.hint, 'cli-garbage');
});

test('the port vanishes in the middle of diff all: CliPortGoneError, at once', opts, async () => {
	const {fc, open} = emulatedFc(undefined, {maxChunk: 16});
	const link = open();
	const s = await CliSession.enter(link);
	link.onData((c) => c.toString('latin1').includes('profile') && fc.unplug());
	const started = performance.now();
	const error = await s.diffAll().catch((e: unknown) => e);
	assert.ok(error instanceof CliPortGoneError, String(error));
	assert.match(error.message, /emu:ttyACM0 vanished during `diff all`/);
	assert.ok(performance.now() - started < 1000);
});

test('save, exit and bl end with the port gone; save keeps, exit drops', opts, async () => {
	const {fc, open, reboots} = emulatedFc();
	let s = await CliSession.enter(open());
	await s.run('set p_roll = 55');
	const saved = await s.save();
	assert.equal(saved.closed, true);
	assert.deepEqual(saved.lines.filter(Boolean), ['# saving', 'Rebooting']);
	assert.equal(s.gone, true);
	assert.equal(fc.settings.values['profile 0']?.p_roll, '55', 'kept after the reboot');

	s = await CliSession.enter(open());
	await s.run('set p_roll = 66');
	assert.equal((await s.exit()).closed, true);
	assert.equal(fc.settings.values['profile 0']?.p_roll, '55', 'exit dropped the unsaved change');

	s = await CliSession.enter(open());
	assert.equal((await s.enterBootloader('BTFL')).closed, true);
	assert.deepEqual(reboots, ['firmware', 'firmware', 'bootloader']);
});

test('Betaflight refuses save after a failed line in a batch, until batch end', opts, async () => {
	const {fc, open} = emulatedFc();
	const s = await CliSession.enter(open());
	await s.run('batch start');
	await s.run('set p_roll = 60');
	await s.run('set d_max_roll = 30'); // a 2025.12 name: rejected by 4.5
	const refused = await s.save();
	assert.equal(refused.closed, false);
	assert.deepEqual(refused.errors, ['ERROR IN save: ERRORS WERE DETECTED - PLEASE REVIEW BEFORE CONTINUING', "ERROR IN save: PLEASE FIX ERRORS THEN 'SAVE'"]);
	await s.run('set d_max_roll = 31');
	// `batch end` acknowledges the errors; then save works.
	assert.deepEqual((await s.run('batch end')).errors, ['ERROR IN batch: ERRORS WERE DETECTED - PLEASE REVIEW BEFORE CONTINUING']);
	assert.equal((await s.save()).closed, true);
	assert.equal(fc.settings.values['profile 0']?.p_roll, '60');
});

test('Ctrl-C (AbortSignal) stops a wait with CancelledError; exit still cleans up', opts, async () => {
	const {fc, open} = emulatedFc();
	const controller = new AbortController();
	const s = await CliSession.enter(open(), {signal: controller.signal});
	controller.abort();
	await assert.rejects(s.run('get p_roll'), CancelledError);
	assert.equal((await s.exit()).closed, true);
	assert.equal(fc.inCli, false);
});
