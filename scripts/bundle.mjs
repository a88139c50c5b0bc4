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
