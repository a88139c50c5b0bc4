// Which boards a command sees: the emulated ones (--simulate) or real USB and serial ports.
// The real source is imported lazily so native modules load only when needed.
import type {Faults} from '../emulator/types.js';
import {UsageError} from '../errors.js';
import type {BoardSource} from './types.js';

/** FCFLASH_SIM_FAULTS (tests): emulator faults, as JSON, for the emulated boards in DFU. */
function simFaults(env: NodeJS.ProcessEnv = process.env): Faults | undefined {
	const text = env.FCFLASH_SIM_FAULTS;
	if (!text) return undefined;
	try {
		return JSON.parse(text) as Faults;
	} catch (error) {
		throw new UsageError(`FCFLASH_SIM_FAULTS is not JSON: ${(error as Error).message}`);
	}
}

export async function openBoardSource(flags: {simulate?: string; simulateState?: string; simulateArrival?: number}): Promise<BoardSource> {
	if (flags.simulate !== undefined) {
		const {SimulatedSource} = await import('./simulated.js');
		return new SimulatedSource(flags.simulate, {statePath: flags.simulateState, arrivalMs: flags.simulateArrival, faults: simFaults()});
	}
	const {RealSource} = await import('./real-source.js');
	return new RealSource();
}
