// Request-level tests of the emulated STM32 ROM DFU bootloader: what a host (the engine, or
// dfu-util through umockdev) sees on the wire, not how the emulator stores things.
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {setTimeout as sleep} from 'node:timers/promises';
import {layoutSize, parseLayout} from '../source/dfu/layout.js';
import {
	createEmulatedDevice,
	descriptorBlob,
	DfuState,
	DfuStatus,
	EmulatedBootloader,
	EmulatedUsbDevice,
	profiles,
	profileNames,
	stringText,
	type EmulatorOptions,
	type ProfileName,
} from '../source/emulator/index.js';

const FLASH = 0x08000000;

// --- a minimal DfuSe host over the WebUSB-shaped device ----------------------------------------

const out = (request: number, value = 0): USBControlTransferParameters => ({requestType: 'class', recipient: 'interface', request, value, index: 0});

interface Status {
	status: number;
	poll: number;
	state: number;
}

class Host {
	constructor(readonly dev: EmulatedUsbDevice) {}

	static async open(name: ProfileName, options: EmulatorOptions = {}, alt = 0): Promise<Host> {
		const dev = createEmulatedDevice(name, {timeScale: 0, ...options});
		await dev.open();
		await dev.selectConfiguration(1);
		await dev.claimInterface(0);
		await dev.selectAlternateInterface(0, alt);
		return new Host(dev);
	}

	get bl(): EmulatedBootloader {
		return this.dev.bootloader;
	}

	async dnload(block: number, data: Uint8Array): Promise<USBOutTransferResult> {
		return this.dev.controlTransferOut(out(1, block), data);
	}

	async getStatus(): Promise<Status> {
		const r = await this.dev.controlTransferIn(out(3), 6);
		assert.equal(r.status, 'ok');
		const d = r.data!;
		return {status: d.getUint8(0), poll: d.getUint8(1) | (d.getUint8(2) << 8) | (d.getUint8(3) << 16), state: d.getUint8(4)};
	}

	async getState(): Promise<number> {
		const r = await this.dev.controlTransferIn(out(5), 1);
		return r.data!.getUint8(0);
	}

	async clrStatus(): Promise<USBOutTransferResult> {
		return this.dev.controlTransferOut(out(4));
	}

	async abort(): Promise<USBOutTransferResult> {
		return this.dev.controlTransferOut(out(6));
	}

	async upload(block: number, length: number): Promise<USBInTransferResult> {
		return this.dev.controlTransferIn(out(2, block), length);
	}

	/** Send a DfuSe command and poll until it leaves dfuDNBUSY; returns the final status. */
	async command(bytes: number[]): Promise<Status> {
		const r = await this.dnload(0, Uint8Array.from(bytes));
		assert.equal(r.status, 'ok');
		return this.settle();
	}

	async settle(): Promise<Status> {
		let st = await this.getStatus();
		assert.equal(st.state, DfuState.dfuDNBUSY, 'first GETSTATUS after DNLOAD reports dfuDNBUSY');
		while (st.state === DfuState.dfuDNBUSY) {
			if (st.poll > 0) await sleep(st.poll);
			st = await this.getStatus();
		}
		return st;
	}

	setAddress(address: number): Promise<Status> {
		return this.command([0x21, ...le32(address)]);
	}

	erase(address: number): Promise<Status> {
		return this.command([0x41, ...le32(address)]);
	}

	async write(block: number, data: Uint8Array): Promise<Status> {
		const r = await this.dnload(block, data);
		assert.equal(r.status, 'ok');
		return this.settle();
	}

	async read(address: number, length: number): Promise<Uint8Array> {
		await this.setAddress(address);
		await this.abort();
		const size = this.dev.bootloader.profile.wTransferSize;
		const chunks: Uint8Array[] = [];
		let got = 0;
		for (let block = 2; got < length; block++) {
			const r = await this.upload(block, Math.min(size, length - got));
			assert.equal(r.status, 'ok');
			const bytes = new Uint8Array(r.data!.buffer);
			chunks.push(bytes);
			got += bytes.length;
		}
		await this.abort();
		return new Uint8Array(Buffer.concat(chunks));
	}
}

