// The settings of the emulated Betaflight: a small, real subset of Betaflight 4.5's setting table
// (names, scopes, ranges and defaults as the 4.5.6 SITL build reports them, in its `dump all`
// order), the config the CLI edits, and how 2025.12-and-later firmware differs where a settings
// restore notices: renamed PID settings, read-only `serial`, battery profiles.
export type Scope = 'master' | 'profile' | 'rateprofile' | 'battery_profile';

export interface SettingDef {
	name: string;
	scope: Scope;
	type: 'int' | 'lookup' | 'string';
	min?: number;
	max?: number;
	values?: readonly string[];
	/** Longest string (strings are 1..maxLength characters, '-' for empty). */
	maxLength?: number;
	/** As printed: '-' for an empty string. */
	default: string;
}

const int = (name: string, scope: Scope, def: number, min: number, max: number): SettingDef => ({name, scope, type: 'int', min, max, default: String(def)});
const lookup = (name: string, scope: Scope, def: string, values: readonly string[]): SettingDef => ({name, scope, type: 'lookup', values, default: def});
const text = (name: string, scope: Scope, maxLength: number): SettingDef => ({name, scope, type: 'string', maxLength, default: '-'});

const OFF_ON = ['OFF', 'ON'] as const;
const MOTOR_PROTOCOLS = ['PWM', 'ONESHOT125', 'ONESHOT42', 'MULTISHOT', 'BRUSHED', 'DSHOT150', 'DSHOT300', 'DSHOT600', 'PROSHOT1000', 'DISABLED'] as const;
const RATES_TYPES = ['BETAFLIGHT', 'RACEFLIGHT', 'KISS', 'ACTUAL', 'QUICK'] as const;

/** Betaflight 4.5 (4.5.6 SITL): names, defaults and ranges checked against the real firmware. */
const settings45: SettingDef[] = [
	int('gyro_lpf1_static_hz', 'master', 250, 0, 1000),
	int('gyro_lpf2_static_hz', 'master', 500, 0, 1000),
	lookup('motor_pwm_protocol', 'master', 'DISABLED', MOTOR_PROTOCOLS),
	int('motor_poles', 'master', 14, 4, 255),
	int('failsafe_delay', 'master', 15, 1, 200),
	int('align_board_roll', 'master', 0, -180, 360),
	int('vbat_max_cell_voltage', 'master', 430, 100, 500),
	lookup('yaw_motors_reversed', 'master', 'OFF', OFF_ON),
	int('small_angle', 'master', 25, 0, 180),
	text('craft_name', 'master', 16),
	text('profile_name', 'profile', 8),
	int('anti_gravity_gain', 'profile', 80, 0, 250),
	int('p_pitch', 'profile', 47, 0, 250),
	int('i_pitch', 'profile', 84, 0, 250),
	int('d_pitch', 'profile', 46, 0, 250),
	int('f_pitch', 'profile', 125, 0, 1000),
	int('p_roll', 'profile', 45, 0, 250),
	int('i_roll', 'profile', 80, 0, 250),
	int('d_roll', 'profile', 40, 0, 250),
	int('f_roll', 'profile', 120, 0, 1000),
	int('p_yaw', 'profile', 45, 0, 250),
	int('i_yaw', 'profile', 80, 0, 250),
	int('d_yaw', 'profile', 0, 0, 250),
	int('f_yaw', 'profile', 120, 0, 1000),
	int('d_min_roll', 'profile', 30, 0, 250),
	int('d_min_pitch', 'profile', 34, 0, 250),
	int('d_min_yaw', 'profile', 0, 0, 250),
	text('rateprofile_name', 'rateprofile', 8),
	int('thr_mid', 'rateprofile', 50, 0, 100),
	int('thr_expo', 'rateprofile', 0, 0, 100),
	lookup('rates_type', 'rateprofile', 'ACTUAL', RATES_TYPES),
	int('roll_rc_rate', 'rateprofile', 7, 1, 255),
	int('pitch_rc_rate', 'rateprofile', 7, 1, 255),
	int('yaw_rc_rate', 'rateprofile', 7, 1, 255),
	int('roll_expo', 'rateprofile', 0, 0, 100),
	int('pitch_expo', 'rateprofile', 0, 0, 100),
	int('yaw_expo', 'rateprofile', 0, 0, 100),
	int('roll_srate', 'rateprofile', 67, 0, 255),
	int('pitch_srate', 'rateprofile', 67, 0, 255),
	int('yaw_srate', 'rateprofile', 67, 0, 255),
];

/**
 * 2025.12 and later (2026.12.0-alpha SITL): `d_min_*` became `d_max_*` with D and D-max swapped,
 * so 4.5's names are rejected and the defaults moved; battery profiles hold the cell settings.
 */
