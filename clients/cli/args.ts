/**
 * A small argument parser: long options (`--name value`, `--name=value`), booleans,
 * repeatable options, and an option to stop at the first positional so that a command's own
 * flags (`submit sh -c ...`) are left alone. "-" and "_" are the same in option names, so
 * 0.2's `--num_tasks` and `--num-tasks` both work.
 */
import { UsageError } from "./cli-error.js";

export interface OptionSpec {
  type: "string" | "boolean";
  /** Collects every occurrence into a list. */
  multiple?: boolean;
  /** A one-letter alias, e.g. "c" for -c. */
  short?: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;
export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export interface ParsedArgs {
  options: OptionValues;
  positionals: string[];
}

export interface ParseOptions {
  /** Everything from the first positional on is positional (a command and its arguments). */
  stopAtFirstPositional?: boolean;
}

const normalize = (name: string) => name.replace(/-/g, "_");

export function parseArgs(argv: readonly string[], specs: OptionSpecs, parse: ParseOptions = {}): ParsedArgs {
  const options: OptionValues = {};
  const positionals: string[] = [];
  const byShort = new Map(Object.entries(specs).flatMap(([k, s]) => (s.short ? [[s.short, k] as const] : [])));

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith("--") && arg.length > 2) {
      const eq = arg.indexOf("=");
      name = normalize(eq > 0 ? arg.slice(2, eq) : arg.slice(2));
      inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    } else if (/^-[A-Za-z]$/.test(arg)) {
      name = byShort.get(arg.slice(1));
      if (name === undefined) throw new UsageError(`unknown option "${arg}"`);
    }
    if (name === undefined) {
      if (parse.stopAtFirstPositional) {
        positionals.push(...argv.slice(i));
        break;
      }
      positionals.push(arg);
      continue;
    }
    const spec = specs[name];
    if (!spec) throw new UsageError(`unknown option "${arg}"`);
    let value: string | boolean;
    if (spec.type === "boolean") {
      if (inline !== undefined) throw new UsageError(`option --${name} takes no value (got "${arg}")`);
      value = true;
    } else {
      value = inline ?? argv[++i] ?? "";
      if (inline === undefined && i >= argv.length) throw new UsageError(`option --${name} needs a value`);
    }
    if (spec.multiple) ((options[name] ??= []) as string[]).push(String(value));
    else options[name] = value;
  }
  return { options, positionals };
}

/** A string option, or undefined. */
export function stringOption(options: OptionValues, name: string): string | undefined {
  const v = options[name];
  return typeof v === "string" ? v : undefined;
}

/** A whole number option within [min, max], or undefined; a UsageError for anything else. */
export function intOption(options: OptionValues, name: string, min: number, max = 2 ** 31 - 1): number | undefined {
  const raw = stringOption(options, name);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
  }
  return Number(raw);
}