function le32(n: number): number[] {
	return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

function pattern(length: number, seed = 1): Uint8Array {
	return Uint8Array.from({length}, (_, i) => (i * 7 + seed) & 0xff);
}

const expectNoDevice = (error: unknown): boolean => {
	const e = error as {message: string; errno: number; code: string};
	assert.equal(e.message, 'LIBUSB_ERROR_NO_DEVICE');
	assert.equal(e.errno, -4);
	assert.equal(e.code, 'LIBUSB_ERROR_NO_DEVICE');
	return true;
};

// --- descriptors -------------------------------------------------------------------------------

describe('descriptors', () => {
	const std = (value: number, index = 0): USBControlTransferParameters => ({requestType: 'standard', recipient: 'device', request: 6, value, index});

	it('device descriptor carries the profile IDs and honours wLength', async () => {
		const {dev} = await Host.open('stm32f405');
		const r = await dev.controlTransferIn(std(0x0100), 255);
		const d = new Uint8Array(r.data!.buffer);
		assert.equal(d.length, 18);
		const b = Buffer.from(d);
		assert.deepEqual([b[0], b[1], b.readUInt16LE(2)], [18, 1, 0x0200]);
		assert.equal(b.readUInt16LE(8), 0x0483);
		assert.equal(b.readUInt16LE(10), 0xdf11);
		assert.equal(b.readUInt16LE(12), 0x2200);
		assert.deepEqual([b[7], b[14], b[15], b[16], b[17]], [64, 1, 2, 3, 1]);
		const short = await dev.controlTransferIn(std(0x0100), 8);
		assert.equal(short.data!.byteLength, 8);
	});

	for (const name of profileNames) {
		it(`${name}: configuration descriptor has every alt and the DFU functional descriptor`, async () => {
			const {dev} = await Host.open(name);
			const profile = profiles[name];
			const head = Buffer.from((await dev.controlTransferIn(std(0x0200), 9)).data!.buffer);
			const total = head.readUInt16LE(2);
			const b = Buffer.from((await dev.controlTransferIn(std(0x0200), total)).data!.buffer);
			assert.equal(b.length, total);
			const alts: number[] = [];
			let functional: Buffer | undefined;
			for (let at = b[0]!; at < b.length; at += b[at]!) {
				if (b[at + 1] === 4) {
					assert.deepEqual([b[at + 2], b[at + 4], b[at + 5], b[at + 6], b[at + 7]], [0, 0, 0xfe, 1, 2]);
					alts.push(b[at + 3]!);
					// iInterface names the layout.
					const si = b[at + 8]!;
					const s = Buffer.from((await dev.controlTransferIn(std(0x0300 | si, 0x0409), 255)).data!.buffer);
					assert.equal(s[1], 3);
					assert.equal(s.subarray(2, s[0]).toString('utf16le'), profile.layouts[b[at + 3]!]);
				}
				if (b[at + 1] === 0x21) functional = b.subarray(at, at + 9);
			}
			assert.deepEqual(alts, profile.layouts.map((_, i) => i));
			assert.ok(functional);
			assert.equal(functional[0], 9);
			assert.equal(functional[2], 0x0b);
			assert.equal(functional.readUInt16LE(3), 255);
			assert.equal(functional.readUInt16LE(5), profile.wTransferSize);
			assert.equal(functional.readUInt16LE(7), 0x011a);
			// sysfs blob = device descriptor + configuration descriptor.
			const blob = descriptorBlob(profile);
			assert.equal(blob.length, 18 + total);
			assert.deepEqual(Buffer.from(blob.subarray(18)), b);
		});
	}

	it('strings: language, manufacturer, product, serial; unknown descriptors stall', async () => {
		const {dev} = await Host.open('stm32f405');
		const str = async (i: number) => Buffer.from((await dev.controlTransferIn(std(0x0300 | i, 0x0409), 255)).data!.buffer);
		assert.deepEqual([...(await str(0))], [4, 3, 0x09, 0x04]);
		assert.equal((await str(1)).subarray(2).toString('utf16le'), 'STMicroelectronics');
		assert.equal((await str(2)).subarray(2).toString('utf16le'), 'STM32  BOOTLOADER');
		assert.equal((await str(3)).subarray(2).toString('utf16le'), '3276364A3030');
		assert.equal((await dev.controlTransferIn(std(0x0300 | 9, 0x0409), 255)).status, 'stall');
		assert.equal((await dev.controlTransferIn(std(0x0600), 10)).status, 'stall', 'device qualifier');
		// A standard stall leaves the DFU state alone.
		assert.equal(await new Host(dev).getState(), DfuState.dfuIDLE);
	});

	it('layouts parse to the right flash sizes', () => {
		const sizes: Record<ProfileName, number> = {stm32f405: 1024, stm32f411: 512, stm32f722: 512, stm32h743: 2048, at32f435: 1024};
		for (const name of profileNames) {
			assert.equal(layoutSize(parseLayout(profiles[name].layouts[0]!)), sizes[name] * 1024, name);
			for (const layout of profiles[name].layouts) parseLayout(layout);
			assert.equal(new EmulatedBootloader(profiles[name]).flash.length, sizes[name] * 1024);
		}
	});

	it('WebUSB properties match node-usb', async () => {
		const {dev} = await Host.open('stm32f405', {}, 1);
		assert.deepEqual([dev.vendorId, dev.productId], [0x0483, 0xdf11]);
		// node-usb reads the BCD digits as decimal: 0x2200 -> 22.0.0.
		assert.deepEqual([dev.deviceVersionMajor, dev.deviceVersionMinor, dev.deviceVersionSubminor], [22, 0, 0]);
		assert.equal(dev.manufacturerName, 'STMicroelectronics');
		const iface = dev.configuration.interfaces[0]!;
		assert.equal(iface.claimed, true);
		assert.equal(iface.alternate.alternateSetting, 1);
		assert.equal(iface.alternates[0]!.interfaceName, '@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg');
		assert.equal(iface.alternates[0]!.interfaceClass, 0xfe);
		const at = createEmulatedDevice('at32f435');
		assert.deepEqual([at.vendorId, at.productId, at.manufacturerName], [0x2e3c, 0xdf11, 'ArteryTek']);
		await assert.rejects(dev.selectAlternateInterface(0, 7), /LIBUSB_ERROR_PIPE/);
	});
});

// --- state machine -----------------------------------------------------------------------------

describe('DFU state machine', () => {
	it('a request in the wrong state stalls and enters dfuERROR/errSTALLEDPKT; CLRSTATUS recovers', async () => {
		const h = await Host.open('stm32f405');
		assert.equal(await h.getState(), DfuState.dfuIDLE);
		assert.equal((await h.dnload(1, Uint8Array.of(1, 2, 3))).status, 'stall', 'block 1 is not valid in DfuSe');
		assert.deepEqual(await h.getStatus(), {status: DfuStatus.errSTALLEDPKT, poll: 0, state: DfuState.dfuERROR});
		assert.equal((await h.abort()).status, 'stall', 'ABORT is not valid in dfuERROR');
		assert.equal((await h.clrStatus()).status, 'ok');
		assert.deepEqual(await h.getStatus(), {status: DfuStatus.OK, poll: 0, state: DfuState.dfuIDLE});
		assert.equal((await h.dnload(0, Uint8Array.of(0x55))).status, 'stall', 'unknown DfuSe command');
		assert.equal(await h.getState(), DfuState.dfuERROR);
		await h.clrStatus();
		assert.equal((await h.dev.controlTransferOut(out(0))).status, 'stall', 'DETACH is not implemented by the ROM');
		await h.clrStatus();
		assert.equal((await h.dnload(2, new Uint8Array(2049))).status, 'stall', 'block larger than wTransferSize');
		await h.clrStatus();
		// A stray CLRSTATUS is not stalled (ST DFU code) but still leaves dfuERROR behind.
		assert.equal((await h.clrStatus()).status, 'ok');
		assert.deepEqual(await h.getStatus(), {status: DfuStatus.errUNKNOWN, poll: 0, state: DfuState.dfuERROR});
	});

	it('ABORT returns to dfuIDLE from dfuUPLOAD-IDLE and dfuDNLOAD-IDLE; DNLOAD in UPLOAD-IDLE stalls', async () => {
		const h = await Host.open('stm32f405');
		const r = await h.upload(2, 2048);
		assert.equal(r.data!.byteLength, 2048);
		assert.equal(await h.getState(), DfuState.dfuUPLOAD_IDLE);
		assert.equal((await h.dnload(2, new Uint8Array(4))).status, 'stall');
		await h.clrStatus();
		await h.upload(2, 16);
		assert.equal((await h.abort()).status, 'ok');
		assert.equal(await h.getState(), DfuState.dfuIDLE);
		assert.equal((await h.setAddress(FLASH)).state, DfuState.dfuDNLOAD_IDLE);
		assert.equal((await h.upload(2, 16)).status, 'stall', 'UPLOAD needs dfuIDLE first');
		await h.clrStatus();
		await h.setAddress(FLASH);
		await h.abort();
		assert.equal(await h.getState(), DfuState.dfuIDLE);
	});

	it('UPLOAD block 0 lists the DfuSe commands', async () => {
		const h = await Host.open('stm32f405');
		const r = await h.upload(0, 2048);
		assert.deepEqual([...new Uint8Array(r.data!.buffer)], [0x00, 0x21, 0x41, 0x92]);
		assert.equal(await h.getState(), DfuState.dfuIDLE, 'short frame ends the upload');
	});

	it('SET_ADDRESS outside the layout fails with errTARGET at the next GETSTATUS', async () => {
		const h = await Host.open('stm32f405');
		assert.equal((await h.dnload(0, Uint8Array.of(0x21, ...le32(0x20000000)))).status, 'ok');
		const first = await h.getStatus();
		assert.equal(first.state, DfuState.dfuDNBUSY);
		const st = await h.settle().catch(() => h.getStatus());
		assert.deepEqual([st.status, st.state], [DfuStatus.errTARGET, DfuState.dfuERROR]);
	});
});

// --- memory ------------------------------------------------------------------------------------

describe('flash programming', () => {
	it('set address, erase, write, read back', async () => {
		const h = await Host.open('stm32f405', {flash: new Uint8Array(1024 * 1024).fill(0x00)});
		assert.deepEqual(await h.setAddress(FLASH), {status: 0, poll: 0, state: DfuState.dfuDNLOAD_IDLE});
		assert.equal((await h.erase(FLASH)).state, DfuState.dfuDNLOAD_IDLE);
		assert.equal((await h.erase(FLASH + 0x4000)).state, DfuState.dfuDNLOAD_IDLE);
		const image = pattern(5000);
		await h.setAddress(FLASH);
		for (let block = 2, at = 0; at < image.length; block++, at += 2048) {
			assert.equal((await h.write(block, image.subarray(at, at + 2048))).state, DfuState.dfuDNLOAD_IDLE);
		}
		assert.deepEqual(await h.read(FLASH, image.length), image);
		assert.deepEqual(h.bl.flash.subarray(0, image.length), image);
		// Erased (0xFF) up to the end of sector 1, untouched (0x00) from sector 2 on.
		assert.equal(h.bl.flash[0x7fff], 0xff);
		assert.equal(h.bl.flash[0x8000], 0x00);
	});

	it('F4 programming ANDs: a missed erase shows up as wrong data', async () => {
		const h = await Host.open('stm32f405');
		await h.setAddress(FLASH);
		assert.equal((await h.write(2, Uint8Array.of(0xf0, 0xff, 0x0f, 0xaa))).status, DfuStatus.OK);
		await h.setAddress(FLASH);
		assert.equal((await h.write(2, Uint8Array.of(0x3c, 0x00, 0xff, 0x55))).status, DfuStatus.OK);
		assert.deepEqual([...(await h.read(FLASH, 4))], [0x30, 0x00, 0x0f, 0x00]);
	});

	it('H7 programs 32-byte words: partial words are padded, re-programming fails errPROG', async () => {
		const h = await Host.open('stm32h743');
		await h.setAddress(FLASH);
		assert.equal((await h.write(2, Uint8Array.of(1, 2, 3))).status, DfuStatus.OK);
		assert.deepEqual([...(await h.read(FLASH, 4))], [1, 2, 3, 0xff]);
		await h.setAddress(FLASH + 16);
		const st = await h.write(2, Uint8Array.of(0x00));
		assert.deepEqual([st.status, st.state], [DfuStatus.errPROG, DfuState.dfuERROR]);
		await h.clrStatus();
		// The next word is still erased and programs fine; wTransferSize is 1024.
		await h.setAddress(FLASH + 32);
		assert.equal((await h.write(2, pattern(1024))).status, DfuStatus.OK);
		assert.equal((await h.write(3, pattern(1024, 9))).status, DfuStatus.OK);
		assert.deepEqual(h.bl.flash.subarray(32 + 1024, 32 + 2048), pattern(1024, 9));
		await h.erase(FLASH);
		await h.setAddress(FLASH);
		assert.equal((await h.write(2, Uint8Array.of(9))).status, DfuStatus.OK);
	});

	it('writes outside writable memory fail with errADDRESS; upload past the end is short, then stalls', async () => {
		const h = await Host.open('stm32f411');
		const end = FLASH + 512 * 1024;
		await h.setAddress(end - 4);
		const st = await h.write(2, new Uint8Array(8));
		assert.deepEqual([st.status, st.state], [DfuStatus.errADDRESS, DfuState.dfuERROR]);
		await h.clrStatus();
		await h.setAddress(end - 4);
		await h.abort();
		const r = await h.upload(2, 2048);
		assert.equal(r.data!.byteLength, 4, 'short read at the end of flash');
		assert.equal(await h.getState(), DfuState.dfuIDLE);
		assert.equal((await h.upload(3, 2048)).status, 'stall');
		assert.deepEqual(await h.getStatus(), {status: DfuStatus.errADDRESS, poll: 0, state: DfuState.dfuERROR});
	});

	it('GETSTATUS reports the time left of a sector erase', async () => {
		const h = await Host.open('stm32f405', {timeScale: 0.1});
		await h.setAddress(FLASH);
		await h.dnload(0, Uint8Array.of(0x41, ...le32(FLASH + 0x20000)));
		const first = await h.getStatus();
		assert.deepEqual([first.state, first.poll], [DfuState.dfuDNBUSY, 120], '128 KiB: 1.2 s * 0.1');
		const second = await h.getStatus();
		assert.equal(second.state, DfuState.dfuDNBUSY);
		assert.ok(second.poll <= 120 && second.poll > 50, `time left ${second.poll}`);
		await sleep(second.poll + 5);
		assert.equal((await h.getStatus()).state, DfuState.dfuDNLOAD_IDLE);
	});

	it('mass erase reports 100 ms polls but stays busy for the whole (scaled) 8 s', async () => {
		const h = await Host.open('stm32f405', {timeScale: 0.01, flash: new Uint8Array(1024 * 1024)});
		assert.equal((await h.dnload(0, Uint8Array.of(0x41))).status, 'ok');
		const started = performance.now();
		let polls = 0;
		let st = await h.getStatus();
		while (st.state === DfuState.dfuDNBUSY) {
			assert.equal(st.poll, 1, '100 ms * 0.01');
			polls++;
			await sleep(st.poll);
			st = await h.getStatus();
		}
		const elapsed = performance.now() - started;
		assert.ok(polls >= 2, `${polls} busy polls`);
		assert.ok(elapsed >= 79, `took ${elapsed} ms`);
		assert.deepEqual([st.status, st.state], [DfuStatus.OK, DfuState.dfuDNLOAD_IDLE]);
		assert.ok(h.bl.flash.every((b) => b === 0xff));
	});

	it('alternate settings: option bytes show RDP level 0, device feature is tiny', async () => {
		const h = await Host.open('stm32f405', {}, 1);
		const ob = await h.read(0x1fffc000, 16);
		assert.equal(ob[1], 0xaa);
		const h3 = await Host.open('stm32f405', {}, 3);
		await h3.setAddress(0xffff0000);
		await h3.abort();
		assert.equal((await h3.upload(2, 2048)).data!.byteLength, 4);
	});
});

// --- faults ------------------------------------------------------------------------------------

describe('fault injection', () => {
	it('stallOnRequest stalls the Nth request after open', async () => {
		const h = await Host.open('stm32f405', {faults: {stallOnRequest: 4}});
		// open counts from 1: SET_CONFIGURATION, SET_INTERFACE, then GETSTATE, then this GETSTATUS.
		assert.equal(await h.getState(), DfuState.dfuIDLE);
		assert.equal((await h.dev.controlTransferIn(out(3), 6)).status, 'stall');
		assert.equal(await h.getState(), DfuState.dfuERROR);
		await h.clrStatus();
		assert.equal((await h.getStatus()).state, DfuState.dfuIDLE, 'one-shot');
	});

	it('disconnectAfterBytes pulls the cable mid-download', async () => {
		const h = await Host.open('stm32f405', {faults: {disconnectAfterBytes: 4096}});
		let gone = 0;
		h.bl.on('disconnect', () => gone++);
		await h.setAddress(FLASH);
		await h.write(2, pattern(2048));
		await h.write(3, pattern(2048));
		await assert.rejects(h.write(4, pattern(2048)), expectNoDevice);
		assert.equal(gone, 1);
		assert.equal(h.bl.connected, false);
		await assert.rejects(h.getStatus(), expectNoDevice);
		assert.equal(h.dev.opened, false);
		h.bl.reset();
		const again = new Host(h.dev);
		await h.dev.open();
		await h.dev.claimInterface(0);
		assert.deepEqual(await again.read(FLASH, 4096), new Uint8Array(Buffer.concat([pattern(2048), pattern(2048)])));
	});

	it('corruptUploadAt flips a bit in the uploaded data only', async () => {
		const h = await Host.open('stm32f405', {faults: {corruptUploadAt: FLASH + 3000}});
		const data = await h.read(FLASH, 4096);
		assert.equal(data[3000], 0xfe);
		assert.equal(data.filter((b) => b !== 0xff).length, 1);
		assert.equal(h.bl.flash[3000], 0xff);
	});

	it('writeErrorAt fails the covering write with errWRITE', async () => {
		const h = await Host.open('stm32f405', {faults: {writeErrorAt: FLASH + 2048 + 10}});
		await h.setAddress(FLASH);
		assert.equal((await h.write(2, pattern(2048))).status, DfuStatus.OK);
		const st = await h.write(3, pattern(2048));
		assert.deepEqual([st.status, st.state], [DfuStatus.errWRITE, DfuState.dfuERROR]);
	});

	it('eraseErrorAt fails that sector with errERASE; others erase', async () => {
		const h = await Host.open('stm32f405', {faults: {eraseErrorAt: FLASH + 0x4100}, flash: new Uint8Array(1024 * 1024)});
		assert.equal((await h.erase(FLASH)).status, DfuStatus.OK);
		const st = await h.erase(FLASH + 0x4000);
		assert.deepEqual([st.status, st.state], [DfuStatus.errERASE, DfuState.dfuERROR]);
		assert.equal(h.bl.flash[0x4000], 0x00);
		assert.equal(h.bl.flash[0x3fff], 0xff);
	});

	it('massEraseFails fails the mass erase with errERASE, sector erase still works', async () => {
		const h = await Host.open('stm32f405', {faults: {massEraseFails: true}});
		const st = await h.command([0x41]);
		assert.deepEqual([st.status, st.state], [DfuStatus.errERASE, DfuState.dfuERROR]);
		await h.clrStatus();
		assert.equal((await h.erase(FLASH)).status, DfuStatus.OK);
	});

	it('stuckBusy done: the write lands when its busy time ends, the device stays in dfuDNBUSY until CLRSTATUS', async () => {
		const h = await Host.open('stm32h743', {timeScale: 1, faults: {stuckBusy: {at: FLASH + 0x100000, op: 'write', outcome: 'done'}}});
		await h.setAddress(FLASH);
		assert.equal((await h.write(2, pattern(1024))).status, DfuStatus.OK, 'bank 1 is fine');
		await h.setAddress(FLASH + 0x100000);
		await h.dnload(2, pattern(1024));
		let st = await h.getStatus();
		assert.deepEqual([st.state, st.poll], [DfuState.dfuDNBUSY, 5], '256 words * 16 us, rounded up');
		for (let i = 0; i < 3; i++) {
			await sleep(st.poll + 1);
			st = await h.getStatus();
			assert.equal(st.state, DfuState.dfuDNBUSY);
			assert.equal(st.poll, 10);
		}
		assert.deepEqual(h.bl.flash.subarray(0x100000, 0x100000 + 1024), pattern(1024), 'the write happened');
		assert.equal((await h.clrStatus()).status, 'ok');
		assert.deepEqual(await h.getStatus(), {status: DfuStatus.OK, poll: 0, state: DfuState.dfuIDLE});
		// One-shot: the next block is not stuck.
		await h.setAddress(FLASH + 0x100400);
		assert.equal((await h.write(2, pattern(1024, 3))).status, DfuStatus.OK);
	});

	it('stuckBusy lost: CLRSTATUS abandons the write with an OK status and the flash never changes', async () => {
		const h = await Host.open('stm32h743', {faults: {stuckBusy: {at: FLASH + 0x100010, op: 'write', outcome: 'lost'}}});
		await h.setAddress(FLASH + 0x100000);
		await h.dnload(2, pattern(1024));
		for (let i = 0; i < 3; i++) assert.equal((await h.getStatus()).state, DfuState.dfuDNBUSY);
		await h.clrStatus();
		assert.deepEqual(await h.getStatus(), {status: DfuStatus.OK, poll: 0, state: DfuState.dfuIDLE});
		assert.ok(h.bl.flash.subarray(0x100000, 0x100400).every((b) => b === 0xff), 'nothing was written');
	});

	it('stuckBusy failed: CLRSTATUS reveals dfuERROR/errERASE and the sector keeps its contents', async () => {
		const h = await Host.open('stm32h743', {flash: new Uint8Array(2048 * 1024), faults: {stuckBusy: {at: FLASH + 0x20000, op: 'erase', outcome: 'failed'}}});
		await h.dnload(0, Uint8Array.of(0x41, ...le32(FLASH + 0x20000)));
		for (let i = 0; i < 3; i++) assert.equal((await h.getStatus()).state, DfuState.dfuDNBUSY);
		await h.clrStatus();
		assert.deepEqual(await h.getStatus(), {status: DfuStatus.errERASE, poll: 0, state: DfuState.dfuERROR});
		assert.equal(h.bl.flash[0x20000], 0);
	});

	it('stuckBusy every: each write at or above the address sticks', async () => {
		const h = await Host.open('stm32h743', {faults: {stuckBusy: {at: FLASH + 0x400, op: 'write', outcome: 'done', every: true}}});
		await h.setAddress(FLASH);
		assert.equal((await h.write(2, pattern(1024))).state, DfuState.dfuDNLOAD_IDLE, 'below the address');
		for (const block of [3, 4]) {
			await h.dnload(block, pattern(1024, block));
			for (let i = 0; i < 2; i++) assert.equal((await h.getStatus()).state, DfuState.dfuDNBUSY);
			await h.clrStatus();
			assert.equal((await h.getStatus()).state, DfuState.dfuIDLE);
		}
		assert.deepEqual(h.bl.flash.subarray(0x800, 0xc00), pattern(1024, 4));
	});

	it('an erase reaches the flash only when its busy time ends; CLRSTATUS before that abandons it', async () => {
		const h = await Host.open('stm32f405', {timeScale: 0.1, flash: new Uint8Array(1024 * 1024)});
		await h.dnload(0, Uint8Array.of(0x41, ...le32(FLASH)));
		const first = await h.getStatus();
		assert.deepEqual([first.state, first.poll], [DfuState.dfuDNBUSY, 35]);
		assert.equal(h.bl.flash[0], 0, 'not erased while busy');
		await sleep(40);
		assert.equal(h.bl.flash[0], 0xff, 'erased once its time is over, before any GETSTATUS says so');
		assert.equal((await h.getStatus()).state, DfuState.dfuDNLOAD_IDLE);
		// The next one is abandoned half-way.
		await h.dnload(0, Uint8Array.of(0x41, ...le32(FLASH + 0x4000)));
		assert.equal((await h.getStatus()).state, DfuState.dfuDNBUSY);
		await h.clrStatus();
		assert.deepEqual(await h.getStatus(), {status: DfuStatus.errUNKNOWN, poll: 0, state: DfuState.dfuERROR});
		await sleep(40);
		assert.equal(h.bl.flash[0x4000], 0, 'the abandoned erase never happens');
	});

	it('an erase points the address pointer at its sector, as ST\'s DFU library does', async () => {
		const h = await Host.open('stm32f405');
		await h.setAddress(FLASH + 0x20000);
		await h.erase(FLASH + 0x4000);
		assert.equal(h.bl.addressPointer, FLASH + 0x4000);
	});

	it('disconnectOnRequest: the device vanishes instead of answering that request', async () => {
		const h = await Host.open('stm32f405', {faults: {disconnectOnRequest: 4}});
		const reasons: string[] = [];
		h.bl.on('disconnect', (why) => reasons.push(why));
		assert.equal(await h.getState(), DfuState.dfuIDLE);
		await assert.rejects(h.getStatus(), expectNoDevice);
		assert.deepEqual(reasons, ['fault']);
	});

	it('corruptUpload with reads: the first reads disagree, then the path is clean', async () => {
		const h = await Host.open('stm32f405', {faults: {corruptUpload: {at: FLASH + 10, reads: 2}}});
		const a = await h.read(FLASH, 64);
		const b = await h.read(FLASH, 64);
		const c = await h.read(FLASH, 64);
		const d = await h.read(FLASH, 64);
		assert.deepEqual([a[10], b[10], c[10], d[10]], [0xfe, 0xfd, 0xff, 0xff]);
	});

	it('corruptUpload without reads: no two reads agree', async () => {
		const h = await Host.open('stm32f405', {faults: {corruptUpload: {at: FLASH + 10}}});
		const seen = new Set<number>();
		for (let i = 0; i < 8; i++) seen.add((await h.read(FLASH, 64))[10]!);
		assert.equal(seen.size, 8);
		assert.ok(!seen.has(0xff));
	});

	for (const [openState, expect] of [
		['appIDLE', {status: DfuStatus.OK, state: DfuState.appIDLE}],
		['dfuERROR', {status: DfuStatus.errUNKNOWN, state: DfuState.dfuERROR}],
		['dfuDNBUSY', {status: DfuStatus.OK, state: DfuState.dfuDNBUSY}],
	] as const) {
		it(`openState ${openState}: the board is found in that state when opened`, async () => {
			const h = await Host.open('stm32f405', {faults: {openState}});
			const st = await h.getStatus();
			assert.deepEqual([st.status, st.state], [expect.status, expect.state]);
			await h.clrStatus();
			const after = await h.getStatus();
			if (openState === 'dfuERROR') assert.equal(after.state, DfuState.dfuIDLE, 'CLRSTATUS recovers');
			else assert.equal(after.state, expect.state, 'nothing gets it out');
			if (openState === 'appIDLE') assert.equal((await h.dnload(0, Uint8Array.of(0x21, ...le32(FLASH)))).status, 'stall');
		});
	}

	it('claimBusy: claiming the interface fails with LIBUSB_ERROR_BUSY', async () => {
		const dev = createEmulatedDevice('stm32f405', {faults: {claimBusy: true}});
		await dev.open();
		await assert.rejects(dev.claimInterface(0), /LIBUSB_ERROR_BUSY/);
	});

	it('descriptor overrides: transfer size, layout and a missing functional descriptor, in the wire descriptors and the sysfs blob', async () => {
		const layout = '@Internal Flash  /0x08000000/04*016Ka';
		const bl = new EmulatedBootloader(profiles.stm32f405, {faults: {descriptor: {transferSize: 8192, layout}}});
		const config = (b: EmulatedBootloader) => b.control({requestType: 0x80, request: 6, value: 0x0200, index: 0, length: 255});
		const bytes = (config(bl) as {data: Uint8Array}).data;
		const functional = bytes.findIndex((_, i) => bytes[i - 1] === 9 && bytes[i] === 0x21) - 1;
		assert.ok(functional > 0);
		assert.equal(Buffer.from(bytes).readUInt16LE(functional + 5), 8192);
		assert.equal(stringText(bl.profile, 4), layout);
		assert.equal(bl.flash.length, 64 * 1024);
		assert.deepEqual(bl.descriptorBlob().subarray(18), bytes);
		const none = new EmulatedBootloader(profiles.stm32f405, {faults: {descriptor: {functional: false}}});
		const plain = (config(none) as {data: Uint8Array}).data;
		assert.ok(!plain.some((b, i) => b === 0x21 && plain[i - 1] === 9), 'no functional descriptor');
		assert.equal(Buffer.from(plain).readUInt16LE(2), plain.length);
	});

	it('a transfer size override also addresses the blocks', async () => {
		const h = await Host.open('stm32f405', {faults: {descriptor: {transferSize: 64}}});
		await h.setAddress(FLASH);
		await h.write(3, pattern(64));
		assert.deepEqual(h.bl.flash.subarray(64, 128), pattern(64));
		assert.equal((await h.dnload(2, pattern(65))).status, 'stall', 'longer than wTransferSize');
	});

	for (const leave of ['stall', 'error', 'no-reset'] as const) {
		it(`leave fault ${leave}: the board stays in DFU`, async () => {
			const h = await Host.open('stm32f405', {faults: {leave}});
			await h.setAddress(FLASH);
			const r = await h.dnload(0, new Uint8Array(0));
			if (leave === 'stall') {
				assert.equal(r.status, 'stall');
				assert.equal((await h.getStatus()).state, DfuState.dfuERROR);
			} else {
				const st = await h.getStatus();
				if (leave === 'error') assert.deepEqual([st.status, st.state], [DfuStatus.errFIRMWARE, DfuState.dfuERROR]);
				else {
					assert.deepEqual([st.status, st.state], [DfuStatus.OK, DfuState.dfuMANIFEST]);
					assert.equal((await h.getStatus()).state, DfuState.dfuMANIFEST_WAIT_RESET);
				}
			}
			assert.equal(h.bl.connected, true);
		});
	}

	it('stats count the wire: data DNLOADs, erases, uploads, device time', async () => {
		const h = await Host.open('stm32f405');
		await h.erase(FLASH);
		await h.setAddress(FLASH);
		await h.write(2, pattern(2048));
		await h.read(FLASH, 4096);
		const s = h.bl.stats;
		assert.deepEqual([s.erases, s.dataDnloads, s.dnloadBytes, s.uploads, s.uploadBytes, s.setAddresses], [1, 1, 2048, 2, 4096, 2]);
		assert.ok(Math.abs(s.deviceMs - (350 + 2 + 512 * 0.016)) < 0.01, `${s.deviceMs}`);
	});
});

describe('bus timing', () => {
	it('charges each data stage at USB full speed, scaled: 64 KiB up and down take about 65 ms each', async () => {
		const h = await Host.open('stm32f405', {timeScale: 1});
		await h.setAddress(FLASH);
		await h.abort();
		let t = performance.now();
		for (let block = 2; block < 34; block++) await h.upload(block, 2048);
		const up = performance.now() - t;
		assert.ok(up >= 64 && up < 200, `64 KiB upload took ${up.toFixed(1)} ms`);
		await h.abort();
		const fast = await Host.open('stm32f405', {timeScale: 0.01});
		await fast.setAddress(FLASH);
		await fast.abort();
		t = performance.now();
		for (let block = 2; block < 34; block++) await fast.upload(block, 2048);
		assert.ok(performance.now() - t < 40, 'scaled by timeScale');
	});
});

// --- protection and leaving ----------------------------------------------------------------------

describe('read protection', () => {
	it('refuses main flash with errVENDOR, shows RDP in the option bytes, and unprotect wipes and resets', async () => {
		const flash = pattern(1024 * 1024);
		const h = await Host.open('stm32f405', {faults: {readProtected: true}, flash});
		assert.equal(h.bl.readProtected, true);
		await h.setAddress(FLASH);
		await h.abort();
		assert.equal((await h.upload(2, 2048)).status, 'stall');
		assert.deepEqual(await h.getStatus(), {status: DfuStatus.errVENDOR, poll: 0, state: DfuState.dfuERROR});
		await h.clrStatus();
		let st = await h.erase(FLASH);
		assert.deepEqual([st.status, st.state], [DfuStatus.errVENDOR, DfuState.dfuERROR]);
		await h.clrStatus();
		st = await h.command([0x41]);
		assert.equal(st.status, DfuStatus.errVENDOR, 'mass erase refused too');
		await h.clrStatus();
		st = await h.write(2, pattern(16));
		assert.equal(st.status, DfuStatus.errVENDOR);
		await h.clrStatus();
		// The option bytes stay readable and show RDP level 1.
		await h.dev.selectAlternateInterface(0, 1);
		assert.equal((await h.read(0x1fffc000, 16))[1], 0xbb);
		await h.dev.selectAlternateInterface(0, 0);
		// Unprotect: one GETSTATUS answers dfuDNBUSY, then the chip wipes itself and resets.
		const reasons: string[] = [];
		h.bl.on('disconnect', (why) => reasons.push(why));
		assert.equal((await h.dnload(0, Uint8Array.of(0x92))).status, 'ok');
		assert.equal((await h.getStatus()).state, DfuState.dfuDNBUSY);
		assert.deepEqual(reasons, ['unprotect']);
		await assert.rejects(h.getStatus(), expectNoDevice);
		assert.equal(h.bl.readProtected, false);
		assert.ok(h.bl.flash.every((b) => b === 0xff));
		h.bl.reset();
		await h.dev.open();
		await h.dev.claimInterface(0);
		assert.equal((await h.read(FLASH, 16)).length, 16);
	});
});

describe('leave and disconnect', () => {
	it('zero-length DNLOAD manifests, answers dfuMANIFEST, then resets into the app', async () => {
		const h = await Host.open('stm32f405');
		const events: string[] = [];
		h.bl.on('disconnect', (why) => events.push(`disconnect:${why}`));
		h.bl.on('reset-to-app', (address) => events.push(`app:${address.toString(16)}`));
		await h.setAddress(FLASH);
		assert.equal((await h.dnload(0, new Uint8Array(0))).status, 'ok');
		assert.equal(await h.getState(), DfuState.dfuMANIFEST_SYNC);
		const st = await h.getStatus();
		assert.equal(st.state, DfuState.dfuMANIFEST);
		assert.deepEqual(events, ['disconnect:leave', 'app:8000000']);
		await assert.rejects(h.getStatus(), expectNoDevice);
	});

	it('a disconnected device throws LIBUSB_ERROR_NO_DEVICE everywhere but close()', async () => {
		const h = await Host.open('stm32f405');
		h.bl.disconnect();
		assert.deepEqual(h.bl.control({requestType: 0xa1, request: 5, value: 0, index: 0, length: 1}), {status: 'disconnected'});
		await assert.rejects(h.dev.controlTransferIn(out(3), 6), expectNoDevice);
		await assert.rejects(h.dev.controlTransferOut(out(4)), expectNoDevice);
		await assert.rejects(h.dev.open(), expectNoDevice);
		await assert.rejects(h.dev.claimInterface(0), expectNoDevice);
		await h.dev.close();
	});

	it('counts requests and reports each one', async () => {
		const bl = new EmulatedBootloader(profiles.stm32f405, {timeScale: 0});
		const seen: number[] = [];
		bl.on('request', (setup) => seen.push(setup.request));
		bl.control({requestType: 0xa1, request: 5, value: 0, index: 0, length: 1});
		bl.control({requestType: 0xa1, request: 3, value: 0, index: 0, length: 6});
		assert.equal(bl.requestCount, 2);
		assert.deepEqual(seen, [5, 3]);
	});

	it('latencyMs delays every transfer', async () => {
		const dev = createEmulatedDevice('stm32f405', {latencyMs: 20});
		await dev.open();
		const t = performance.now();
		await dev.controlTransferIn(out(5), 1);
		assert.ok(performance.now() - t >= 19);
	});

	it('rejects an initial flash of the wrong size', () => {
		assert.throws(() => createEmulatedDevice('stm32f405', {flash: new Uint8Array(10)}), RangeError);
	});
});
