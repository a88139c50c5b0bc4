// `npm run bench -- startup`, the ARM line: the TUI's first frame on arm64 Node 20 under qemu-user
// (scripts/arm-node.sh), in the same 80x24 PTY as the x86 lines. qemu translating an x86 host is
// not a Raspberry Pi: follow the figure as a trend between commits, not as a target.
import {spawn, spawnSync} from 'node:child_process';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const armNode = join(root, 'scripts', 'arm-node.sh');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;

function firstFrame(node: string, args: string[], until: RegExp, timeoutMs = 60_000): Promise<number> {
	return new Promise((resolve, reject) => {
		const t = performance.now();
		const command = [node, ...args].map(quote).join(' ');
		const child = spawn('script', ['-qfec', `stty cols 80 rows 24; exec ${command}`, '/dev/null'], {
			env: {...process.env, TERM: 'xterm-256color', LANG: 'C.UTF-8'},
			stdio: ['pipe', 'pipe', 'ignore'],
		});
		let out = '';
		let done = false;
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
			if (!done) reject(new Error(`no first frame within ${timeoutMs} ms`));
		}, timeoutMs);
		child.stdout.on('data', (d: Buffer) => {
			out += d.toString();
			if (!done && until.test(out)) {
				done = true;
				clearTimeout(timer);
				resolve(performance.now() - t);
				child.kill('SIGKILL');
			}
		});
		child.on('error', reject);
		child.on('exit', () => {
			clearTimeout(timer);
			if (!done) reject(new Error(`exited before the first frame; output: ${out.slice(0, 200)}`));
		});
	});
}

/** Prints the arm64 first-frame line; `cli` is dist/cli.js, `firmwareDir` a folder for the picker. */
export async function benchStartupArm(cli: string, firmwareDir: string, label = 36): Promise<void> {
	const name = 'TUI first frame, arm64 Node on qemu';
	const check = spawnSync(armNode, ['check', 'arm64'], {encoding: 'utf8', timeout: 30_000});
	if (check.status !== 0) return console.log(`${name}: not measured (${check.stdout.trim()})`);
	const fetch = spawnSync(armNode, ['fetch', 'arm64'], {encoding: 'utf8', timeout: 600_000});
	if (fetch.status !== 0) return console.log(`${name}: not measured (${fetch.stderr.trim()})`);
	const node = join(fetch.stdout.trim().split('\n').at(-1)!, 'node');
	try {
		const times: number[] = [];
		for (let i = 0; i < 5; i++) times.push(await firstFrame(node, [cli, '--simulate', '--firmware', firmwareDir], /Choose a board/));
		const bare: number[] = [];
		for (let i = 0; i < 5; i++) bare.push(await firstFrame(node, ['-e', 'console.log("Choose a board")'], /Choose a board/));
		console.log(`${name.padEnd(label)} ${median(times).toFixed(0)} ms (median of 5; bare arm64 node -e on qemu ${median(bare).toFixed(0)} ms; a trend, not a Pi)`);
	} catch (error) {
		console.log(`${name}: not measured (${(error as Error).message})`);
	}
}
