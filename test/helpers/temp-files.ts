// A temporary folder per test file, removed after the file's tests; write() puts a file in it.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after} from 'node:test';

export function tempFiles(prefix: string) {
	const dir = mkdtempSync(join(tmpdir(), prefix));
	after(() => rmSync(dir, {recursive: true, force: true}));
	return {
		dir,
		write(name: string, content: string | Uint8Array): string {
			const path = join(dir, name);
			writeFileSync(path, content);
			return path;
		},
	};
}
