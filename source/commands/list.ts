import type {CliFlags} from '../cli.js';
import type {Reporter} from '../cli/reporter.js';
import {formatBytes} from '../cli/format.js';
import {openBoardSource} from '../devices/open-source.js';
import {vidPid} from '../devices/ids.js';
import type {Board} from '../devices/types.js';
import {hints} from '../hints.js';

export function boardLine(b: Board): string {
	const id = vidPid(b.vendorId, b.productId);
	if (b.kind === 'dfu') {
		const facts = [b.chip ?? b.name, b.bootloader ? `bootloader ${b.bootloader}` : '', b.serialNumber ? `serial ${b.serialNumber}` : '', b.usbPath ? `usb ${b.usbPath}` : '']
			.filter(Boolean)
			.join(', ');
		return `DFU     ${id}  ${facts}${b.problem ? `\n        ! ${b.problem.message} ${hints[b.problem.hint].title}` : ''}`;
	}
	const fc = b.fc ? [b.fc.variant, b.fc.version, b.fc.target ?? b.fc.board].filter(Boolean).join(' ') : 'no MSP answer';
	return `serial  ${id}  ${b.port}  ${b.name}, ${fc}${b.problem ? `\n        ! ${b.problem.message}` : ''}`;
}

export async function listCommand(_args: string[], flags: CliFlags, reporter: Reporter): Promise<number> {
	const source = await openBoardSource(flags);
	try {
		const boards = await source.list();
		const lines = boards.length
			? boards.map(boardLine).join('\n')
			: `No boards found.\nhint: ${hints['no-device'].text}`;
		reporter.result(true, {boards}, lines);
		return 0;
	} finally {
		await source.close?.();
	}
}
export {formatBytes};
