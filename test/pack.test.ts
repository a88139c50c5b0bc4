// What `npm pack` ships: the bundle with its shebang, the manifest, the README; runtime dependencies
// only for what the bundle leaves external (usb, serialport). The full check (pack, npm install -g
// into a temporary prefix, run the binary) is scripts/check-pack.sh: it needs the npm registry, so it
// runs here only with FCFLASH_PACK_INSTALL=1 (CI calls the script directly).
import assert from 'node:assert/strict';
import {execFileSync, spawnSync} from 'node:child_process';
import {builtinModules} from 'node:module';
import {readFileSync, readdirSync, statSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {describe, it} from 'node:test';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
	bin: Record<string, string>;
	files: string[];
	dependencies: Record<string, string>;
	engines: {node: string};
};
const external = ['usb', 'serialport'];

function distFiles(dir = join(repo, 'dist')): string[] {
	return readdirSync(dir).flatMap((name) => {
		const path = join(dir, name);
		return statSync(path).isDirectory() ? distFiles(path) : [path];
	});
}

describe('package', () => {
	it('bin points at an executable dist/cli.js with a node shebang', () => {
		assert.deepEqual(pkg.bin, {'fcflash-tui': 'dist/cli.js'});
		const cli = join(repo, 'dist', 'cli.js');
		assert.equal(readFileSync(cli, 'utf8').split('\n')[0], '#!/usr/bin/env node');
		assert.ok(statSync(cli).mode & 0o111, 'executable');
		assert.match(pkg.engines.node, />=\s*20/);
	});

	it('npm pack ships dist/, package.json and README only', () => {
		const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']});
		const files = (JSON.parse(out) as Array<{files: Array<{path: string}>}>)[0]!.files.map((f) => f.path);
		assert.ok(files.includes('dist/cli.js'));
		assert.ok(files.includes('package.json'));
		assert.ok(files.some((f) => f.startsWith('dist/chunks/')), 'the lazily loaded chunks');
		const stray = files.filter((f) => !/^(package\.json|README\.md|LICENSE|dist\/.+)$/.test(f));
		assert.deepEqual(stray, []);
	});

	it('the bundle imports only node built-ins and the native externals, which are runtime dependencies', () => {
		const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
		const bare = new Set<string>();
		for (const file of distFiles().filter((f) => f.endsWith('.js'))) {
			const text = readFileSync(file, 'utf8');
			for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)["']((?:@[\w.-]+\/)?\w[\w.-]*(?::[\w/]+)?(?:\/[\w./-]+)?)["']/g)) {
				const name = m[1]!;
				if (!builtins.has(name)) bare.add(name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0]!);
			}
		}
		for (const name of bare) assert.ok(external.includes(name) || name.startsWith('@serialport/'), `dist imports ${name}, which is neither built in nor external`);
		for (const name of external) assert.ok(pkg.dependencies[name], `${name} is a runtime dependency`);
		for (const bundled of ['ink', 'react', 'meow']) assert.equal(pkg.dependencies[bundled], undefined, `${bundled} is bundled into dist, so it is a devDependency`);
	});

	it('scripts/check-pack.sh: pack, npm install -g into a temp prefix, --version and list --simulate', {skip: process.env.FCFLASH_PACK_INSTALL !== '1' && 'set FCFLASH_PACK_INSTALL=1 (needs the npm registry)', timeout: 300_000}, () => {
		const r = spawnSync(join(repo, 'scripts', 'check-pack.sh'), ['--no-build'], {cwd: repo, encoding: 'utf8'});
		assert.equal(r.status, 0, r.stdout + r.stderr);
		assert.match(r.stdout, /check-pack: ok/);
	});
});
