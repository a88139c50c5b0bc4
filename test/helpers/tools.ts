// Whether a peer tool from Debian is on PATH; tests that need one skip with its package name.
import {spawnSync} from 'node:child_process';

export function hasTool(tool: string): boolean {
	return spawnSync('sh', ['-c', `command -v ${tool}`], {stdio: 'ignore'}).status === 0;
}
