// The interactive terminal UI is loaded only from here, so headless commands never load Ink/React.
// Start-up: most of the time before the first frame is V8 compiling the UI's ~450 KB of code
// (React's reconciler, Ink, Yoga). The bundle ships the UI once more as one CommonJS script
// (dist/tui-app.cjs, built without top-level await); it runs through vm.Script with V8's code cache
// kept in $XDG_CACHE_HOME/fcflash-tui, so from the second start on it is deserialised instead of
// compiled. Without that script (tsc's build/, a failed bundle step) the ES module is imported.
import {existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {homedir} from 'node:os';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {Script} from 'node:vm';
import type {CliFlags} from './cli/flags.js';

type TuiApp = typeof import('./tui-app.js');

/** When the code cache is written after a start without one. */
const cacheAfterMs = 1500;

/** dist/tui-app.cjs next to the bundle (this module is one of its chunks: dist/chunks/). */
function compiledApp(): string | undefined {
	if (process.env.FCFLASH_NO_CODE_CACHE) return undefined;
	const here = dirname(fileURLToPath(import.meta.url));
	for (const file of [join(here, 'tui-app.cjs'), join(here, '..', 'tui-app.cjs')]) if (existsSync(file)) return file;
	return undefined;
}

function cachePath(file: string): string {
	const st = statSync(file);
	// No hashing (loading node:crypto alone costs more than the cache saves): the key names the
	// Node that made the cache and the script it is for.
	const key = `${process.version}-${process.arch}-${st.size}-${Math.round(st.mtimeMs)}${process.execArgv.length ? '-flags' : ''}`;
	const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
	return join(base, 'fcflash-tui', `tui-app-${key}.v8`);
}

function loadCompiled(file: string): {app: TuiApp; saveCache(): void} {
	const cache = cachePath(file);
	let cachedData: Buffer | undefined;
	try {
		cachedData = readFileSync(cache);
	} catch {
		cachedData = undefined;
	}
	const source = readFileSync(file, 'utf8');
	const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {filename: file, cachedData});
	const module = {exports: {} as TuiApp};
	(script.runInThisContext() as (...a: unknown[]) => void)(module.exports, createRequire(file), module, file, dirname(file));
	const fresh = cachedData === undefined || script.cachedDataRejected === true;
	let saved = false;
	return {
		app: module.exports,
		saveCache() {
			if (!fresh || saved) return;
			saved = true;
			try {
				mkdirSync(dirname(cache), {recursive: true});
				writeFileSync(`${cache}.tmp`, script.createCachedData());
				renameSync(`${cache}.tmp`, cache);
				// Caches of other builds or Node versions are of no use any more.
				for (const name of readdirSync(dirname(cache))) if (/^tui-app-.*\.v8$/.test(name) && join(dirname(cache), name) !== cache) rmSync(join(dirname(cache), name), {force: true});
			} catch {
				// No cache this time: the next start compiles again.
			}
		},
	};
}

export async function runTui(flags: CliFlags): Promise<number> {
	const file = compiledApp();
	if (file) {
		let loaded: ReturnType<typeof loadCompiled> | undefined;
		try {
			loaded = loadCompiled(file);
		} catch {
			loaded = undefined;
		}
		if (loaded) {
			// Once the device list is up and idle: what start-up compiled is what the cache keeps.
			setTimeout(() => loaded.saveCache(), cacheAfterMs).unref();
			return loaded.app.runTui(flags);
		}
	}
	const app: TuiApp = await import('./tui-app.js');
	return app.runTui(flags);
}
