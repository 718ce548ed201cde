/**
 * Turns a SubmitJobRequest into a JobRequest, or throws InvalidArgument naming the
 * field. Rules that hold for every backend live here (they are Flux's own rules, with
 * Flux's wording where it has one); capacity checks belong to the backend.
 */
import path from "node:path";
import type { SubmitJobRequest } from "../../gen/flux/restful/v1/job_service_pb.js";
import type { JobRequest } from "../backends/backend.js";
import { invalidField, quoted } from "./error-mapping.js";

export interface SubmitLimits {
  /** Commands accepted with is_launcher (matched on the base name of argv[0]). */
  launchers: readonly string[];
  /** Shell options applied to every job before the request's own (FLUX_OPTION_FLAGS). */
  defaultShellOptions: Readonly<Record<string, string>>;
}

const MAX_ARGS = 4096;
const MAX_STRING = 64 * 1024;
const MAX_MAP_ENTRIES = 4096;
const MAX_COUNT = 1_000_000;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkString(field: string, value: string, max = MAX_STRING): void {
  if (value.length > max) invalid(field, `is too long (${value.length} characters, at most ${max})`);
  if (value.includes("\0")) invalid(field, "must not contain NUL characters");
}

function invalid(field: string, message: string): never {
  throw invalidField(field, message);
}

function count(field: string, value: number | undefined, min: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > MAX_COUNT) {
    invalid(field, `must be an integer from ${min} to ${MAX_COUNT} (got ${value})`);
  }
  return value;
}

function checkMap(field: string, map: Record<string, string>, keyRule?: RegExp): Record<string, string> {
  const entries = Object.entries(map);
  if (entries.length > MAX_MAP_ENTRIES) invalid(field, `has too many entries (${entries.length}, at most ${MAX_MAP_ENTRIES})`);
  for (const [k, v] of entries) {
    if (k === "") invalid(field, "keys must not be empty");
    if (keyRule && !keyRule.test(k)) invalid(field, `invalid name "${k.slice(0, 64)}"`);
    checkString(`${field}["${k.slice(0, 64)}"]`, k, 1024);
    checkString(`${field}["${k.slice(0, 64)}"]`, v);
  }
  return { ...map };
}

export function validateSubmit(req: SubmitJobRequest, limits: SubmitLimits): JobRequest {
  if (req.command.length === 0) invalid("command", "is required");
  if (req.command.length > MAX_ARGS) invalid("command", `has too many arguments (${req.command.length}, at most ${MAX_ARGS})`);
  if (req.command[0] === "") invalid("command", "the program name (first argument) must not be empty");
  req.command.forEach((arg, i) => checkString(`command[${i}]`, arg));

  const numTasks = count("num_tasks", req.numTasks, 1, 1);
  const coresPerTask = count("cores_per_task", req.coresPerTask, 1, 1);
  const gpusPerTask = count("gpus_per_task", req.gpusPerTask, 0, 0);
  const numNodes = req.numNodes === undefined ? undefined : count("num_nodes", req.numNodes, 1, 1);
  // Flux: "node count must not be greater than task count"
  if (numNodes !== undefined && numNodes > numTasks) {
    invalid("num_nodes", `must not be greater than num_tasks (${numNodes} > ${numTasks})`);
  }
  // Flux: "exclusive can only be set with a node count"
  if (req.exclusive && numNodes === undefined) invalid("exclusive", "can only be set with num_nodes");

  const limit = req.timeLimitSeconds;
  if (!Number.isFinite(limit) || limit < 0) invalid("time_limit_seconds", `must be 0 (none) or more (got ${limit})`);
  if (limit > 10 * 365 * 86400) invalid("time_limit_seconds", `is too large (got ${limit})`);

  const urgency = req.urgency ?? 16;
  if (!Number.isInteger(urgency) || urgency < 0 || urgency > 31) {
    invalid("urgency", `must be an integer from 0 to 31 (got ${urgency})`);
  }

  checkString("workdir", req.workdir, 4096);
  if (req.workdir !== "" && !path.isAbsolute(req.workdir)) invalid("workdir", `must be an absolute path (got "${quoted(req.workdir)}")`);
  checkString("name", req.name, 1024);
  checkString("queue", req.queue, 256);

  const environment = checkMap("environment", req.environment, ENV_NAME);
  const shellOptions = { ...limits.defaultShellOptions, ...checkMap("shell_options", req.shellOptions) };

  if (req.isLauncher) {
    const program = path.basename(req.command[0]!);
    if (!limits.launchers.includes(program)) {
      invalid("is_launcher", `"${quoted(program)}" is not an allowed launcher (allowed: ${limits.launchers.join(", ") || "none"})`);
    }
  }

  return {
    command: [...req.command],
    numTasks,
    coresPerTask,
    gpusPerTask,
    numNodes,
    exclusive: req.exclusive,
    cwd: req.workdir,
    environment,
    duration: limit,
    name: req.name !== "" ? req.name : path.basename(req.command[0]!),
    urgency,
    queue: req.queue,
    shellOptions,
    isLauncher: req.isLauncher,
  };
}
