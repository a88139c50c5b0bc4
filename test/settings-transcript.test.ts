// The emulated Betaflight against a transcript of the real 4.5.6 firmware (recorded from the SITL
// build, checked against it by u-sitl-transcript.test.ts): the same script, the same answers.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {emulatedFc} from './helpers/fake-fc.js';
import {parseTranscript, recordTranscript, transcriptFile, transcriptScript} from './helpers/sitl.js';

test('the fixture is the script it claims to be', () => {
	assert.deepEqual(
		parseTranscript(readFileSync(transcriptFile, 'utf8')).map((e) => e.sent),
		transcriptScript,
	);
});

test('the emulation answers every line of the 4.5.6 transcript as the real firmware did', {timeout: 20_000}, async () => {
	const fixture = parseTranscript(readFileSync(transcriptFile, 'utf8'));
	const {open} = emulatedFc(); // Betaflight 4.5.6 "SITL", MCU id 0, 1, 2
	const got = await recordTranscript(async () => open(), transcriptScript);
	for (let i = 0; i < fixture.length; i++) assert.deepEqual(got[i], fixture[i], `exchange ${i}: ${fixture[i]!.sent}`);
	assert.equal(got.length, fixture.length);
});
