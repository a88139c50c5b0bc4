// The app's store with a scripted outside world: every command the reducers issue waits in a
// list until settle() answers it (folders from a table, files parsed from a table, jobs scripted
// by the test). Keys sent in one burst and keys sent with the world settled after each one must
// end in the same state.
import {AppStore} from '../../source/screens/app-store.js';
import {initialApp, type AppAction, type AppState} from '../../source/screens/app-state.js';
import type {Command} from '../../source/screens/commands.js';
import {parseKeys} from '../../source/screens/keys.js';
import type {Entry, Facts} from '../../source/screens/use-firmware-picker-state.js';
import type {TuiJobKind, TuiSettings} from '../../source/screens/types.js';
import type {Board, DfuBoard, SerialBoard} from '../../source/devices/types.js';
import {makeImage, type FirmwareImage} from '../../source/firmware/image.js';
import type {JobEvent} from '../../source/jobs/types.js';

export const f405Layout = '@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg';
export const dfuBoard: DfuBoard = {
	kind: 'dfu',
	id: 'SN405',
	vendorId: 0x0483,
	productId: 0xdf11,
	name: 'STM32 BOOTLOADER',
	serialNumber: 'SN405',
	usbPath: '1-1.2',
	chip: 'STM32F405/F407 (1 MiB)',
	flashSize: 1024 * 1024,
	bootloader: '2.2',
	layout: f405Layout,
};
export const serialBoard: SerialBoard = {
	kind: 'serial',
	id: 'SN722',
	vendorId: 0x0483,
	productId: 0x5740,
	name: 'STM32 virtual COM port',
	serialNumber: 'SN722',
	port: '/dev/ttyACM1',
	fc: {variant: 'BTFL', version: '4.5.1', target: 'STM32F7X2', board: 'S7X2'},
};
export const thirdBoard: DfuBoard = {...dfuBoard, id: 'SN411', serialNumber: 'SN411', usbPath: '1-1.3', chip: 'STM32F401/F411 (512 KiB)'};

export function image(file: string, target?: string, bytes = 8192, address = 0x08000000): FirmwareImage {
	const data = new Uint8Array(bytes).fill(0x5a);
	if (target) data.set(Buffer.from(`Betaflight / ${target} (S405) 4.5.1 Nov 24 2026 / 12:00:00 (c155f5830) MSP API: 1.46`), 1024);
	return makeImage(file, file.endsWith('.bin') ? 'bin' : 'hex', [{address, data}], null);
}

export const settings: TuiSettings = {startDir: '/fw', fullErase: false, verify: true, reboot: true, baud: 115200};

const file = (dir: string, name: string, mtimeMs = 1000): Entry => ({name, path: `${dir}/${name}`, kind: 'file', size: 100, mtimeMs});
const folder = (dir: string, name: string): Entry => ({name, path: `${dir}/${name}`, kind: 'dir'});

/** /fw: older/, three firmware files; /fw/older: one file. */
export const folders: Record<string, Entry[]> = {
	'/fw': [
		{name: '..', path: '/', kind: 'up'},
		folder('/fw', 'older'),
		file('/fw', 'betaflight-4.5.1-STM32F405.hex', 3000),
		file('/fw', 'betaflight-4.5.1-STM32F7X2.hex', 2000),
		file('/fw', 'inav-8.0.0-MATEKF399.hex', 1000),
		file('/fw', 'full-1MiB.bin', 500),
	],
	'/fw/older': [{name: '..', path: '/fw', kind: 'up'}, file('/fw/older', 'betaflight-4.4.0-STM32F405.hex')],
	'/': [folder('', 'fw')],
};

function facts(path: string, address?: number): Facts {
	if (path.includes('broken')) return {state: 'error', message: 'broken.hex:12: bad checksum', hint: 'bad-file'};
	const target = /STM32F405/.test(path) ? 'STM32F405' : /F7X2/.test(path) ? 'STM32F7X2' : /MATEKF399/.test(path) ? 'MATEKF399' : undefined;
	return {state: 'ok', image: image(path, target, 8192, address ?? 0x08000000), size: 100};
}

