/**
 * Reads a 0.2 submit request into a SubmitJobRequest. Fields come from the query string
 * (0.2), from form fields (httpx `data=`), or from a JSON body holding the fields (0.1, and
 * what the 0.2 client resends after a 401); a JSON body without `command` is the
 * environment map, as in 0.2. A command string is split shell-like (Python's shlex, as
 * 0.2 did); a list is kept as argv. Only parsing happens here: the job service validates.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { split } from "shlex";
import type { SubmitJobRequestSchema } from "../../gen/flux/restful/v1/job_service_pb.js";
import { parseBoolParam, parseIntParam, type ParsedBody } from "./http-io.js";
import { RestInputError } from "./legacy-errors.js";
import { parsePythonDict } from "./python-dict.js";

export type SubmitInit = MessageInitShape<typeof SubmitJobRequestSchema>;

/** The fields 0.2 accepted, and nothing else. */
export const SUBMIT_FIELDS = [
  "command",
  "num_tasks",
  "cores_per_task",
  "gpus_per_task",
  "num_nodes",
  "exclusive",
  "option_flags",
  "workdir",
  "runtime",
  "is_launcher",
  "envars",
] as const;
type SubmitField = (typeof SUBMIT_FIELDS)[number];

/** Service field names as the 0.2 caller knows them, for error messages. */
export const SUBMIT_FIELD_ALIASES: Readonly<Record<string, string>> = {
  time_limit_seconds: "runtime",
  shell_options: "option_flags",
  environment: "envars",
};

type Raw = { kind: "text"; value: string } | { kind: "json"; value: unknown };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function scalarText(field: string, v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  throw new RestInputError(`${field}: values must be strings (got ${JSON.stringify(v)})`);
}

function toCommand(raw: Raw): string[] {
  if (raw.kind === "json" && Array.isArray(raw.value)) return raw.value.map((v, i) => scalarText(`command[${i}]`, v));
  const text = raw.value;
  if (typeof text !== "string") throw new RestInputError("command: must be a string or a list of strings");
  try {
    return split(text);
  } catch (e) {
    throw new RestInputError(`command: cannot be split like a shell command: ${(e as Error).message.toLowerCase()}`);
  }
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** An integer for an int32 field of the request (the service checks the real range). */
function toInt(field: string, raw: Raw): number | undefined {
  let n: number | undefined;
  if (raw.kind === "text" || typeof raw.value === "string") n = parseIntParam(field, String(raw.value));
  else if (raw.value === null) return undefined;
  else if (typeof raw.value === "number" && Number.isSafeInteger(raw.value)) n = raw.value;
  else throw new RestInputError(`${field}: must be an integer (got ${JSON.stringify(raw.value)})`);
  // Beyond int32 the request cannot even be encoded (it failed as an internal error).
  if (n !== undefined && (n < INT32_MIN || n > INT32_MAX)) {
    throw new RestInputError(`${field}: must be an integer from ${INT32_MIN} to ${INT32_MAX} (got ${n})`);
  }
  return n;
}

function toBool(field: string, raw: Raw): boolean | undefined {
  if (raw.kind === "text" || typeof raw.value === "string") return parseBoolParam(field, String(raw.value));
  if (raw.value === null) return undefined;
  if (typeof raw.value === "boolean") return raw.value;
  throw new RestInputError(`${field}: must be true or false (got ${JSON.stringify(raw.value)})`);
}

function toSeconds(field: string, raw: Raw): number | undefined {
  const v = raw.value;
  if (v === null || v === "") return undefined;
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && /^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$/.test(v)) return Number(v);
  throw new RestInputError(`${field}: must be a number of seconds (got ${JSON.stringify(v)})`);
}

/** 0.2's option_flags: "k=v,k2=v2", or an object. Keys are shell option names, without "-o". */
export function parseOptionFlags(raw: unknown): Record<string, string> {
  const out = new Map<string, string>();
  const add = (key: string, value: string) => {
    // 0.2 refused keys containing "-o" (too broadly); a leading "-" is what a "-o" prefix leaves.
    if (key.startsWith("-")) throw new RestInputError(`option_flags: please provide keys without -o, "${key}" is invalid`);
    out.set(key, value);
  };
  if (isObject(raw)) {
    for (const [k, v] of Object.entries(raw)) add(k, scalarText(`option_flags["${k}"]`, v));
  } else if (typeof raw === "string") {
    for (const token of raw.split(",").map((t) => t.trim())) {
      if (token === "") continue;
      const eq = token.indexOf("=");
      if (eq <= 0) throw new RestInputError(`option_flags: "${token}" is not KEY=VALUE (write "k=v,k2=v2")`);
      add(token.slice(0, eq), token.slice(eq + 1));
    }
  } else if (raw !== null) {
    throw new RestInputError('option_flags: must be "k=v,k2=v2" or an object');
  }
  return Object.fromEntries(out);
}

