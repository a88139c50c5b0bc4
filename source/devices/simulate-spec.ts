// What --simulate asks for: `--simulate` alone is the demo pair; `--simulate=P1,P2,...` one emulated
// board per entry, `PROFILE:fc` being that chip as a flight controller running Betaflight (on an
// in-process serial port) instead of a board in DFU. With --simulate-arrival MS, entry k appears
// k x MS after start (for flash-on-connect runs).
import {UsageError} from '../errors.js';
import {isProfileName, profileNames, type ProfileName} from '../emulator/index.js';

export interface SimulatedBoardSpec {
	profile: ProfileName;
	/** Runs Betaflight on a serial port (a flight controller), else sits in its ROM bootloader. */
	fc: boolean;
	/** ms after the source is created; 0: there from the start. */
	arriveAfterMs: number;
	/** 0-based: gives each board its own serial number and USB path. */
	index: number;
}

export function parseSimulateSpec(spec: string, arrivalMs = 0): SimulatedBoardSpec[] {
	if (!Number.isFinite(arrivalMs) || arrivalMs < 0) throw new UsageError(`--simulate-arrival ${arrivalMs}: give milliseconds, e.g. 2000.`);
	if (spec === '' || spec === 'demo') {
		return [
			{profile: 'stm32f405', fc: false, arriveAfterMs: 0, index: 0},
			{profile: 'stm32f722', fc: true, arriveAfterMs: arrivalMs, index: 1},
		];
	}
	return spec.split(',').map((entry, index) => {
		const [name, role, ...rest] = entry.trim().split(':');
		if (!name || !isProfileName(name) || rest.length > 0 || (role !== undefined && role !== 'fc')) {
			throw new UsageError(`Unknown simulated board "${entry}". Profiles: ${profileNames.join(', ')}; add :fc for a flight controller running Betaflight (e.g. stm32f722:fc).`);
		}
		return {profile: name, fc: role === 'fc', arriveAfterMs: index * arrivalMs, index};
	});
}
