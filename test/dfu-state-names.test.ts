// DFU states are printed by the names of the DFU 1.1 spec (REFERENCE.md): dfuMANIFEST-WAIT-RESET,
// not the half-converted dfuMANIFEST-WAIT_RESET of the identifier dfuMANIFEST_WAIT_RESET.
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {DfuStatusError} from '../source/errors.js';
import {ensureIdle, State, stateName, statusError, Status} from '../source/dfu/requests.js';
import type {ClassTransfer} from '../source/dfu/transfer.js';

/** The DFU 1.1 state names, as REFERENCE.md lists them. */
const specNames = ['appIDLE', 'appDETACH', 'dfuIDLE', 'dfuDNLOAD-SYNC', 'dfuDNBUSY', 'dfuDNLOAD-IDLE', 'dfuMANIFEST-SYNC', 'dfuMANIFEST', 'dfuMANIFEST-WAIT-RESET', 'dfuUPLOAD-IDLE', 'dfuERROR'];

/** A device that answers every GETSTATUS with this state (and status OK). */
function deviceIn(state: number): ClassTransfer {
	const device = {
		controlTransferIn: async () => ({status: 'ok', data: new DataView(Uint8Array.of(Status.OK, 0, 0, 0, state, 0).buffer)}),
		controlTransferOut: async () => ({status: 'ok', bytesWritten: 0}),
	};
	return {device: device as unknown as ClassTransfer['device'], interfaceNumber: 0};
}

describe('DFU state names', () => {
	it('every state code 0-10 has the name the DFU spec gives it', () => {
		assert.deepEqual(
			specNames.map((_, code) => stateName(code)),
			specNames,
		);
		for (const [identifier, code] of Object.entries(State)) assert.equal(stateName(code).replace(/-/g, '_'), identifier);
	});

	it('an unknown state is named by its number', () => {
		assert.equal(stateName(42), 'state 42');
	});

	it('a board left in dfuMANIFEST-WAIT-RESET: the error names the state as the spec does', async () => {
		await assert.rejects(ensureIdle(deviceIn(State.dfuMANIFEST_WAIT_RESET)), (error: unknown) => {
			assert.ok(error instanceof DfuStatusError, String(error));
			assert.equal(error.message, 'The device is in dfuMANIFEST-WAIT-RESET, not ready for DFU: replug it.');
			return true;
		});
	});

	it('a status error names a multi-word state in full', () => {
		assert.match(statusError('Writing block 2', {status: Status.errWRITE, pollTimeout: 0, state: State.dfuDNLOAD_IDLE}).message, /\(dfuDNLOAD-IDLE\)\.$/);
	});
});