function toEnvironment(raw: Raw): Record<string, string> {
  let value = raw.value;
  if (raw.kind === "text" || typeof value === "string") {
    const text = String(value).trim();
    if (text === "") return {};
    try {
      value = text.startsWith("{") && /^\{\s*"/.test(text) ? JSON.parse(text) : parsePythonDict(text);
    } catch (e) {
      throw new RestInputError(`envars: must be a JSON object of strings: ${(e as Error).message}`);
    }
  }
  if (value === null) return {};
  if (!isObject(value)) throw new RestInputError("envars: must be an object of KEY: value");
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scalarText(`envars["${k}"]`, v)]));
}

/** Collects each field once, from wherever it was sent; a field sent twice is an error. */
function collect(query: URLSearchParams, body: ParsedBody): { fields: Map<SubmitField, Raw>; bodyEnv?: Raw } {
  const fields = new Map<SubmitField, Raw>();
  const errors: string[] = [];
  const put = (name: string, raw: Raw, where: string) => {
    if (!(SUBMIT_FIELDS as readonly string[]).includes(name)) {
      errors.push(`${name}: unknown ${where} (known: ${SUBMIT_FIELDS.join(", ")})`);
    } else if (fields.has(name as SubmitField)) {
      errors.push(`${name}: given more than once`);
    } else fields.set(name as SubmitField, raw);
  };
  for (const [k, v] of query) put(k, { kind: "text", value: v }, "parameter");
  if (body.kind === "form") for (const [k, v] of body.fields) put(k, { kind: "text", value: v }, "form field");
  let bodyEnv: Raw | undefined;
  if (body.kind === "json") {
    if (!isObject(body.value)) errors.push("body: must be a JSON object (the job's fields, or its environment)");
    else if ("command" in body.value) for (const [k, v] of Object.entries(body.value)) put(k, { kind: "json", value: v }, "field");
    else bodyEnv = { kind: "json", value: body.value };
  }
  if (bodyEnv && fields.has("envars")) errors.push("envars: given both in the body and as a field");
  if (errors.length > 0) throw new RestInputError(errors);
  return { fields, bodyEnv };
}

/** The request as the job service takes it; `command` is empty when none was given. */
export function toSubmitRequest(query: URLSearchParams, body: ParsedBody): SubmitInit {
  const { fields, bodyEnv } = collect(query, body);
  const errors: string[] = [];
  const read = <T>(name: SubmitField, convert: (raw: Raw) => T): T | undefined => {
    const raw = fields.get(name);
    if (raw === undefined) return undefined;
    try {
      return convert(raw);
    } catch (e) {
      if (e instanceof RestInputError) errors.push(...e.errors);
      else throw e;
      return undefined;
    }
  };
  const request: SubmitInit = {
    command: read("command", toCommand) ?? [],
    numTasks: read("num_tasks", (r) => toInt("num_tasks", r)),
    coresPerTask: read("cores_per_task", (r) => toInt("cores_per_task", r)),
    gpusPerTask: read("gpus_per_task", (r) => toInt("gpus_per_task", r)),
    numNodes: read("num_nodes", (r) => toInt("num_nodes", r)),
    exclusive: read("exclusive", (r) => toBool("exclusive", r)) ?? false,
    isLauncher: read("is_launcher", (r) => toBool("is_launcher", r)) ?? false,
    workdir: read("workdir", (r) => (r.value === null ? "" : scalarText("workdir", r.value))) ?? "",
    timeLimitSeconds: read("runtime", (r) => toSeconds("runtime", r)) ?? 0,
    shellOptions: read("option_flags", (r) => parseOptionFlags(r.value)) ?? {},
    environment: (bodyEnv ? toEnvironment(bodyEnv) : read("envars", toEnvironment)) ?? {},
  };
  if (errors.length > 0) throw new RestInputError(errors);
  return request;
}
