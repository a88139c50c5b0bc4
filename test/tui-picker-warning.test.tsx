// The firmware picker's facts box shows a warning whole: a target mismatch wraps to more lines than
// the box's usual four, and the file list (which scrolls) gives up rows so the end of the warning,
// the part that says what the board is, is never cut. The frame still fits the terminal.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {render} from 'ink-testing-library';
import {AppView} from '../source/screens/app.js';
import type {AppState} from '../source/screens/app-state.js';
import {currentEntry} from '../source/screens/use-firmware-picker-state.js';
import {makeTheme} from '../source/screens/theme.js';
import {describeChip} from '../source/dfu/chip.js';
import type {DfuBoard} from '../source/devices/types.js';
import {dfuBoard, image, keys, world, type World} from './helpers/tui-world.js';

const theme = makeTheme({unicode: true, color: false});
const f722 = '/fw/betaflight-4.5.1-STM32F7X2.hex';
const mismatch = '⚠ The image is built for STM32F7X2, but the board in DFU is an STM32F411/F401 (512 KiB).';

// An F411 in DFU as the source reports it: the chip told from its layouts (F4 option bytes).
const layouts = ['@Internal Flash  /0x08000000/04*016Kg,01*064Kg,03*128Kg', '@Option Bytes  /0x1FFFC000/01*016 e'];
const chip = describeChip(0x0483, layouts);
const f411: DfuBoard = {...dfuBoard, id: 'SN411', serialNumber: 'SN411', usbPath: '1-1.3', layout: layouts[0], flashSize: 512 * 1024, chip: chip.text, chipFamily: chip.family, chipParts: chip.parts};

/** The frame, checked to fit rows x columns with nothing cut by the frame itself. */
function fits(state: AppState): string {
	const r = render(<AppView state={state} theme={theme} />);
	const f = r.lastFrame() ?? '';
	r.unmount();
	const {columns, rows} = state.size;
	const lines = f.split('\n');
	assert.ok(lines.length <= rows, `${lines.length} lines at ${columns}x${rows}\n${f}`);
	for (const l of lines) assert.ok([...l].length <= columns, `line wider than ${columns}: ${JSON.stringify(l)}`);
	assert.doesNotMatch(f, /too short for the rest/, f);
	return f;
}

/** The frame with every run of blanks (line breaks and indents of wrapped text) as one space. */
const flat = (f: string) => f.replace(/\s+/g, ' ');

/** The picker on the F411 board in DFU with the F722 image highlighted. */
function f722OnF411(size: {columns: number; rows: number}): World {
	const w = world({size, boards: [f411]});
	w.type(keys.enter);
	for (let i = 0; i < 10 && currentEntry(w.state().picker!)?.path !== f722; i++) w.type(keys.down);
	assert.equal(currentEntry(w.state().picker!)?.path, f722);
	return w;
}

for (const size of [
	{columns: 80, rows: 24},
	{columns: 60, rows: 20},
]) {
	test(`picker at ${size.columns}x${size.rows}: the whole mismatch warning shows, and the frame fits`, () => {
		const f = fits(f722OnF411(size).state());
		assert.ok(flat(f).includes(mismatch), `the warning is cut:\n${f}`);
		assert.match(f, /❯ ⚠ betaflight-4\.5\.1-STM32F7X2\.hex/, 'the highlighted file is still listed');
		assert.match(f, /Ident: Betaflight \/ STM32F7X2/, 'what the file holds is still shown');
	});

	test(`picker at ${size.columns}x${size.rows}: two warnings (too big, and for another MCU) both show whole`, () => {
		const w = f722OnF411(size);
		// A 600 KiB image of the same file: it runs past the F411's 512 KiB as well.
		w.dispatch({type: 'facts', file: {path: f722, key: '100:2000'}, facts: {state: 'ok', image: image(f722, 'STM32F7X2', 600 * 1024), size: 100}});
		const f = fits(w.state());
		assert.match(f, /HEX, 600 KiB of data/, 'the bigger image is the one shown');
		assert.ok(flat(f).includes('Does not fit this board: 0x08080000 is outside its 512 KiB flash.'), `the fit warning is cut:\n${f}`);
		assert.ok(flat(f).includes(mismatch), `the mismatch warning is cut:\n${f}`);
		assert.match(f, /❯ ⚠ betaflight-4\.5\.1-STM32F7X2\.hex/, 'the highlighted file is still listed');
	});
}
