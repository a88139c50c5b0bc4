// Hotplug through the device service on the real USB path: the emulated board is plugged in and
// pulled out at run time (umockdev uevents -> libusb -> node-usb attach/detach -> RealSource.watch)
// and `fcflash-tui list --watch --json` follows.
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {test} from 'node:test';
import {harness, repo, serverJs, skipReason} from './helpers/usb-harness.js';

const cli = join(repo ?? '', 'dist', 'cli.js');

test('list --watch follows the board being plugged in and pulled out', {skip: skipReason, timeout: 60_000}, async () => {
	const dir = mkdtempSync(join(tmpdir(), 'usb-hotplug-'));
	const controlNote = join(dir, 'control-path');
	const wrapper = `printf '%s' "$EMULATED_USB_CONTROL" > '${controlNote}'; exec "$@"`;
	const child = spawn(
		harness,
		['--server', serverJs, '--profile', 'stm32f405', '--start-unplugged', '--', '/bin/sh', '-c', wrapper, 'sh', process.execPath, cli, 'list', '--watch', '--json'],
		{stdio: ['ignore', 'pipe', 'pipe']},
	);
	const events: Array<{event: string; board?: {kind: string; serialNumber?: string; vendorId: number}}> = [];
	let stderr = '';
	let buffered = '';
	child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
		buffered += chunk;
		for (let i; (i = buffered.indexOf('\n')) >= 0; buffered = buffered.slice(i + 1)) events.push(JSON.parse(buffered.slice(0, i)));
	});
	child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
	const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
	const waitFor = async (what: string, predicate: () => boolean) => {
		const deadline = Date.now() + 15_000;
		while (!predicate()) {
			if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\nevents: ${JSON.stringify(events)}\nstderr: ${stderr}`);
			await new Promise((r) => setTimeout(r, 50));
		}
	};
	const control = (line: string) => appendFileSync(readFileSync(controlNote, 'utf8'), `${line}\n`);
	try {
		await waitFor('the watch to start', () => existsSync(controlNote));
		// Nothing is attached yet: no event may claim a board.
		await new Promise((r) => setTimeout(r, 1500));
		assert.equal(events.filter((e) => e.event === 'attach').length, 0, JSON.stringify(events));

		control('add');
		await waitFor('attach', () => events.some((e) => e.event === 'attach'));
		const attach = events.find((e) => e.event === 'attach')!;
		assert.equal(attach.board?.kind, 'dfu');
		assert.equal(attach.board?.vendorId, 0x0483);
		assert.equal(attach.board?.serialNumber, '3276364A3030');

		control('remove');
		await waitFor('detach', () => events.some((e) => e.event === 'detach'));
		assert.equal(events.find((e) => e.event === 'detach')!.board?.serialNumber, '3276364A3030');

		child.kill('SIGINT');
		const code = await exited;
		// The harness passes on the command's exit code; a user-stopped watch is a success.
		assert.equal(code, 0, stderr);
		assert.equal(events.at(-1)!.event, 'result');
	} finally {
		child.kill('SIGKILL');
		rmSync(dir, {recursive: true, force: true});
	}
});
