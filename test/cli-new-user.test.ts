// The CLI as a new user meets it: the flags they try, the mistakes they make, the files they bring.
// Each case names what was wrong before (issue #8, "CLI as a new user meets it").
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, describe, it} from 'node:test';
import {fileURLToPath} from 'node:url';
import {betaflightLikeImage, toIntelHex} from '../scripts/synthetic-firmware.js';
import {buildDfuFile, dfuCrc} from '../source/firmware/dfu-file.js';
import {parseAddress} from '../source/jobs/address.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = process.env.FCFLASH_TEST_CLI ?? join(root, 'dist', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'fcflash-newuser-'));
after(() => rmSync(dir, {recursive: true, force: true}));
const env = {...process.env, FCFLASH_SIM_TIME_SCALE: '0', NO_COLOR: '1', XDG_STATE_HOME: dir, FCFLASH_LOCK_DIR: dir};

function run(args: string[], extraEnv: Record<string, string> = {}) {
	const r = spawnSync(process.execPath, [cli, ...args], {cwd: dir, env: {...env, ...extraEnv}, encoding: 'utf8', timeout: 30_000});
	return {code: r.status, stdout: r.stdout, stderr: r.stderr};
}
const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, any>;

const f405Hex = join(dir, 'betaflight_4.5.1_STM32F405.hex');
writeFileSync(f405Hex, toIntelHex(betaflightLikeImage({target: 'STM32F405', bytes: 100 * 1024})));

describe('flags', () => {
	it('-h and -V work like --help and --version', () => {
		const h = run(['-h']);
		assert.equal(h.code, 0);
		assert.match(h.stdout, /Usage/);
		const v = run(['-V']);
		assert.equal(v.code, 0);
		assert.match(v.stdout, /^\d+\.\d+\.\d+\n$/);
	});

	it('an unknown flag is named on one line with a suggestion (exit 2), not "Unknown flag\\n--bogus"', () => {
		const r = run(['flash', f405Hex, '--ful-erase']);
		assert.equal(r.code, 2);
		assert.match(r.stderr, /^error: Unknown option --ful-erase\. Did you mean --full-erase\?/m);
		const bogus = run(['list', '--bogus']);
		assert.equal(bogus.code, 2);
		assert.match(bogus.stderr, /Unknown option --bogus\./);
	});

	it('--baud abc is refused (exit 2)', () => {
		const r = run(['flash', f405Hex, '--simulate=stm32f405', '--yes', '--baud', 'abc']);
		assert.equal(r.code, 2);
		assert.match(r.stderr, /--baud .* is not a baud rate/);
	});
});

describe('addresses: one grammar', () => {
	it('0x is hex, plain digits decimal, a leading 0 refused with a suggestion', () => {
		assert.equal(parseAddress('0x08004000'), 0x08004000);
		assert.equal(parseAddress('8004000'), 8004000);
		assert.throws(() => parseAddress('08004000'), /starts with 0.*Did you mean 0x08004000\?/);
		assert.throws(() => parseAddress('0x'), /not an address/);
		assert.throws(() => parseAddress('banana'), /not an address/);
		assert.throws(() => parseAddress('0x100000000'), /32-bit/);
	});

	it('the CLI uses it: --address 08004000 is exit 2 naming 0x08004000', () => {
		const bin = join(dir, 'fw.bin');
		writeFileSync(bin, new Uint8Array(4096).fill(0x11));
		const r = run(['flash', bin, '--address', '08004000', '--simulate=stm32f405', '--yes']);
		assert.equal(r.code, 2);
		assert.match(r.stderr, /Did you mean 0x08004000\?/);
	});
});

describe('the hint fits the mistake', () => {
	it('a missing file: "not found", not "the file is damaged"', () => {
		const r = run(['flash', join(dir, 'nope.hex'), '--simulate=stm32f405', '--yes', '--json']);
		assert.equal(r.code, 2);
		const e = lastJson(r.stdout).error;
		assert.equal(e.hintId, 'no-file');
		assert.doesNotMatch(e.hint, /damaged/);
	});

	it('--address on a .hex: the hint says only a .bin takes an address', () => {
		const r = run(['flash', f405Hex, '--address', '0x08000000', '--simulate=stm32f405', '--yes', '--json']);
		assert.equal(r.code, 2);
		assert.equal(lastJson(r.stdout).error.hintId, 'address-option');
	});

	it('errWRITE from the chip gets a next step', () => {
		const r = run(['flash', f405Hex, '--simulate=stm32f405', '--yes', '--json'], {FCFLASH_SIM_FAULTS: JSON.stringify({writeErrorAt: 0x08001000})});
		assert.equal(r.code, 1);
		const e = lastJson(r.stdout).error;
		assert.match(e.message, /errWRITE/);
		assert.equal(e.hintId, 'flash-failed');
		assert.match(e.hint, /flashing again is safe/);
	});

	it('--device nosuch lists what is connected, with a hint about ids, not "nothing that looks like a flight controller"', () => {
		const r = run(['flash', f405Hex, '--simulate', '--device', 'nosuch', '--yes', '--json']);
		assert.equal(r.code, 3);
		const e = lastJson(r.stdout).error;
		assert.equal(e.hintId, 'device-id');
		assert.doesNotMatch(e.hint, /Nothing that looks like a flight controller/);
		assert.match(e.message, /3276364A3030/);
	});

	it('dfu with only boards in DFU: says they are in DFU already (exit 3), not "nothing that looks like a flight controller"', () => {
		const r = run(['dfu', '--simulate=stm32f405', '--json']);
		assert.equal(r.code, 3);
		const e = lastJson(r.stdout).error;
		assert.equal(e.hintId, 'already-in-dfu');
		assert.match(e.message, /in DFU already/);
		assert.doesNotMatch(e.hint, /Nothing that looks like/);
	});
});