const settings2025: SettingDef[] = settings45.flatMap((s) => {
	if (s.name === 'd_roll') return [{...s, default: '30'}];
	if (s.name === 'd_pitch') return [{...s, default: '34'}];
	if (s.name === 'd_min_roll') return [{...s, name: 'd_max_roll', default: '40'}];
	if (s.name === 'd_min_pitch') return [{...s, name: 'd_max_pitch', default: '46'}];
	if (s.name === 'd_min_yaw') return [{...s, name: 'd_max_yaw'}];
	if (s.name === 'vbat_max_cell_voltage') return [{...s, scope: 'battery_profile' as const}];
	return [s];
});

/** Betaflight's feature bits (names in bit order, as `feature` lists them). */
const featureNames = [
	'RX_PPM',
	'INFLIGHT_ACC_CAL',
	'RX_SERIAL',
	'MOTOR_STOP',
	'SERVO_TILT',
	'SOFTSERIAL',
	'GPS',
	'RANGEFINDER',
	'TELEMETRY',
	'3D',
	'RX_PARALLEL_PWM',
	'RX_MSP',
	'RSSI_ADC',
	'LED_STRIP',
	'DISPLAY',
	'OSD',
	'CHANNEL_FORWARDING',
	'TRANSPONDER',
	'AIRMODE',
	'RX_SPI',
	'ESC_SENSOR',
	'ANTI_GRAVITY',
] as const;

export interface Dialect {
	/** 2025.12 and later: calendar versions. */
	calendar: boolean;
	settings: readonly SettingDef[];
	features: readonly string[];
	defaultFeatures: readonly string[];
	profiles: number;
	rateProfiles: number;
	batteryProfiles: number;
	auxSlots: number;
	/** Serial port identifiers (0 = UART1 ...). */
	serialPorts: readonly number[];
	/** 2025.12+: ports are assigned with <FEATURE>_UART settings; `serial` only lists. */
	serialReadOnly: boolean;
}

export function dialectFor(version: string): Dialect {
	const calendar = Number(version.split('.')[0]) >= 2025;
	return {
		calendar,
		settings: calendar ? settings2025 : settings45,
		features: featureNames,
		defaultFeatures: ['GPS', 'TELEMETRY', 'RX_MSP', 'AIRMODE', 'ANTI_GRAVITY'],
		profiles: 4,
		rateProfiles: 4,
		batteryProfiles: calendar ? 3 : 0,
		auxSlots: 20,
		serialPorts: [0, 1, 2, 3, 4, 5, 6, 7],
		serialReadOnly: calendar,
	};
}

/** Which profile a scope's values belong to. */
export const scopeKey = (scope: Scope, index: number) => (scope === 'master' ? 'master' : `${scope} ${index}`);

export const DEFAULT_AUX = '0 0 900 900 0 0';
/** Function mask, MSP, GPS, telemetry and blackbox baud: UART1 carries MSP by default. */
export const defaultSerial = (id: number) => `${id === 0 ? 1 : 0} 115200 57600 0 115200`;
export const DEFAULT_MAP = 'AETR1234';

/** Everything the CLI can change, as it is kept in the config sector. Values are printed forms. */
export interface FcConfig {
	/** scopeKey -> setting name -> value; only values that differ from the defaults. */
	values: Record<string, Record<string, string>>;
	features: string[];
	aux: string[];
	serial: Record<number, string>;
	map: string;
	profile: number;
	rateProfile: number;
	batteryProfile: number;
}

export function defaultConfig(dialect: Dialect): FcConfig {
	return {
		values: {},
		features: [...dialect.defaultFeatures],
		aux: Array.from({length: dialect.auxSlots}, () => DEFAULT_AUX),
		serial: Object.fromEntries(dialect.serialPorts.map((id) => [id, defaultSerial(id)])),
		map: DEFAULT_MAP,
		profile: 0,
		rateProfile: 0,
		batteryProfile: 0,
	};
}

/** A config read back from storage, made whole against the dialect (missing parts take defaults). */
export function normaliseConfig(dialect: Dialect, stored: Partial<FcConfig>): FcConfig {
	const base = defaultConfig(dialect);
	const known = new Set(dialect.settings.map((s) => s.name));
	const values: FcConfig['values'] = {};
	for (const [scope, entries] of Object.entries(stored.values ?? {})) {
		for (const [name, value] of Object.entries(entries)) if (known.has(name) && typeof value === 'string') (values[scope] ??= {})[name] = value;
	}
	const features = Array.isArray(stored.features) ? stored.features.filter((f) => dialect.features.includes(f)) : base.features;
	const aux = base.aux.map((d, i) => (typeof stored.aux?.[i] === 'string' ? stored.aux[i]! : d));
	const serial = {...base.serial};
	for (const id of dialect.serialPorts) if (typeof stored.serial?.[id] === 'string') serial[id] = stored.serial[id]!;
	const index = (v: unknown, count: number) => (Number.isInteger(v) && (v as number) >= 0 && (v as number) < count ? (v as number) : 0);
	return {
		values,
		features,
		aux,
		serial,
		map: typeof stored.map === 'string' ? stored.map : base.map,
		profile: index(stored.profile, dialect.profiles),
		rateProfile: index(stored.rateProfile, dialect.rateProfiles),
		batteryProfile: index(stored.batteryProfile, Math.max(1, dialect.batteryProfiles)),
	};
}
