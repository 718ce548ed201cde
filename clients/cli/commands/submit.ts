/**
 * `submit [options] COMMAND...`: the argv travels to the server as a list, exactly as typed.
 * With --wait it follows the job like `flux run`: output to the matching stream, byte for byte,
 * and the job's exit code as the CLI's.
 */
import type { SubmitJobInit } from "../../sdk/index.js";
import { intOption, stringOption, type OptionValues } from "../args.js";
import { UsageError } from "../cli-error.js";
import type { Command, CliContext } from "../context.js";
import { followJob } from "./follow-job.js";

const URGENCY_WORDS: Readonly<Record<string, number>> = { hold: 0, default: 16, expedite: 31 };
const DURATION_UNITS: Readonly<Record<string, number>> = { "": 1, s: 1, m: 60, h: 3600, d: 86400 };

/** Seconds from "90", "1.5", or Flux's FSD ("30s", "2m", "1h", "1d"). */
export function parseRuntime(raw: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$/.exec(raw);
  if (!m) throw new UsageError(`--runtime must be seconds, or a number with s, m, h or d (got "${raw}")`);
  return Number(m[1]) * DURATION_UNITS[m[2]!]!;
}

function parseUrgency(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const word = URGENCY_WORDS[raw.trim().toLowerCase()];
  if (word !== undefined) return word;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) > 31) {
    throw new UsageError(`--urgency must be 0 to 31, hold, default or expedite (got "${raw}")`);
  }
  return Number(raw);
}

/** --env K=V sets a variable; --env K passes on the CLI's own value, as `flux submit --env=K` does. */
function parseEnv(pairs: readonly string[], env: CliContext["env"]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new UsageError(`--env needs NAME=VALUE or NAME (got "${pair}")`);
    if (eq >= 0) out[key] = pair.slice(eq + 1);
    else if (env[key] !== undefined) out[key] = env[key]!;
    else throw new UsageError(`--env ${key}: ${key} is not set here; give a value with ${key}=VALUE`);
  }
  return out;
}

/** --option_flags "k=v,k2" as job shell options; a key without a value means 1, as in `flux submit -o`. */
function parseOptionFlags(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of (raw ?? "").split(",")) {
    const text = item.trim();
    if (text === "") continue;
    const eq = text.indexOf("=");
    const key = (eq < 0 ? text : text.slice(0, eq)).trim();
    if (key === "") throw new UsageError(`--option_flags needs KEY=VALUE items separated by commas (got "${raw}")`);
    out[key] = eq < 0 ? "1" : text.slice(eq + 1).trim();
  }
  return out;
}

export function buildSubmitRequest(ctx: CliContext, options: OptionValues, command: string[]): SubmitJobInit {
  if (command.length === 0) throw new UsageError("no command given: flux-restful-cli submit [options] COMMAND [ARG...]");
  const runtime = stringOption(options, "runtime");
  return {
    command,
    numTasks: intOption(options, "num_tasks", 1),
    coresPerTask: intOption(options, "cores_per_task", 1),
    gpusPerTask: intOption(options, "gpus_per_task", 0),
    numNodes: intOption(options, "num_nodes", 1),
    exclusive: options.exclusive === true,
    isLauncher: options.is_launcher === true,
    workdir: stringOption(options, "workdir") ?? ctx.settings().workdir ?? "",
    environment: parseEnv((options.env as string[] | undefined) ?? [], ctx.env),
    shellOptions: parseOptionFlags(stringOption(options, "option_flags")),
    timeLimitSeconds: runtime === undefined ? 0 : parseRuntime(runtime),
    name: stringOption(options, "name") ?? "",
    urgency: parseUrgency(stringOption(options, "urgency")),
    queue: stringOption(options, "queue") ?? "",
  };
}

export const submitCommand: Command = {
  summary: "submit a job; with --wait, stream its output and exit with its exit code",
  usage:
    "submit [--workdir DIR] [--num_tasks N] [--cores_per_task N] [--gpus_per_task N] [--num_nodes N] [--exclusive]\n" +
    "       [--is_launcher] [--env K=V]... [--option_flags k=v,...] [--runtime SECONDS] [--name NAME]\n" +
    "       [--urgency N] [--queue QUEUE] [--wait] COMMAND [ARG...]",
  options: {
    workdir: { type: "string" },
    num_tasks: { type: "string" },
    cores_per_task: { type: "string" },
    gpus_per_task: { type: "string" },
    num_nodes: { type: "string" },
    exclusive: { type: "boolean" },
    is_launcher: { type: "boolean" },
    env: { type: "string", multiple: true },
    option_flags: { type: "string" },
    runtime: { type: "string" },
    name: { type: "string" },
    urgency: { type: "string" },
    queue: { type: "string" },
    wait: { type: "boolean" },
  },
  stopAtFirstPositional: true,
  async run(ctx, { options, positionals }) {
    const request = buildSubmitRequest(ctx, options, positionals);
    const id = await ctx.client().submit(request);
    if (options.wait !== true) {
      await ctx.print({ id });
      return 0;
    }
    return followJob(ctx, id);
  },
};
