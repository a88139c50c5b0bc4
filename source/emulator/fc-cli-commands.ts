// The emulated Betaflight CLI: line editing with echo, the `# ` prompt and the commands a settings
// backup and restore use (set, get, profiles, feature, aux, serial, map, diff, dump, defaults,
// batch, save, exit, bl), with the texts the real firmware prints (checked against a transcript of
// the 4.5.6 SITL build, test/fixtures/betaflight-4.5.6-cli.txt). It edits a working copy of the
// config; `save` hands it to the firmware to write and reboot, `exit` drops it.
import {DEFAULT_AUX, DEFAULT_MAP, defaultConfig, defaultSerial, scopeKey, type Dialect, type FcConfig, type Scope, type SettingDef} from './fc-settings.js';

export interface CliHost {
	/** `# Betaflight / STM32F7X2 (S7X2) 4.5.1 ...`'s text after the `# `. */
	ident: string;
	mcuId: string;
	dialect: Dialect;
	/** Text to the host. */
	print(text: string): void;
	/** Write the config to the config sector (save, defaults). */
	save(config: FcConfig): void;
	/** Reboot into the firmware again or into the ROM bootloader; nothing after this is read. */
	reboot(target: 'firmware' | 'bootloader'): void;
	/** A build without the `bl` command (tests: the reboot must come another way). */
	withoutBl?: boolean;
}

const LINE_MAX = 256;
const CRLF = '\r\n';
const PROMPT = '\r\n# ';

export class EmulatedCli {
	private line = '';
	private batchActive = false;
	private batchError = false;
	private stopped = false;

	constructor(
		private readonly host: CliHost,
		private config: FcConfig,
	) {}

	/** The config as the CLI has it (with unsaved changes). */
	get current(): FcConfig {
		return this.config;
	}

	/** `#` was received in MSP mode. */
	enter() {
		this.host.print(`${CRLF}Entering CLI Mode, type 'exit' to reboot, or 'help'${CRLF}`);
		this.host.print(PROMPT);
	}

	/** One byte from the host, as Betaflight's processCharacterInteractive takes it. */
	input(c: number) {
		if (this.stopped) return;
		if (c === 0x0d || c === 0x0a) {
			if (!this.line) return; // an empty line does nothing at all
			const line = this.line.trim();
			this.line = '';
			this.host.print(CRLF);
			if (this.execute(line)) this.host.print(PROMPT);
			return;
		}
		if (c === 0x08 || c === 0x7f) {
			if (this.line) {
				this.line = this.line.slice(0, -1);
				this.host.print('\x08 \x08');
			}
			return;
		}
		if (c < 0x20 || c > 0x7e) return;
		if (!this.line && c === 0x20) return;
		if (this.line.length >= LINE_MAX) return;
		const ch = String.fromCharCode(c);
		this.line += ch;
		this.host.print(ch);
	}

	// ---- commands ----------------------------------------------------------------------------

	/** Runs one line; false when the board is rebooting (no prompt follows). */
	private execute(line: string): boolean {
		if (line.startsWith('#')) return true;
		const space = line.indexOf(' ');
		const name = (space < 0 ? line : line.slice(0, space)).toLowerCase();
		const args = space < 0 ? '' : line.slice(space + 1).trim();
		const command = Object.hasOwn(this.commands, name) ? this.commands[name] : undefined;
		if (!command) {
			this.error('input', "UNKNOWN COMMAND, TRY 'HELP'", false);
			return true;
		}
		return command(args) !== false;
	}

	private readonly commands: Record<string, (args: string) => boolean | void> = {
		set: (args) => this.set(args),
		get: (args) => this.get(args),
		profile: (args) => this.selectProfile('profile', args),
		rateprofile: (args) => this.selectProfile('rateprofile', args),
		battery_profile: (args) => (this.host.dialect.batteryProfiles ? this.selectProfile('battery_profile', args) : this.error('input', "UNKNOWN COMMAND, TRY 'HELP'", false)),
		feature: (args) => this.feature(args),
		aux: (args) => this.aux(args),
		serial: (args) => this.serial(args),
		map: (args) => this.map(args),
		diff: (args) => this.host.print(this.render(/\ball\b/i.test(args), true)),
		dump: (args) => this.host.print(this.render(/\ball\b/i.test(args), false)),
		defaults: (args) => this.defaults(args),
		save: () => this.save(),
		exit: () => {
			this.host.print(`${CRLF}# leaving CLI mode, unsaved changes lost${CRLF}${CRLF}Rebooting`);
			return this.stop('firmware');
		},
		bl: (args) => {
			if (this.host.withoutBl) return this.error('input', "UNKNOWN COMMAND, TRY 'HELP'", false);
			if (args && args.toLowerCase() !== 'rom') return this.error('bl', 'INVALID ARGUMENT');
			this.host.print(`${CRLF}# restarting in ROM bootloader mode${CRLF}${CRLF}Rebooting`);
			return this.stop('bootloader');
		},
		batch: (args) => this.batch(args),
		mcu_id: () => this.host.print(`mcu_id ${this.host.mcuId}${CRLF}`),
		version: () => this.host.print(`# ${this.host.ident}${CRLF}`),
		signature: () => this.host.print(`signature ${CRLF}`),
		board_name: () => this.host.print(`board_name ${CRLF}`),
		manufacturer_id: () => this.host.print(`manufacturer_id ${CRLF}`),
	};

