/**
 * `config [--central] get|set|edit|inituser`: the settings files. Without --central they act
 * on the user's file (or --settings-file); the installation's central file is written only
 * when --central asks for it (0.2 wrote into the installed package whenever no user file existed).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { split } from "shlex";
import { CliError, UsageError } from "../cli-error.js";
import type { CliContext, Command } from "../context.js";
import {
  DEFAULT_SETTINGS,
  SETTING_KEYS,
  isSettingKey,
  loadFileSettings,
  parseSettingValue,
  readSettingsFile,
  writeSetting,
  type SettingKey,
  type SettingsValues,
} from "../settings.js";

const SUBCOMMANDS = "get, set, edit or inituser";

function targetFile(ctx: CliContext, central: boolean): string {
  return central ? ctx.paths.central : ctx.paths.user;
}

async function get(ctx: CliContext, central: boolean, keys: string[]): Promise<void> {
  for (const key of keys) if (!isSettingKey(key)) throw new UsageError(`unknown setting "${key}" (known: ${SETTING_KEYS.join(", ")})`);
  const values: SettingsValues = central ? { ...DEFAULT_SETTINGS, ...readSettingsFile(ctx.paths.central) } : loadFileSettings(ctx.paths);
  const asked = (keys.length > 0 ? keys : SETTING_KEYS) as SettingKey[];
  if (ctx.flags.json) {
    await ctx.print(Object.fromEntries(asked.map((k) => [k, values[k]])));
    return;
  }
  for (const key of asked) {
    const value = values[key];
    // A listing of everything does not print the token; asking for it by name does.
    const shown = value === null ? "is unset" : key === "flux_token" && keys.length === 0 ? "(set)" : value;
    await ctx.write(`${key.padEnd(30)} ${shown}\n`);
  }
}

async function set(ctx: CliContext, central: boolean, params: string[]): Promise<void> {
  let key: string;
  let raw: string;
  if (params.length === 2) [key, raw] = params as [string, string];
  else if (params.length === 1 && params[0]!.includes(":")) {
    const at = params[0]!.indexOf(":");
    key = params[0]!.slice(0, at);
    raw = params[0]!.slice(at + 1);
  } else throw new UsageError("config set needs KEY VALUE (or KEY:VALUE)");
  if (!isSettingKey(key)) throw new UsageError(`unknown setting "${key}" (known: ${SETTING_KEYS.join(", ")})`);
  const file = targetFile(ctx, central);
  readSettingsFile(file); // refuse to rewrite a file that is already broken
  writeSetting(file, key, parseSettingValue(raw));
  await ctx.note(`flux-restful-cli: ${key} set in ${file}`);
}

function copyCentral(ctx: CliContext, to: string): void {
  fs.mkdirSync(path.dirname(to), { recursive: true, mode: 0o700 });
  let text: string;
  try {
    text = fs.readFileSync(ctx.paths.central, "utf8");
  } catch {
    text = "";
  }
  fs.writeFileSync(to, text, { mode: 0o600, flag: "wx" });
}

async function inituser(ctx: CliContext): Promise<void> {
  const file = ctx.paths.user;
  if (fs.existsSync(file)) throw new CliError(`"${file}" already exists; remove it first to re-create it`);
  copyCentral(ctx, file);
  await ctx.note(`flux-restful-cli: created ${file}`);
}

async function edit(ctx: CliContext, central: boolean): Promise<void> {
  const file = targetFile(ctx, central);
  if (!fs.existsSync(file)) {
    if (central) throw new CliError(`central settings file "${file}" does not exist`);
    copyCentral(ctx, file);
  }
  const editor = ctx.settings().editor;
  const [program, ...args] = split(editor);
  if (!program) throw new CliError(`no editor: set EDITOR, or run flux-restful-cli config set config_editor NAME`);
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(program, [...args, file], { stdio: "inherit" });
    child.on("error", (e: NodeJS.ErrnoException) =>
      reject(
        e.code === "ENOENT"
          ? new CliError(`editor "${program}" not found; set EDITOR, or run flux-restful-cli config set config_editor NAME`)
          : e,
      ),
    );
    child.on("close", (status, signal) => resolve(status ?? (signal ? 128 : 1)));
  });
  if (code !== 0) throw new CliError(`editor "${editor}" exited with status ${code}`);
  readSettingsFile(file, true);
}

export const configCommand: Command = {
  summary: "read and change the settings files",
  usage: "config [--central] get [KEY...] | set KEY VALUE | edit | inituser",
  options: { central: { type: "boolean" } },
  offline: true,
  async run(ctx, { positionals, options }) {
    const [sub, ...params] = positionals;
    const central = options.central === true;
    switch (sub) {
      case "get":
        await get(ctx, central, params);
        return 0;
      case "set":
        await set(ctx, central, params);
        return 0;
      case "edit":
        if (params.length > 0) throw new UsageError("config edit takes no arguments");
        await edit(ctx, central);
        return 0;
      case "inituser":
        if (params.length > 0 || central) throw new UsageError("config inituser takes no arguments");
        await inituser(ctx);
        return 0;
      case undefined:
        throw new UsageError(`config needs a subcommand: ${SUBCOMMANDS}`);
      default:
        throw new UsageError(`"${sub}" is not a config subcommand (expected ${SUBCOMMANDS})`);
    }
  },
};
