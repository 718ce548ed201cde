/**
 * The submit form's fields and how their text becomes a SubmitJobRequest. Each field is
 * named after the request field its errors name, so a server message such as
 * "num_nodes: must not be greater than num_tasks (3 > 1)" lands next to the Nodes box.
 */
import { split } from "shlex";
import type { SubmitJobInit } from "../../../sdk/index.js";

/** A problem found before sending, worded like the server's: "<field>: <message>". */
export class FieldError extends Error {
  override name = "FieldError" as const;
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** The raw values of the form, as typed. */
export interface SubmitFormValues {
  command: string;
  useShell: boolean;
  name: string;
  numTasks: string;
  coresPerTask: string;
  gpusPerTask: string;
  numNodes: string;
  exclusive: boolean;
  workdir: string;
  timeLimit: string;
  timeLimitUnit: "s" | "m" | "h";
  urgency: string;
  queue: string;
  environment: string;
  shellOptions: string;
  isLauncher: boolean;
  /** Number boxes whose text the browser could not read as a number. */
  unreadable: string[];
}

const UNIT_SECONDS = { s: 1, m: 60, h: 3600 } as const;

function count(field: string, text: string): number | undefined {
  const t = text.trim();
  if (t === "") return undefined;
  const n = Number(t);
  if (!Number.isInteger(n)) throw new FieldError(field, `must be a whole number (got "${t}")`);
  return n;
}

/** Parses "NAME=value" lines; blank lines and lines starting with # are skipped. */
export function parsePairs(field: string, text: string, defaultValue?: string): Record<string, string> {
  const out: Record<string, string> = {};
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/\r$/, "");
    if (line.trim() === "" || line.trimStart().startsWith("#")) return;
    const eq = line.indexOf("=");
    if (eq === -1 && defaultValue === undefined) throw new FieldError(field, `line ${i + 1}: expected NAME=value (got "${line.slice(0, 64)}")`);
    const key = (eq === -1 ? line : line.slice(0, eq)).trim();
    if (key === "") throw new FieldError(field, `line ${i + 1}: the name before "=" is missing`);
    out[key] = eq === -1 ? defaultValue! : line.slice(eq + 1);
  });
  return out;
}

/** The argv for the command box: split like a shell would, or handed to sh -c whole. */
export function commandArgv(text: string, useShell: boolean): string[] {
  if (text.trim() === "") throw new FieldError("command", "is required");
  if (useShell) return ["sh", "-c", text];
  try {
    return split(text);
  } catch (e) {
    throw new FieldError("command", `cannot be split into arguments: ${e instanceof Error ? e.message.toLowerCase() : String(e)}`);
  }
}

/** Builds the request, or throws FieldError for what can be told without the server. */
export function toSubmitRequest(v: SubmitFormValues): SubmitJobInit {
  const unreadable = v.unreadable[0];
  if (unreadable) throw new FieldError(unreadable, "is not a number");
  const limit = v.timeLimit.trim() === "" ? 0 : Number(v.timeLimit);
  if (!Number.isFinite(limit)) throw new FieldError("time_limit_seconds", `is not a number (got "${v.timeLimit}")`);
  return {
    command: commandArgv(v.command, v.useShell),
    name: v.name.trim(),
    numTasks: count("num_tasks", v.numTasks),
    coresPerTask: count("cores_per_task", v.coresPerTask),
    gpusPerTask: count("gpus_per_task", v.gpusPerTask),
    numNodes: count("num_nodes", v.numNodes),
    exclusive: v.exclusive,
    workdir: v.workdir.trim(),
    timeLimitSeconds: limit * UNIT_SECONDS[v.timeLimitUnit],
    urgency: count("urgency", v.urgency),
    queue: v.queue.trim(),
    environment: parsePairs("environment", v.environment),
    // flux submit -o KEY without a value sets it to 1.
    shellOptions: parsePairs("shell_options", v.shellOptions, "1"),
    isLauncher: v.isLauncher,
  };
}
