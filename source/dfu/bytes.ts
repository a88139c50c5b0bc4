// Block comparisons on the hot path of compare, write and verify (a 1 MiB flash is 512 blocks).

/** Every byte is 0xFF: erased flash, or a block the image leaves blank. */
export function isBlank(bytes: Uint8Array): boolean {
	for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0xff) return false;
	return true;
}

export const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(a, b) === 0;
