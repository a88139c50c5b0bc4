// Bundle the CLI into dist/ with esbuild: one ESM entry plus lazily loaded chunks (the TUI chunk
// with Ink and React is loaded only when the TUI starts). Native modules stay external and are
// imported after the first frame. react-devtools-core is an optional Ink dev dependency: stub it.
import {build} from 'esbuild';
import {rmSync, chmodSync, writeFileSync, mkdirSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {dirname, join} from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist');
const stubDir = join(root, 'build', 'stubs');
mkdirSync(stubDir, {recursive: true});
writeFileSync(join(stubDir, 'react-devtools-core.js'), 'export default {initialize() {}, connectToDevTools() {}};\n');

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
	define: {'process.env.NODE_ENV': '"production"', 'process.env.DEV': '"false"'},
	// CommonJS dependencies inside an ESM bundle need require() and __dirname.
	banner: {
		js: "import {createRequire as __fcCreateRequire} from 'node:module';const require=__fcCreateRequire(import.meta.url);",
	},
	logLevel: 'warning',
});
chmodSync(join(out, 'cli.js'), 0o755);
