// Proof that the flashed firmware runs: the flight controller's MSP identity after leave, against
// the identification string found in the image (flavour, version, target).
import type {FlightControllerInfo} from '../devices/types.js';
import type {FirmwareIdent} from '../firmware/image.js';
import {variantOfFlavour} from './diff-text.js';

export type FirmwareCheck = {matches: true} | {matches: false; message: string};

interface Version {
	numbers: [number, number, number];
	suffix: string;
}

/** "4.5.6", "2026.12.0-alpha"; MSP's bytes-only form of a calendar version ("26.12.0") as 2026. */
function versionOf(text: string | undefined, calendar: boolean): Version | undefined {
	const m = /^(\d+)\.(\d+)\.(\d+)(.*)$/.exec(text?.trim() ?? '');
	if (!m) return undefined;
	let major = Number(m[1]);
	if (calendar && major < 100) major += 2000;
	return {numbers: [major, Number(m[2]), Number(m[3])], suffix: m[4]!.replace(/^[-+.]/, '').toLowerCase()};
}

function sameVersion(running: string | undefined, image: string): boolean {
	const want = versionOf(image, false);
	const got = versionOf(running, (want?.numbers[0] ?? 0) >= 2000);
	if (!want || !got) return false;
	if (want.numbers.some((n, i) => n !== got.numbers[i])) return false;
	// MSP without the version text cannot say "-alpha": a missing suffix is not a mismatch.
	return !want.suffix || !got.suffix || want.suffix === got.suffix;
}

const describe = (fc: FlightControllerInfo) => [fc.variant, fc.version, fc.target ?? fc.board].filter(Boolean).join(' ') || 'something unidentified';

export function checkRunningFirmware(fc: FlightControllerInfo | undefined, ident: FirmwareIdent): FirmwareCheck {
	const image = `${ident.flavour} ${ident.version} for ${ident.target}`;
	if (!fc || !fc.variant) return {matches: false, message: `The flight controller does not say what it runs (no MSP answer), so it cannot be shown to run the flashed ${image}.`};
	const variant = variantOfFlavour(ident.flavour);
	const wrong: string[] = [];
	if (variant && fc.variant.toUpperCase() !== variant) wrong.push('firmware');
	if (!sameVersion(fc.version, ident.version)) wrong.push('version');
	if (fc.target && fc.target.toUpperCase() !== ident.target.toUpperCase()) wrong.push('target');
	if (!wrong.length) return {matches: true};
	return {matches: false, message: `The flight controller runs ${describe(fc)}, not the flashed ${image} (${wrong.join(', ')} differ).`};
}
