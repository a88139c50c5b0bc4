// The CLI transcript fixture (test/fixtures/betaflight-4.5.6-cli.txt) against the real Betaflight
// 4.5.6 (SITL on a PTY): the fixture must still be what the firmware says, since the emulation is
// checked against it (settings-transcript.test.ts). FCFLASH_RECORD_TRANSCRIPT=1 writes it afresh.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync, writeFileSync} from 'node:fs';
import {formatTranscript, parseTranscript, portGone, recordTranscript, sitlSkip, startSitl, transcriptFile, transcriptScript} from './helpers/sitl.js';

const skip = sitlSkip();

test('real Betaflight 4.5.6 answers the transcript script exactly as the fixture records', {skip, timeout: 120_000}, async () => {
	const sitl = await startSitl({firmware: '4.5.6'});
	try {
		const got = await recordTranscript(() => sitl.open(), transcriptScript, () => portGone(sitl.port));
		if (process.env.FCFLASH_RECORD_TRANSCRIPT === '1') {
			writeFileSync(
				transcriptFile,
				formatTranscript(
					`Betaflight 4.5.6 CLI (SITL build on fc-sitl's PTY), recorded by test/u-sitl-transcript.test.ts with
FCFLASH_RECORD_TRANSCRIPT=1. '>>> LINE' is what was sent ('#' enters the CLI); the lines under it
are the firmware's answer between its echo and the next '# ' prompt. Replayed against the
emulated firmware by test/settings-transcript.test.ts.`,
					got,
				),
			);
		}
		const fixture = parseTranscript(readFileSync(transcriptFile, 'utf8'));
		assert.deepEqual(got, fixture);
	} finally {
		await sitl.stop();
	}
});