	/** `###ERROR IN cmd: text###`; inside a batch it also marks the batch as failed. */
	private error(command: string, text: string, lineEnd = true) {
		this.host.print(`###ERROR IN ${command}: ${text}###${lineEnd ? CRLF : ''}`);
		if (this.batchActive) this.batchError = true;
	}

	private stop(target: 'firmware' | 'bootloader'): false {
		this.stopped = true;
		this.host.reboot(target);
		return false;
	}

	private indexOf(scope: Scope): number {
		return scope === 'profile' ? this.config.profile : scope === 'rateprofile' ? this.config.rateProfile : scope === 'battery_profile' ? this.config.batteryProfile : 0;
	}

	private valueOf(def: SettingDef): string {
		return this.config.values[scopeKey(def.scope, this.indexOf(def.scope))]?.[def.name] ?? def.default;
	}

	private store(def: SettingDef, value: string) {
		const key = scopeKey(def.scope, this.indexOf(def.scope));
		const entries = (this.config.values[key] ??= {});
		if (value === def.default) delete entries[def.name];
		else entries[def.name] = value;
	}

	private find(name: string): SettingDef | undefined {
		const wanted = name.toLowerCase();
		return this.host.dialect.settings.find((s) => s.name === wanted);
	}

	private set(args: string) {
		const eq = args.indexOf('=');
		if (eq < 0) {
			if (!args) {
				for (const def of this.host.dialect.settings) this.host.print(`${def.name} = ${this.valueOf(def)}${CRLF}`);
				return;
			}
			return this.error('set', `INVALID NAME: ${args}`);
		}
		const def = this.find(args.slice(0, eq).trim());
		if (!def) return this.error('set', `INVALID NAME: ${args}`);
		const raw = args.slice(eq + 1).trim();
		const value = this.parse(def, raw);
		if (value === undefined) {
			this.error('set', 'INVALID VALUE');
			this.host.print(`${this.describe(def)}${CRLF}`);
			return;
		}
		this.store(def, value);
		this.host.print(`${def.name} set to ${value}`);
	}

	/** The printed form the firmware stores, or undefined when the firmware refuses the value. */
	private parse(def: SettingDef, raw: string): string | undefined {
		if (def.type === 'int') {
			// atoi: leading digits only, so `abc` is 0 (the real firmware says "set to 0" too).
			const m = /^\s*([+-]?\d+)/.exec(raw);
			const n = m ? Number(m[1]) : 0;
			return n < def.min! || n > def.max! ? undefined : String(n);
		}
		if (def.type === 'lookup') return def.values!.find((v) => v.toLowerCase() === raw.toLowerCase());
		if (raw === '-') return '-';
		if (raw.length < 1 || raw.length > def.maxLength!) {
			this.error('set', `STRING MUST BE 1-${def.maxLength} CHARACTERS OR '-' FOR EMPTY`);
			return undefined;
		}
		return raw;
	}

	private describe(def: SettingDef): string {
		if (def.type === 'int') return `Allowed range: ${def.min} - ${def.max}`;
		if (def.type === 'lookup') return `Allowed values: ${def.values!.join(', ')}`;
		return `String length: 1 - ${def.maxLength}`;
	}

	private get(args: string) {
		const wanted = args.toLowerCase();
		const matches = this.host.dialect.settings.filter((s) => wanted && s.name.includes(wanted));
		if (!matches.length) return this.error('get', `INVALID NAME: ${args}`);
		matches.forEach((def, i) => {
			if (i > 0) this.host.print(CRLF);
			const value = this.valueOf(def);
			this.host.print(`${def.name} = ${value}${CRLF}`);
			if (def.scope !== 'master') this.host.print(`${def.scope} ${this.indexOf(def.scope)}${CRLF}`);
			this.host.print(`${this.describe(def)}${CRLF}`);
			if (value !== def.default) this.host.print(`Default value: ${def.default}${CRLF}`);
		});
	}

