// MSP v1 framing, the streaming parser and the decoders, without any serial port.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {
	apiAtLeast,
	decodeApiVersion,
	decodeBoardInfo,
	decodeFcVariant,
	decodeFcVersion,
	decodeBuildInfo,
	decodeUid,
	encodeFrame,
	encodeRequest,
	identify,
	MspCommand,
	MspErrorReply,
	MspParser,
	mspChecksum,
	mspRequest,
	MspTimeoutError,
	rebootToRomRequest,
	type MspTransport,
} from '../source/devices/msp.js';

test('a request is $M< len cmd payload and the xor of len, cmd and payload', () => {
	assert.deepEqual([...encodeRequest(MspCommand.apiVersion)], [0x24, 0x4d, 0x3c, 0, 1, 1]);
	assert.deepEqual([...encodeRequest(MspCommand.fcVariant)], [0x24, 0x4d, 0x3c, 0, 2, 2]);
	// MSP_SET_REBOOT(1): len 1, cmd 68 (0x44), payload 1, checksum 1 ^ 0x44 ^ 1 = 0x44
	assert.deepEqual([...rebootToRomRequest()], [0x24, 0x4d, 0x3c, 1, 0x44, 1, 0x44]);
	assert.equal(mspChecksum([3, 1, 0, 1, 46]), 3 ^ 1 ^ 0 ^ 1 ^ 46);
	const reply = encodeFrame('>', 1, [0, 1, 46]);
	assert.equal(reply.toString('latin1', 0, 3), '$M>');
	assert.equal(reply.at(-1), mspChecksum([3, 1, 0, 1, 46]));
	assert.throws(() => encodeRequest(256), RangeError);
	assert.throws(() => encodeRequest(1, new Uint8Array(255)), RangeError);
});

test('the parser returns frames split across chunks, one byte at a time', () => {
	const frame = encodeFrame('>', 2, Buffer.from('BTFL'));
	const parser = new MspParser();
	const out = [];
	for (const byte of frame) out.push(...parser.push(Buffer.from([byte])));
	assert.equal(out.length, 1);
	assert.deepEqual(out[0], {direction: '>', cmd: 2, payload: Buffer.from('BTFL')});
});

test('the parser skips garbage, CLI text and bad checksums, and resyncs', () => {
	const good1 = encodeFrame('>', 1, [0, 1, 46]);
	const bad = Buffer.from(encodeFrame('>', 3, [4, 5, 1]));
	bad[bad.length - 1]! ^= 0xff; // corrupt checksum
	const good2 = encodeFrame('!', 99);
	const good3 = encodeFrame('>', 4, Buffer.from('S405'));
	const stream = Buffer.concat([
		Buffer.from('\r\n# garbage $$$M$M?'),
		good1,
		Buffer.from([0x00, 0xff, 0x24]),
		bad,
		good2,
		Buffer.from('$M>'), // a header cut short by...
		Buffer.from([0xff]), // ...an impossible (jumbo) length
		good3,
	]);
	const parser = new MspParser();
	// Feed in odd-sized chunks.
	const frames = [];
	for (let i = 0; i < stream.length; i += 7) frames.push(...parser.push(stream.subarray(i, i + 7)));
	assert.deepEqual(
		frames.map((f) => [f.direction, f.cmd, f.payload.toString('latin1')]),
		[
			['>', 1, '\x00\x01\x2e'],
			['!', 99, ''],
			['>', 4, 'S405'],
		],
	);
	assert.equal(parser.checksumErrors, 1);
});

test('a frame whose header is inside the payload of a corrupt frame is still found', () => {
	const inner = encodeFrame('>', 3, [4, 5, 1]);
	// A fake header claiming 20 bytes swallows the real frame; its checksum fails, so the parser
	// restarts one byte after the fake '$' and finds the real one.
	const fake = Buffer.concat([Buffer.from([0x24, 0x4d, 0x3e, 20, 7]), inner, Buffer.alloc(20 - inner.length + 1, 0x55)]);
	const frames = new MspParser().push(fake);
	assert.deepEqual(
		frames.map((f) => [f.cmd, [...f.payload]]),
		[[3, [4, 5, 1]]],
	);
});

test('the parser does not hoard a stream of dollars', () => {
	const parser = new MspParser();
	for (let i = 0; i < 100; i++) parser.push(Buffer.alloc(100, 0x24));
	assert.deepEqual(parser.push(encodeFrame('>', 1, [0, 1, 46])).map((f) => f.cmd), [1]);
});

