/**
 * Builds the RFC 25 (jobspec v1) document for a JobRequest: the same document
 * `flux submit --dry-run` prints for the same request (flux-core
 * `JobspecV1.from_command` + `apply_options`), key order included, so what Flux
 * records for a job submitted here reads the same as for one submitted with `flux submit`.
 */
import path from "node:path";
import { InvalidJobRequestError } from "../backend-errors.js";
import type { JobRequest } from "../backend.js";

/** RFC 25 resource vertex. */
export interface ResourceVertex {
  type: "node" | "slot" | "core" | "gpu";
  count: number;
  exclusive?: true;
  with?: ResourceVertex[];
  label?: string;
}

export interface JobspecV1 {
  resources: ResourceVertex[];
  tasks: [{ command: string[]; slot: "task"; count: { per_slot: 1 } | { total: number } }];
  attributes: { system: Record<string, unknown>; user?: Record<string, unknown> };
  version: 1;
}

export interface JobspecOptions {
  /** The job's whole environment (flux submit copies the submitter's; we pass an allowlist plus the user's). */
  environment: Record<string, string>;
  /** Working directory used when the request leaves it empty. */
  defaultCwd: string;
  /**
   * Resource limits for shell.options.rlimit, as `flux submit` propagates them by default
   * (`--rlimit`). Omitted when undefined.
   */
  rlimit?: Record<string, number>;
}

// from_command: the core (and gpu) counts per slot; uneven -n/-N wastes slots, so tasks
// are then counted in total rather than per slot.
function resourcesFor(r: JobRequest): { resources: ResourceVertex[]; count: { per_slot: 1 } | { total: number } } {
  const children: ResourceVertex[] = [{ type: "core", count: r.coresPerTask }];
  if (r.gpusPerTask > 0) children.push({ type: "gpu", count: r.gpusPerTask });
  if (r.numNodes === undefined) {
    if (r.exclusive) {
      // flux-core's wording: "exclusive can only be set with a node count"
      throw new InvalidJobRequestError("exclusive", "exclusive can only be set with a node count");
    }
    return {
      resources: [{ type: "slot", count: r.numTasks, with: children, label: "task" }],
      count: { per_slot: 1 },
    };
  }
  if (r.numNodes > r.numTasks) {
    throw new InvalidJobRequestError("num_nodes", "node count must not be greater than task count");
  }
  const slots = Math.ceil(r.numTasks / r.numNodes);
  const node: ResourceVertex = { type: "node", count: r.numNodes };
  if (r.exclusive) node.exclusive = true;
  node.with = [{ type: "slot", count: slots, with: children, label: "task" }];
  return {
    resources: [node],
    count: r.numTasks % r.numNodes === 0 ? { per_slot: 1 } : { total: r.numTasks },
  };
}

/** `-o KEY=VALUE`: VALUE is JSON when it parses as JSON, else a string; KEY is a dotted path. */
function shellOptionValue(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function setTree(target: Record<string, unknown>, dotted: string, value: unknown, field: string): void {
  const parts = dotted.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (next === undefined) {
      const created: Record<string, unknown> = {};
      node[part] = created;
      node = created;
    } else if (typeof next === "object" && next !== null && !Array.isArray(next)) {
      node = next as Record<string, unknown>;
    } else {
      throw new InvalidJobRequestError(field, `cannot set "${dotted}": "${part}" is not an object`);
    }
  }
  node[parts[parts.length - 1]!] = value;
}

/**
 * Returns the jobspec for a request. Throws InvalidJobRequestError for what
 * flux-core's from_command refuses.
 *
 * ```ts
 * const jobspec = buildJobspec(request, { environment: env, defaultCwd: "/tmp/work" });
 * ```
 */
export function buildJobspec(request: JobRequest, options: JobspecOptions): JobspecV1 {
  if (request.command.length === 0) throw new InvalidJobRequestError("command", "command is required");
  const { resources, count } = resourcesFor(request);
  const system: Record<string, unknown> = {};
  // from_command starts with duration 0 (unlimited) and sets a float when a limit is given.
  system.duration = request.duration > 0 ? request.duration : 0;
  system.environment = { ...options.environment };
  system.cwd = request.cwd !== "" ? request.cwd : options.defaultCwd;
  // flux names a job after its command's base name when it has no name, so naming it
  // that way explicitly would only make the jobspec differ from flux submit's.
  if (request.name !== "" && request.name !== path.basename(request.command[0]!)) {
    system.job = { name: request.name };
  }
  if (request.queue !== "") system.queue = request.queue;
  const shellOptions: Record<string, unknown> = {};
  if (options.rlimit !== undefined) shellOptions.rlimit = { ...options.rlimit };
  for (const [key, raw] of Object.entries(request.shellOptions)) {
    setTree(shellOptions, key, shellOptionValue(raw), "shell_options");
  }
  if (Object.keys(shellOptions).length > 0) system.shell = { options: shellOptions };
  return {
    resources,
    tasks: [{ command: [...request.command], slot: "task", count }],
    attributes: { system },
    version: 1,
  };
}
