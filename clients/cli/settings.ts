/**
 * The settings file (~/.flux-restful-cli/settings.yml, keys as in flux-restful-api 0.2) and
 * the precedence of every setting: flag > environment > user settings > central settings >
 * defaults. `--settings-file` replaces the user file for every command.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import { CliError, UsageError } from "./cli-error.js";

/** The keys a settings file may hold. */
export const SETTING_KEYS = ["host", "flux_user", "flux_token", "config_editor", "workdir"] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];
export type SettingsValues = { [K in SettingKey]: string | null };

export const DEFAULT_SETTINGS: Readonly<SettingsValues> = {
  host: "http://127.0.0.1:5000",
  flux_user: null,
  flux_token: null,
  config_editor: "vim",
  workdir: null,
};

export type Env = Readonly<Record<string, string | undefined>>;

/** Where the settings files are. */
export interface SettingsPaths {
  /** The user's file: --settings-file, else ~/.flux-restful-cli/settings.yml. */
  user: string;
  /** Whether the user file was named with --settings-file (then it must exist to be read). */
  explicit: boolean;
  /** The installation's file: FLUX_RESTFUL_CLI_CENTRAL_SETTINGS, else the one next to this module. */
  central: string;
}

export function settingsPaths(env: Env, settingsFile: string | undefined): SettingsPaths {
  const home = env.HOME || os.homedir();
  return {
    user: settingsFile ? path.resolve(settingsFile) : path.join(home, ".flux-restful-cli", "settings.yml"),
    explicit: settingsFile !== undefined,
    central: env.FLUX_RESTFUL_CLI_CENTRAL_SETTINGS || fileURLToPath(new URL("./settings.yml", import.meta.url)),
  };
}

export function isSettingKey(key: string): key is SettingKey {
  return (SETTING_KEYS as readonly string[]).includes(key);
}

/** Checks a value for a key; a host must be an http(s) URL. */
export function checkSetting(key: SettingKey, value: string | null, where: string): void {
  if (key === "host" && (value === null || !/^https?:\/\/[^/\s]+/.test(value))) {
    throw new CliError(`${where}: host must be an http:// or https:// URL (got "${value}")`);
  }
  if (key === "config_editor" && (value === null || value.trim() === "")) {
    throw new CliError(`${where}: config_editor must not be empty`);
  }
}

/** Reads and validates one settings file; missing file: {} unless `mustExist`. */
export function readSettingsFile(file: string, mustExist = false): Partial<SettingsValues> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" && !mustExist) return {};
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new CliError(`settings file "${file}" does not exist`);
    throw new CliError(`cannot read settings file "${file}": ${(e as Error).message}`);
  }
  let data: unknown;
  try {
    data = YAML.parse(text);
  } catch (e) {
    throw new CliError(`settings file "${file}" is not valid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== "object" || Array.isArray(data)) throw new CliError(`settings file "${file}" must be a mapping of keys to values`);
  const out: Partial<SettingsValues> = {};
  for (const [key, value] of Object.entries(data)) {
    if (!isSettingKey(key)) throw new CliError(`settings file "${file}": unknown key "${key}" (known: ${SETTING_KEYS.join(", ")})`);
    if (value !== null && typeof value !== "string" && typeof value !== "number") {
      throw new CliError(`settings file "${file}": ${key} must be a string or null`);
    }
    const v = value === null ? null : String(value);
    checkSetting(key, v, `settings file "${file}"`);
    out[key] = v;
  }
  return out;
}

/** Settings from the files alone (defaults < central < user), as `config get` shows them. */
export function loadFileSettings(paths: SettingsPaths): SettingsValues {
  return {
    ...DEFAULT_SETTINGS,
    ...readSettingsFile(paths.central),
    ...readSettingsFile(paths.user, paths.explicit),
  };
}

/** Parses "true"/"false"/"none"/"null" as 0.2 did; everything else stays text. */
export function parseSettingValue(raw: string): string | null {
  const v = raw.trim().toLowerCase();
  return v === "none" || v === "null" ? null : raw;
}

/** Sets a key in a settings file, keeping its comments; creates the file (mode 600) if needed. */
export function writeSetting(file: string, key: SettingKey, value: string | null): void {
  checkSetting(key, value, "config set");
  let doc: YAML.Document;
  try {
    doc = YAML.parseDocument(fs.readFileSync(file, "utf8"));
    if (doc.errors.length > 0) throw new CliError(`settings file "${file}" is not valid YAML: ${doc.errors[0]!.message.split("\n")[0]}`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    doc = new YAML.Document({});
  }
  if (doc.contents === null) doc.contents = doc.createNode({}) as YAML.Document["contents"];
  doc.set(key, value);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // The file may hold flux_token: keep it private to its owner.
  fs.writeFileSync(file, String(doc), { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}

/** Parses `-c set:KEY:VALUE` (0.2's on-the-fly setting); the value may contain ":". */
export function parseSetOverride(text: string): [SettingKey, string | null] {
  const m = /^set:([^:]+):(.*)$/s.exec(text);
  if (!m) throw new UsageError(`-c takes set:KEY:VALUE (got "${text}")`);
  const key = m[1]!;
  if (!isSettingKey(key)) throw new UsageError(`unknown setting "${key}" (known: ${SETTING_KEYS.join(", ")})`);
  const value = parseSettingValue(m[2]!);
  checkSetting(key, value, `-c ${text}`);
  return [key, value];
}

/** What a command runs with, after precedence. */
export interface EffectiveSettings {
  host: string;
  user: string | undefined;
  token: string | undefined;
  secretKey: string | undefined;
  workdir: string | undefined;
  editor: string;
}

/**
 * Applies the precedence flag > environment > files > defaults. `flags` holds --host and the
 * -c overrides.
 */
export function effectiveSettings(files: SettingsValues, env: Env, flags: Partial<SettingsValues>): EffectiveSettings {
  const pick = (...values: (string | null | undefined)[]) => values.find((v) => v !== undefined && v !== null && v !== "") ?? undefined;
  const host = pick(flags.host, env.FLUX_RESTFUL_HOST, files.host) ?? DEFAULT_SETTINGS.host!;
  checkSetting("host", host, "host");
  return {
    host,
    user: pick(flags.flux_user, env.FLUX_USER, files.flux_user),
    token: pick(flags.flux_token, env.FLUX_TOKEN, files.flux_token),
    secretKey: pick(env.FLUX_SECRET_KEY),
    workdir: pick(flags.workdir, files.workdir),
    editor: pick(flags.config_editor, env.EDITOR, env.VISUAL, files.config_editor) ?? DEFAULT_SETTINGS.config_editor!,
  };
}
