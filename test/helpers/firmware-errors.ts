// loadFirmware must refuse a bad file with a FirmwareError (exit 2, hint bad-file) whose message
// starts with where the problem is: "FILE:LINE: " for HEX, "FILE at offset N: " for DfuSe.
import assert from 'node:assert/strict';
import {FirmwareError} from '../../source/errors.js';
import {loadFirmware} from '../../source/firmware/load.js';

export async function rejectsAt(path: string, where: string, pattern: RegExp): Promise<FirmwareError> {
	try {
		await loadFirmware(path);
	} catch (error) {
		assert.ok(error instanceof FirmwareError, `expected FirmwareError, got ${String(error)}`);
		assert.equal(error.exitCode, 2);
		assert.equal(error.hint, 'bad-file');
		assert.equal(error.file, path);
		assert.ok(error.message.startsWith(`${where}: `), `message names ${where}: ${error.message}`);
		assert.match(error.message, pattern);
		return error;
	}
	assert.fail(`${path} was accepted`);
}