test('decoders: API version, variant, version', () => {
	assert.deepEqual(decodeApiVersion(Buffer.from([0, 1, 46])), {protocol: 0, major: 1, minor: 46, text: '1.46'});
	assert.equal(decodeFcVariant(Buffer.from('BTFL')), 'BTFL');
	assert.equal(decodeFcVariant(Buffer.from('INAV\0')), 'INAV');
	assert.equal(decodeFcVersion(Buffer.from([4, 5, 1])), '4.5.1');
	// Betaflight calendar versions: year-2000, month, patch, then the text as a length-prefixed string.
	assert.equal(decodeFcVersion(Buffer.from([25, 12, 0, 9, ...Buffer.from('2025.12.0')])), '2025.12.0');
	assert.throws(() => decodeApiVersion(Buffer.from([0, 1])), RangeError);
	assert.throws(() => decodeFcVersion(Buffer.from([4])), RangeError);
});

test('decoders: board info, modern and old layouts', () => {
	const pstr = (s: string) => [s.length, ...Buffer.from(s)];
	const modern = Buffer.from([
		...Buffer.from('SPBE'),
		3,
		0, // hardware revision 3 (LE)
		2, // FC with MAX7456
		0x05, // capabilities
		...pstr('STM32F405'),
		...pstr('SPEEDYBEEF405V3'),
		...pstr('SPBE'),
		...new Array(32).fill(0xaa),
		3, // MCU type
		1, // configuration state
		0x40,
		0x1f, // gyro rate (ignored)
	]);
	const info = decodeBoardInfo(modern);
	assert.equal(info.boardIdentifier, 'SPBE');
	assert.equal(info.hardwareRevision, 3);
	assert.equal(info.boardType, 2);
	assert.equal(info.targetCapabilities, 5);
	assert.equal(info.targetName, 'STM32F405');
	assert.equal(info.boardName, 'SPEEDYBEEF405V3');
	assert.equal(info.manufacturerId, 'SPBE');
	assert.equal(info.signature?.length, 32);
	assert.equal(info.mcuTypeId, 3);
	assert.equal(info.configurationState, 1);

	// Betaflight 3.x: identifier, revision, type only.
	const old = decodeBoardInfo(Buffer.from([...Buffer.from('AFNA'), 0, 0, 0]));
	assert.deepEqual(old, {boardIdentifier: 'AFNA', hardwareRevision: 0, boardType: 0});
	// Empty strings are absent, a truncated string is not invented.
	const empty = decodeBoardInfo(Buffer.from([...Buffer.from('S7X2'), 0, 0, 0, 1, 9, ...Buffer.from('STM32F7X2'), 0, 0]));
	assert.equal(empty.targetName, 'STM32F7X2');
	assert.equal(empty.boardName, undefined);
	const cut = decodeBoardInfo(Buffer.from([...Buffer.from('S7X2'), 0, 0, 0, 1, 9, ...Buffer.from('STM32')]));
	assert.equal(cut.targetName, undefined);
	assert.throws(() => decodeBoardInfo(Buffer.from('S7')), RangeError);
});

test('MSP_BUILD_INFO: date, time and 7 characters of the git revision; a short reply is refused', () => {
	assert.deepEqual(decodeBuildInfo(Buffer.from('Dec  1 202608:26:41c155f58', 'latin1')), {date: 'Dec  1 2026', time: '08:26:41', revision: 'c155f58'});
	assert.deepEqual(decodeBuildInfo(Buffer.from('Dec  1 202608:26:41c155f58\x07\x00', 'latin1')).revision, 'c155f58', 'newer firmware appends more');
	assert.throws(() => decodeBuildInfo(Buffer.from('Dec  1 2026', 'latin1')), /too short/);
});

test('MSP_UID: three little-endian u32 printed %08x each, as the CLI prints mcu_id', () => {
	// Betaflight 4.5.6 SITL: the CLI says `mcu_id 000000000000000100000002`, MSP_UID sends 0, 1, 2.
	assert.equal(decodeUid(Buffer.from('000000000100000002000000', 'hex')), '000000000000000100000002');
	// A real STM32F405: U_ID_0 = 0x002d004a, U_ID_1 = 0x17513933, U_ID_2 = 0x38353838.
	const real = Buffer.alloc(12);
	real.writeUInt32LE(0x002d004a, 0);
	real.writeUInt32LE(0x17513933, 4);
	real.writeUInt32LE(0x38353838, 8);
	assert.equal(decodeUid(real), '002d004a1751393338353838');
	// Leading zeros of each word are kept, so the text is always 24 digits.
	assert.equal(decodeUid(Buffer.from([0xff, 0, 0, 0, 1, 0, 0, 0x80, 0, 0, 0, 0])), '000000ff8000000100000000');
	assert.throws(() => decodeUid(Buffer.alloc(11)), RangeError);
});

