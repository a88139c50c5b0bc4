import type {CliFlags} from '../cli/flags.js';
import type {Reporter} from '../cli/reporter.js';
import {formatBytes, hex32} from '../format.js';
import {describeImage, loadFirmware} from '../firmware/load.js';
import {parseAddress} from '../jobs/address.js';
import {requireFile} from './args.js';

export async function inspectCommand(args: string[], flags: CliFlags, reporter: Reporter): Promise<number> {
	const file = requireFile(args, 'inspect');
	const image = await loadFirmware(file, {address: flags.address === undefined ? undefined : parseAddress(flags.address)});
	const facts = describeImage(image);
	const lines = [
		`${file}: ${image.format.toUpperCase()}, ${formatBytes(image.bytes)} in ${image.segments.length} segment${image.segments.length === 1 ? '' : 's'}, ${hex32(image.low)}-${hex32(image.high - 1)}`,
		...facts.segments.map((s) => `  ${hex32(s.address)}  ${formatBytes(s.length).padStart(10)}  sha256 ${s.sha256.slice(0, 16)}…`),
		image.ident
			? `  firmware: ${image.ident.flavour} ${image.ident.version} for ${image.ident.target}${image.ident.date ? `, built ${image.ident.date}` : ''}`
			: '  firmware: no identification string found',
		...(image.start !== null ? [`  start address record: ${hex32(image.start)}`] : []),
	];
	reporter.result(true, facts as unknown as Record<string, unknown>, lines.join('\n'));
	return 0;
}