export interface World {
	store: AppStore;
	state(): AppState;
	pending: Command[];
	/** Commands answered so far, in order. */
	log: Command[];
	exits: number[];
	dispatch(a: AppAction): void;
	/** Answer every waiting command (and those their answers cause). */
	settle(): void;
	/** Type raw terminal input: in one burst, or settling the world after every key. */
	type(raw: string, mode?: 'burst' | 'slow'): void;
	/** Send an event of the running job. */
	job(event: JobEvent): void;
	jobs: Extract<Command, {type: 'start-job'}>[];
}

export function world(options: {boards?: Board[]; available?: Partial<Record<TuiJobKind, boolean>>; settings?: Partial<TuiSettings>; size?: {columns: number; rows: number}} = {}): World {
	const pending: Command[] = [];
	const log: Command[] = [];
	const exits: number[] = [];
	const jobs: Extract<Command, {type: 'start-job'}>[] = [];
	const available = {flash: true, backup: true, leave: true, 'settings-backup': false, 'on-connect': true, ...options.available};
	const store = new AppStore(
		initialApp({...settings, ...options.settings}, options.size ?? {columns: 80, rows: 24}, available),
		{backupPath: (b) => `/backups/${b.serialNumber ?? b.id}/flash.bin`},
		(c) => pending.push(c),
	);
	const answer = (c: Command) => {
		log.push(c);
		switch (c.type) {
			case 'read-folder': {
				const entries = folders[c.dir] ?? [];
				const idents: Record<string, {key: string; ident: {flavour: string; target: string; version: string} | null}> = {};
				for (const e of entries.filter((x) => x.kind === 'file')) {
					const x = facts(e.path);
					const id = x.state === 'ok' ? x.image.ident : null;
					idents[e.path] = {key: `${e.size}:${e.mtimeMs}`, ident: id ? {flavour: id.flavour, target: id.target, version: id.version} : null};
				}
				return store.dispatch({type: 'folder', seq: c.seq, dir: c.dir, entries, idents});
			}
			case 'load-facts':
				return store.dispatch({type: 'facts', file: c.file, facts: facts(c.file.path, c.file.address)});
			case 'read-idents':
				for (const f of c.files) {
					const x = facts(f.path);
					const id = x.state === 'ok' ? x.image.ident : null;
					store.dispatch({type: 'ident', path: f.path, key: f.key, ident: id ? {flavour: id.flavour, target: id.target, version: id.version} : null});
				}
				return;
			case 'load-image':
				return store.dispatch({type: 'image', seq: c.seq, image: image(c.path, undefined, 8192, c.address)});
			case 'start-job':
				jobs.push(c);
				return;
			case 'exit':
				exits.push(c.code);
				return;
			default:
				return;
		}
	};
	const w: World = {
		store,
		state: store.getState,
		pending,
		log,
		exits,
		jobs,
		dispatch: store.dispatch,
		settle() {
			for (let i = 0; pending.length > 0 && i < 1000; i++) answer(pending.shift()!);
		},
		type(raw, mode = 'burst') {
			for (const key of parseKeys(raw)) {
				store.dispatch({type: 'key', key});
				if (mode === 'slow') w.settle();
			}
			w.settle();
		},
		job(event) {
			const j = store.getState().job;
			if (!j) throw new Error('no job');
			store.dispatch({type: 'job', seq: j.seq, event});
			w.settle();
		},
	};
	store.dispatch({type: 'boards', boards: options.boards ?? [dfuBoard, serialBoard, thirdBoard]});
	w.settle();
	return w;
}

export const keys = {up: '\x1b[A', down: '\x1b[B', left: '\x1b[D', right: '\x1b[C', enter: '\r', esc: '\x1b', backspace: '\x7f', home: '\x1b[H', end: '\x1b[F', pageup: '\x1b[5~', pagedown: '\x1b[6~', ctrlC: '\x03'};