test('apiAtLeast compares major.minor numerically', () => {
	assert.equal(apiAtLeast('1.42', 1, 42), true);
	assert.equal(apiAtLeast('1.46', 1, 42), true);
	assert.equal(apiAtLeast('1.41', 1, 42), false);
	assert.equal(apiAtLeast('1.9', 1, 42), false);
	assert.equal(apiAtLeast('2.5', 1, 42), true);
	assert.equal(apiAtLeast(undefined, 1, 42), false);
	assert.equal(apiAtLeast('garbage', 1, 42), false);
});

/** An in-memory FC: answers requests through `answer`, delivering replies in 3-byte pieces. */
function memoryTransport(answer: (cmd: number, payload: Buffer) => Buffer | undefined): MspTransport & {sent: Buffer[]} {
	const listeners = new Set<(chunk: Buffer) => void>();
	const parser = new MspParser();
	const sent: Buffer[] = [];
	return {
		sent,
		async write(data) {
			sent.push(Buffer.from(data));
			for (const f of parser.push(data)) {
				const reply = answer(f.cmd, f.payload);
				if (!reply) continue;
				setImmediate(() => {
					const noisy = Buffer.concat([Buffer.from('noise'), reply]);
					for (let i = 0; i < noisy.length; i += 3) for (const l of listeners) l(noisy.subarray(i, i + 3));
				});
			}
		},
		onData(listener) {
			listeners.add(listener);
			return () => listeners.delete(listener);
		},
	};
}

test('mspRequest resolves the matching reply, rejects $M! and times out', async () => {
	const port = memoryTransport((cmd) => (cmd === 1 ? encodeFrame('>', 1, [0, 1, 46]) : cmd === 2 ? encodeFrame('!', 2) : undefined));
	assert.deepEqual([...(await mspRequest(port, 1))], [0, 1, 46]);
	await assert.rejects(mspRequest(port, 2), MspErrorReply);
	const started = performance.now();
	await assert.rejects(mspRequest(port, 3, [], {timeoutMs: 60}), MspTimeoutError);
	assert.ok(performance.now() - started < 500);
});

test('identify collects variant, version, API and board info', async () => {
	const port = memoryTransport((cmd) => {
		if (cmd === 1) return encodeFrame('>', 1, [0, 1, 46]);
		if (cmd === 2) return encodeFrame('>', 2, Buffer.from('BTFL'));
		if (cmd === 3) return encodeFrame('>', 3, [4, 5, 1]);
		if (cmd === 4) return encodeFrame('>', 4, [...Buffer.from('S405'), 0, 0, 0, 1, 9, ...Buffer.from('STM32F405'), 0, 0]);
		if (cmd === 5) return encodeFrame('>', 5, Buffer.from('Nov 24 202612:00:00c155f58', 'latin1'));
		if (cmd === 160) return encodeFrame('>', 160, Buffer.from('4a002d003339511738383538', 'hex'));
		return undefined;
	});
	const info = await identify(port, {timeoutMs: 200});
	assert.deepEqual(info, {apiVersion: '1.46', variant: 'BTFL', version: '4.5.1', board: 'S405', target: 'STM32F405', hardwareRevision: 0, revision: 'c155f58', mcuId: '002d004a1751393338353838'});
	assert.deepEqual(
		port.sent.map((b) => b[4]),
		[1, 2, 3, 4, 5, 160],
	);
});

test('identify gives undefined for a port that does not speak MSP, and partial info when replies are missing', async () => {
	assert.equal(await identify(memoryTransport(() => undefined), {timeoutMs: 40}), undefined);
	const partial = memoryTransport((cmd) => (cmd === 1 ? encodeFrame('>', 1, [0, 2, 5]) : cmd === 2 ? encodeFrame('>', 2, Buffer.from('INAV')) : encodeFrame('!', cmd)));
	assert.deepEqual(await identify(partial, {timeoutMs: 40}), {apiVersion: '2.5', variant: 'INAV'});
});
