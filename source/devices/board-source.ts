// Which boards a command sees: the emulated ones (--simulate) or real USB and serial ports.
// The real source is imported lazily so native modules load only when needed.
import type {BoardSource} from './types.js';

export async function openBoardSource(flags: {simulate?: string; simulateState?: string}): Promise<BoardSource> {
	if (flags.simulate !== undefined) {
		const {SimulatedSource} = await import('./simulated.js');
		return new SimulatedSource(flags.simulate, {statePath: flags.simulateState});
	}
	const {RealSource} = await import('./real-source.js');
	return new RealSource();
}
