// Hotplug through the device service on the real USB path: the emulated board is plugged in and
// pulled out at run time (umockdev uevents -> libusb -> node-usb attach/detach -> RealSource.watch)
// and `fcflash-tui list --watch --json` follows.
import assert from 'node:assert/strict';
import {join} from 'node:path';
import {test} from 'node:test';
import {startSession, waitFor} from './helpers/harness-session.js';
import {tempFiles} from './helpers/temp-files.js';
import {repo, skipReason} from './helpers/usb-harness.js';

const cli = join(repo ?? '', 'dist', 'cli.js');
const files = tempFiles('usb-hotplug-');

test('list --watch follows the board being plugged in and pulled out', {skip: skipReason, timeout: 60_000}, async () => {
	// The harness runs in a process group of its own: a failure or a timeout ends all of it (the
	// harness, its emulator server and the `list --watch`), not the harness alone.
	const s = startSession('watch', ['--profile', 'stm32f405', '--start-unplugged'], [process.execPath, cli, 'list', '--watch', '--json'], {dir: files.dir, timeoutMs: 50_000});
	type Event = {event: string; board?: {kind: string; serialNumber?: string; vendorId: number}};
	const events = (): Event[] => s.lines.map((l) => JSON.parse(l.text) as Event);
	const context = () => `events: ${JSON.stringify(events())}\n${s.context()}`;
	try {
		await s.ready();
		// Nothing is attached yet: no event may claim a board.
		await new Promise((r) => setTimeout(r, 1500));
		assert.equal(events().filter((e) => e.event === 'attach').length, 0, context());

		s.control('add');
		await waitFor('attach', () => events().some((e) => e.event === 'attach'), context, 15_000);
		const attach = events().find((e) => e.event === 'attach')!;
		assert.equal(attach.board?.kind, 'dfu');
		assert.equal(attach.board?.vendorId, 0x0483);
		assert.equal(attach.board?.serialNumber, '3276364A3030');

		s.control('remove');
		await waitFor('detach', () => events().some((e) => e.event === 'detach'), context, 15_000);
		assert.equal(events().find((e) => e.event === 'detach')!.board?.serialNumber, '3276364A3030');

		s.child.kill('SIGINT');
		// The harness passes on the command's exit code; a user-stopped watch is a success.
		assert.equal(await s.exit(15_000), 0, context());
		assert.equal(events().at(-1)!.event, 'result');
	} finally {
		await s.stop();
	}
});
