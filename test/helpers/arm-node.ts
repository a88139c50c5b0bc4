// Node 20 for a Raspberry Pi's CPU under qemu-user (scripts/arm-node.sh), and the packed CLI
// installed the way a pilot installs it, for the ARM tests (test/u-arm-*.test.ts).
import {spawnSync} from 'node:child_process';
import {readFileSync, readdirSync} from 'node:fs';
import {join} from 'node:path';
import {repo, runCommand} from './usb-harness.js';

export type PiArch = 'arm64' | 'armv7l';
export const armNodeScript = join(repo ?? '', 'scripts', 'arm-node.sh');

/**
 * .ci/run sets FCFLASH_REQUIRE_ARM=1 once it has installed qemu and the multiarch libraries: there
 * a missing piece or a failed download is a failure, not a skip, so a broken install step cannot
 * pass as green.
 */
export const armRequired = process.env.FCFLASH_REQUIRE_ARM === '1';

export interface ArmNode {
	/** A folder whose `node` is ARCH Node under qemu: put it first on PATH. */
	bin?: string;
	skip?: string;
}

/** Check for qemu and ARCH's libraries, then fetch Node and umockdev's preload into the cache. */
export function armNode(arch: PiArch): ArmNode {
	const check = spawnSync(armNodeScript, ['check', arch], {encoding: 'utf8', timeout: 30_000});
	if (check.status !== 0) return refuse(`${arch}: ${(check.stdout + check.stderr).trim() || `scripts/arm-node.sh check exited ${check.status}`}`);
	// The first run downloads ~40 MB per ARCH from the npm registry; later runs find the cache.
	const fetch = spawnSync(armNodeScript, ['fetch', arch], {encoding: 'utf8', timeout: 600_000});
	if (fetch.status !== 0) return refuse(`${arch}: ${fetch.stderr.trim() || `scripts/arm-node.sh fetch exited ${fetch.status}`}`);
	return {bin: fetch.stdout.trim().split('\n').at(-1)};
}

function refuse(reason: string): ArmNode {
	if (armRequired) throw new Error(`${reason} (FCFLASH_REQUIRE_ARM=1)`);
	return {skip: reason};
}

/** PATH with ARCH Node first: `#!/usr/bin/env node` in the installed bin then starts it. */
export function pathWith(bin: string): NodeJS.ProcessEnv {
	return {...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`};
}

export interface Installed {
	prefix: string;
	/** prefix/bin/fcflash-tui, the link `npm install -g` made. */
	bin: string;
	/** The installed package's folder (node_modules/fcflash-tui). */
	packageDir: string;
	version: string;
}

/**
 * `npm pack` (dist/ as built) and `npm install -g --prefix` the tarball, as a pilot would: the
 * production dependencies usb and serialport come from the npm registry with their prebuilts for
 * every platform, ARM included.
 */
export async function installPacked(dir: string): Promise<Installed> {
	const pack = await runCommand('npm', ['pack', '--ignore-scripts', '--pack-destination', dir, '--silent'], {cwd: repo, timeoutMs: 120_000});
	if (pack.code !== 0) throw new Error(`npm pack failed: ${pack.stderr}`);
	const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
	if (!tarball) throw new Error(`npm pack left no tarball in ${dir}: ${pack.stdout}`);
	const prefix = join(dir, 'prefix');
	const install = await runCommand('npm', ['install', '-g', '--prefix', prefix, join(dir, tarball), '--no-audit', '--no-fund', '--loglevel=error'], {timeoutMs: 300_000});
	if (install.code !== 0) throw new Error(`npm install -g failed (it needs the npm registry for usb and serialport): ${install.stderr}`);
	const packageDir = join(prefix, 'lib', 'node_modules', 'fcflash-tui');
	const version = (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {version: string}).version;
	return {prefix, bin: join(prefix, 'bin', 'fcflash-tui'), packageDir, version};
}
