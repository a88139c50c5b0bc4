// Bundle the CLI into dist/ with esbuild: one ESM entry plus lazily loaded chunks (the TUI chunk
// with Ink and React is loaded only when the TUI starts). Native modules stay external and are
// imported after the first frame. react-devtools-core is an optional Ink dev dependency: stub it.
import {build} from 'esbuild';
import {rmSync, chmodSync, writeFileSync, mkdirSync, readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {dirname, join} from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist');
const stubDir = join(root, 'build', 'stubs');
mkdirSync(stubDir, {recursive: true});
writeFileSync(join(stubDir, 'react-devtools-core.js'), 'export default {initialize() {}, connectToDevTools() {}};\n');

// meow evaluates normalize-package-data (and spdx-correct's tables) when it is imported, ~35 ms
// of start-up, although it only needs it if a command reads `cli.pkg`, which ours never do.
// Make that one binding lazy. If a meow update changes the line, the bundle simply stays eager.
const lazyMeowNormalize = {
	name: 'lazy-meow-normalize',
	setup(b) {
		b.onLoad({filter: /meow[\\/]build[\\/]dependencies\.js$/}, (args) => {
			const eager = 'var normalizeExports = requireNormalize();\nconst normalizePackageData = getDefaultExportFromCjs(normalizeExports);';
			const source = readFileSync(args.path, 'utf8');
			if (!source.includes(eager)) return {contents: source, loader: 'js', warnings: [{text: 'meow changed: normalize-package-data stays eager'}]};
			const lazy = 'const normalizePackageData = (...a) => getDefaultExportFromCjs(requireNormalize())(...a);';
			return {contents: source.replace(eager, lazy), loader: 'js'};
		});
	},
};

rmSync(out, {recursive: true, force: true});
await build({
	entryPoints: {cli: join(root, 'source', 'cli.ts')},
	outdir: out,
	bundle: true,
	splitting: true,
	format: 'esm',
	platform: 'node',
	target: 'node20',
	minify: true,
	legalComments: 'none',
	chunkNames: 'chunks/[name]-[hash]',
	external: ['usb', 'serialport', '@serialport/*'],
	alias: {'react-devtools-core': join(stubDir, 'react-devtools-core.js')},
	// Yoga (Ink's layout engine) fetch()es its inlined wasm when fetch exists, which loads Node's
	// whole HTTP client at start-up; without it, it decodes the same bytes directly.
	define: {'process.env.NODE_ENV': '"production"', 'process.env.DEV': '"false"', fetch: 'undefined'},
	// CommonJS dependencies inside an ESM bundle need require() and __dirname.
	banner: {
		js: "import {createRequire as __fcCreateRequire} from 'node:module';const require=__fcCreateRequire(import.meta.url);",
	},
	plugins: [lazyMeowNormalize],
	logLevel: 'warning',
});
chmodSync(join(out, 'cli.js'), 0o755);

// The terminal UI once more as one CommonJS script, for tui.ts to run through vm.Script with V8's
// code cache (an ES module cannot use it on Node 20). CommonJS has no top-level await, which two
// dependencies use: Yoga to instantiate its WebAssembly (done synchronously here instead, from the
// same bytes) and Ink's reconciler to load its devtools in DEV mode (off in the bundle). If either
// changes so that this build fails, the UI is simply imported as an ES module (slower start).
const yogaDir = join(root, 'node_modules', 'yoga-layout', 'dist');
const syncYoga = {
	name: 'sync-yoga',
	setup(b) {
		b.onResolve({filter: /^yoga-layout$/}, () => ({path: 'sync-yoga', namespace: 'sync-yoga'}));
		b.onLoad({filter: /.*/, namespace: 'sync-yoga'}, () => {
			const binary = join(yogaDir, 'binaries', 'yoga-wasm-base64-esm.js');
			const wasm = /data:application\/octet-stream;base64,([A-Za-z0-9+/=]+)/.exec(readFileSync(binary, 'utf8'))?.[1];
			if (!wasm) throw new Error('yoga-layout changed: no inlined wasm found');
			const contents = [
				`import loadYoga from ${JSON.stringify(binary)};`,
				`import wrapAssembly from ${JSON.stringify(join(yogaDir, 'src', 'wrapAssembly.js'))};`,
				`export * from ${JSON.stringify(join(yogaDir, 'src', 'generated', 'YGEnums.js'))};`,
				`const wasm = ${JSON.stringify(wasm)};`,
				'const lib = {instantiateWasm(imports, done) { const instance = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(wasm, "base64")), imports); done(instance); return instance.exports; }};',
				'loadYoga(lib);',
				'if (typeof lib.Node !== "function") throw new Error("yoga-layout did not start synchronously");',
				'export default wrapAssembly(lib);',
			].join('\n');
			return {contents, loader: 'js', resolveDir: yogaDir};
		});
	},
};
const inkWithoutTla = {
	name: 'ink-without-top-level-await',
	setup(b) {
		b.onLoad({filter: /ink[\\/]build[\\/]reconciler\.js$/}, (args) => {
			const source = readFileSync(args.path, 'utf8');
			const devtools = "await import('./devtools.js');";
			const pkg = '? await loadPackageJson()';
			if (!source.includes(devtools) || !source.includes(pkg)) throw new Error('ink changed: its reconciler has other top-level awaits');
			return {contents: source.replace(devtools, 'void 0;').replace(pkg, '? {name: undefined, version: undefined}'), loader: 'js'};
		});
	},
};
try {
	await build({
		entryPoints: [join(root, 'source', 'tui-app.ts')],
		outfile: join(out, 'tui-app.cjs'),
		bundle: true,
		format: 'cjs',
		platform: 'node',
		target: 'node20',
		minify: true,
		legalComments: 'none',
		external: ['usb', 'serialport', '@serialport/*'],
		alias: {'react-devtools-core': join(stubDir, 'react-devtools-core.js')},
		define: {'process.env.NODE_ENV': '"production"', 'process.env.DEV': '"false"', fetch: 'undefined'},
		plugins: [syncYoga, inkWithoutTla, lazyMeowNormalize],
		logLevel: 'error',
	});
} catch (error) {
	rmSync(join(out, 'tui-app.cjs'), {force: true});
	console.warn(`bundle: no code-cached UI (${error.message.split('\n')[0]}); the UI loads as an ES module`);
}