describe('files a pilot brings', () => {
	it('a .bin carrying a DFU suffix (dfu-suffix -a) is flashed without the 16 suffix bytes', () => {
		const body = new Uint8Array(8192).map((_, i) => (i * 7) & 0xff);
		const suffix = new Uint8Array(16);
		const v = new DataView(suffix.buffer);
		v.setUint16(0, 0xffff, true);
		v.setUint16(2, 0xdf11, true);
		v.setUint16(4, 0x0483, true);
		v.setUint16(6, 0x011a, true);
		suffix.set([0x55, 0x46, 0x44], 8);
		suffix[11] = 16;
		const file = new Uint8Array(body.length + 16);
		file.set(body);
		file.set(suffix, body.length);
		v.setUint32(12, dfuCrc(file.subarray(0, file.length - 4)), true);
		file.set(suffix.subarray(12), body.length + 12);
		const path = join(dir, 'suffixed.bin');
		writeFileSync(path, file);
		const r = run(['inspect', path, '--json']);
		assert.equal(r.code, 0, r.stderr);
		assert.equal(lastJson(r.stdout).bytes, 8192);
		// A damaged suffix is an error naming its offset, not silently flashed.
		file[body.length + 13]! ^= 0xff;
		writeFileSync(path, file);
		const bad = run(['inspect', path]);
		assert.equal(bad.code, 2);
		assert.match(bad.stderr, new RegExp(`at offset ${body.length + 12}: ends in a DFU suffix whose CRC`));
	});

	it('a .dfu whose suffix names another vendor (2E3C) is refused on an 0483 board unless --force; FFFF fits any', () => {
		const segs = betaflightLikeImage({target: 'STM32F405', bytes: 64 * 1024});
		const at32 = join(dir, 'at32.dfu');
		writeFileSync(at32, buildDfuFile(segs, {vid: 0x2e3c, pid: 0xdf11}));
		const refused = run(['flash', at32, '--simulate=stm32f405', '--yes', '--json']);
		assert.equal(refused.code, 2);
		assert.match(lastJson(refused.stdout).error.message, /DFU suffix is for USB device 2e3c:df11, but the board is 0483:df11/);
		assert.equal(run(['flash', at32, '--simulate=stm32f405', '--yes', '--force']).code, 0);
		const any = join(dir, 'any.dfu');
		writeFileSync(any, buildDfuFile(segs, {vid: 0xffff, pid: 0xffff}));
		assert.equal(run(['flash', any, '--simulate=stm32f405', '--yes']).code, 0);
	});

	it('overlapping .dfu elements are refused naming the byte offset of the second element', () => {
		const path = join(dir, 'overlap.dfu');
		writeFileSync(path, buildDfuFile([{address: 0x08000000, data: new Uint8Array(64).fill(1)}, {address: 0x08000020, data: new Uint8Array(64).fill(2)}]));
		const r = run(['inspect', path]);
		assert.equal(r.code, 2);
		// prefix 11 + target prefix 274 + first element (8 + 64) = 357
		assert.match(r.stderr, /at offset 357: target 0 element 1 \(64 bytes at 0x08000020\) overlaps element 0/);
	});

	it('a HEX message never prints a raw carriage return', () => {
		const path = join(dir, 'cr.hex');
		writeFileSync(path, ':020000040800F2\r:10000000000102030405060708090A0B0C0D0E0F78\r:00000001FF\r');
		const r = run(['inspect', path]);
		assert.equal(r.code, 2);
		assert.doesNotMatch(r.stderr, /\r/);
		assert.match(r.stderr, /a carriage return \(CR/);
	});
});

describe('backup', () => {
	it('never writes over an existing file (exit 2), and leaves it as it was', () => {
		const out = join(dir, 'keep.bin');
		writeFileSync(out, 'precious');
		const r = run(['backup', out, '--simulate=stm32f405', '--json']);
		assert.equal(r.code, 2);
		assert.equal(lastJson(r.stdout).error.hintId, 'backup-exists');
		assert.equal(readFileSync(out, 'utf8'), 'precious');
		const fresh = join(dir, 'fresh.bin');
		assert.equal(run(['backup', fresh, '--simulate=stm32f405']).code, 0);
		assert.ok(existsSync(fresh));
	});
});