	private counts(scope: Scope): number {
		const d = this.host.dialect;
		return scope === 'profile' ? d.profiles : scope === 'rateprofile' ? d.rateProfiles : d.batteryProfiles;
	}

	private selectProfile(scope: 'profile' | 'rateprofile' | 'battery_profile', args: string) {
		if (args) {
			const n = /^\d+$/.test(args) ? Number(args) : -1;
			const count = this.counts(scope);
			if (n < 0 || n >= count) return this.error(scope, `${scope.toUpperCase()} OUTSIDE OF [0..${count - 1}]`);
			if (scope === 'profile') this.config.profile = n;
			else if (scope === 'rateprofile') this.config.rateProfile = n;
			else this.config.batteryProfile = n;
		}
		this.host.print(`${scope} ${this.indexOf(scope)}${CRLF}`);
	}

	private feature(args: string) {
		const d = this.host.dialect;
		if (!args) {
			const enabled = d.features.filter((f) => this.config.features.includes(f));
			if (d.calendar) {
				const available = d.features.filter((f) => !this.config.features.includes(f));
				this.host.print(`Enabled: ${enabled.map((f) => ` ${f}`).join('')}${CRLF}Available: ${available.map((f) => ` ${f}`).join('')}${CRLF}Unavailable:${CRLF}`);
			} else {
				this.host.print(`Enabled: ${enabled.map((f) => `${f} `).join('')}${CRLF}`);
			}
			return;
		}
		const off = args.startsWith('-');
		const name = (off ? args.slice(1) : args).trim().toUpperCase();
		if (!d.features.includes(name)) return this.error('feature', `INVALID NAME: ${off ? args.slice(1).trim() : args}`);
		const rest = this.config.features.filter((f) => f !== name);
		this.config.features = off ? rest : [...rest, name];
		this.host.print(`${off ? 'Disabled' : 'Enabled'} ${name}${CRLF}`);
	}

	private aux(args: string) {
		const slots = this.config.aux;
		if (!args) {
			slots.forEach((v, i) => this.host.print(`aux ${i} ${v}${CRLF}`));
			return;
		}
		const parts = args.split(/\s+/);
		const index = Number(parts[0]);
		if (!/^\d+$/.test(parts[0]!) || index >= slots.length) return this.error('aux', `INDEX NOT BETWEEN 0 AND ${slots.length - 1}`);
		if (parts.length !== 7 || !parts.slice(1).every((p) => /^-?\d+$/.test(p))) return this.error('aux', 'INVALID ARGUMENT COUNT');
		slots[index] = parts.slice(1).join(' ');
		this.host.print(`aux ${index} ${slots[index]}${CRLF}`);
	}

	private portName(id: number): string {
		return this.host.dialect.calendar ? `UART${id + 1}` : String(id);
	}

	private serial(args: string) {
		const d = this.host.dialect;
		if (!args) {
			for (const id of d.serialPorts) this.host.print(`serial ${this.portName(id)} ${this.config.serial[id]}${CRLF}`);
			return;
		}
		if (d.serialReadOnly) return this.error('serial', 'READ ONLY, ASSIGN PORTS WITH THE <FEATURE>_UART SETTINGS');
		const parts = args.split(/\s+/);
		const id = Number(parts[0]);
		if (!d.serialPorts.includes(id) || parts.length !== 6 || !parts.every((p) => /^\d+$/.test(p))) return this.error('serial', 'INVALID ARGUMENT COUNT');
		this.config.serial[id] = parts.slice(1).join(' ');
		this.host.print(`serial ${id} ${this.config.serial[id]}${CRLF}`);
	}

	private map(args: string) {
		if (args) {
			const map = args.toUpperCase();
			if (!/^[AETR1234]{8}$/.test(map) || new Set(map).size !== 8) return this.error('map', 'INVALID MAP');
			this.config.map = map;
		}
		this.host.print(`map ${this.config.map}${CRLF}`);
	}

	private batch(args: string) {
		const what = args.toLowerCase();
		if (what === 'start') {
			this.batchActive = true;
			this.batchError = false;
			return this.host.print(`Command batch started${CRLF}`);
		}
		if (what === 'end') {
			const failed = this.batchActive && this.batchError;
			this.batchActive = false;
			this.batchError = false;
			if (failed) return this.host.print(`###ERROR IN batch: ERRORS WERE DETECTED - PLEASE REVIEW BEFORE CONTINUING###${CRLF}`);
			return this.host.print(`Command batch ended${CRLF}`);
		}
		return this.error('batch', 'INVALID ARGUMENT');
	}

	private defaults(args: string) {
		const nosave = args.toLowerCase() === 'nosave';
		if (args && !nosave) return this.error('defaults', 'INVALID ARGUMENT');
		this.config = defaultConfig(this.host.dialect);
		this.host.print(`${CRLF}# resetting to defaults${CRLF}`);
		if (nosave) return;
		this.host.save(this.config);
		this.host.print(`${CRLF}Rebooting`);
		return this.stop('firmware');
	}

	private save() {
		if (this.batchActive && this.batchError) {
			// Betaflight refuses to save a batch that had errors; the refusal itself counts as the
			// warning (a `batch end` after it says "ended" without an error), as does `batch end`.
			this.host.print(`###ERROR IN save: ERRORS WERE DETECTED - PLEASE REVIEW BEFORE CONTINUING###${CRLF}`);
			this.host.print(`###ERROR IN save: PLEASE FIX ERRORS THEN 'SAVE'###${CRLF}`);
			this.batchError = false;
			return;
		}
		this.host.print(`${CRLF}# saving${CRLF}`);
		this.host.save(this.config);
		this.host.print(`${CRLF}Rebooting`);
		return this.stop('firmware');
	}

	// ---- diff and dump ---------------------------------------------------------------------------

	/** `diff` / `diff all` (only what differs from the defaults) and `dump` / `dump all` (everything). */
	private render(all: boolean, diff: boolean): string {
		const d = this.host.dialect;
		const c = this.config;
		const out: string[] = [];
		const hash = (text: string) => out.push(`${CRLF}# ${text}${CRLF}`);
		const section = (title: string, lines: string[]) => {
			if (!lines.length) return;
			hash(title);
			for (const l of lines) out.push(`${l}${CRLF}`);
		};
		hash('version');
		out.push(`# ${this.host.ident}${CRLF}`);
		hash('start the command batch');
		out.push(`batch start${CRLF}`);
		if (all && diff) {
			hash('reset configuration to default settings');
			out.push(`defaults nosave${CRLF}`);
		}
		out.push(CRLF);
		if (!diff) out.push(`board_name ${CRLF}manufacturer_id ${CRLF}`);
		if (all || !diff) out.push(`mcu_id ${this.host.mcuId}${CRLF}signature ${CRLF}`);
		const craft = c.values.master?.craft_name;
		if (craft || !diff) hash(`name: ${craft ?? '-'}`);
		const defaults = d.defaultFeatures;
		section(
			'feature',
			diff
				? [
						...d.features.filter((f) => defaults.includes(f) && !c.features.includes(f)).map((f) => `feature -${f}`),
						...d.features.filter((f) => !defaults.includes(f) && c.features.includes(f)).map((f) => `feature ${f}`),
					]
				: [...d.features.map((f) => `feature -${f}`), ...d.features.filter((f) => c.features.includes(f)).map((f) => `feature ${f}`)],
		);
		section(
			'serial',
			d.serialPorts.filter((id) => !diff || c.serial[id] !== defaultSerial(id)).map((id) => `serial ${this.portName(id)} ${c.serial[id]}`),
		);
		section('map', !diff || c.map !== DEFAULT_MAP ? [`map ${c.map}`] : []);
		section(
			'aux',
			c.aux.flatMap((v, i) => (diff && v === DEFAULT_AUX ? [] : [`aux ${i} ${v}`])),
		);
		const sets = (scope: Scope, index: number) =>
			d.settings
				.filter((s) => s.scope === scope && (!diff || c.values[scopeKey(scope, index)]?.[s.name] !== undefined))
				.map((s) => `set ${s.name} = ${c.values[scopeKey(scope, index)]?.[s.name] ?? s.default}`);
		section('master', sets('master', 0));
		const profiles = (scope: Scope, current: number) => {
			const indexes = all || !diff ? [...Array(this.counts(scope)).keys()] : [current];
			for (const i of indexes) {
				out.push(`${CRLF}${scope} ${i}${CRLF}`);
				section(`${scope} ${i}`, sets(scope, i));
			}
		};
		profiles('profile', c.profile);
		if (all || !diff) {
			hash('restore original profile selection');
			out.push(`profile ${c.profile}${CRLF}`);
		}
		profiles('rateprofile', c.rateProfile);
		if (d.batteryProfiles) profiles('battery_profile', c.batteryProfile);
		if (all || !diff) {
			hash('restore original rateprofile selection');
			out.push(`rateprofile ${c.rateProfile}${CRLF}`);
			if (d.batteryProfiles) {
				hash('restore original battery_profile selection');
				out.push(`battery_profile ${c.batteryProfile}${CRLF}`);
			}
			hash('save configuration');
			out.push('save');
		} else {
			hash('end the command batch');
			out.push(`batch end${CRLF}`);
		}
		return out.join('');
	}
}
