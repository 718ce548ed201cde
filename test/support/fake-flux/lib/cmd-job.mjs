// `flux job submit|list|list-ids|info|eventlog|raise` of the fake: stdout, stderr and exit
// codes as in ../shared/flux-reference (file names in the comments); where no
// transcript exists, the flux-core source line that prints the message is named.
import { spawn } from "node:child_process";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { allJobIds, jobRecord, jobspecOf, rOf, sortRecords } from "./joblist.mjs";
import { appendEvent, events, jobDir, jobExists, loadConfig, newJobId, readLines, stateOf } from "./state.mjs";
import { dumpJson, encodeF58, now, parseJobId, Real, useAsciiIds, withLock } from "./util.mjs";

export class Exit extends Error {
  constructor(code, stderr = "") {
    super(stderr);
    this.code = code;
    this.stderr = stderr;
  }
}
const fail = (message, code = 1) => {
  throw new Exit(code, `flux-job: ${message}\n`);
};

/** Splits optparse-style options (--name=value, --name value, -x value, -xvalue, flags). */
export function parseOptions(args, spec) {
  const opts = {};
  const rest = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") {
      rest.push(...args.slice(i + 1));
      break;
    }
    let name;
    let value;
    if (a.startsWith("--")) {
      [name, value] = a.slice(2).split(/=(.*)/s);
    } else if (a.startsWith("-") && a.length > 1) {
      const key = a[1];
      name = Object.keys(spec).find((k) => spec[k].short === key);
      if (!name) fail(`unrecognized option '${a}'`);
      value = a.length > 2 ? a.slice(2) : undefined;
    } else {
      rest.push(a);
      continue;
    }
    const s = spec[name];
    if (!s) fail(`unrecognized option '--${name}'`);
    if (s.arg) {
      if (value === undefined) value = args[++i];
      opts[name] = s.multi ? [...(opts[name] ?? []), value] : value;
    } else {
      opts[name] = true;
    }
  }
  return { opts, rest };
}

function requireJob(dir, text, onMissing) {
  const id = parseJobId(text);
  if (id === undefined) fail(`error parsing jobid: "${text}"`);
  if (!jobExists(dir, id)) onMissing();
  return id;
}

// job-submit-empty.txt, job-submit-invalid-json.txt, job-submit-invalid-jobspec.txt
function checkJobspec(text) {
  if (text.trim() === "") fail("required jobspec is empty");
  let spec;
  try {
    spec = JSON.parse(text);
  } catch {
    const token = /^\s*\{\s*([^\s"}]*)/.exec(text)?.[1] ?? "";
    fail(`jobspec: invalid JSON: string or '}' expected near '${token.split(/[\s:,]/)[0]}'`);
  }
  for (const key of ["tasks", "resources", "attributes", "version"]) if (!(key in spec)) fail(`Missing key (${key})`);
  if (spec.version !== 1) fail("only version 1 jobspec is supported");
  if (!Array.isArray(spec.tasks?.[0]?.command) || spec.tasks[0].command.length === 0) fail("tasks[0].command must be a non-empty list");
  if (typeof spec.attributes?.system?.duration !== "number") fail("attributes.system.duration must be a number");
  return spec;
}

export async function submit(dir, args, env, stdin) {
  const { opts, rest } = parseOptions(args, { urgency: { short: "u", arg: true }, flags: { short: "f", arg: true, multi: true } });
  const text = rest[0] !== undefined && rest[0] !== "-" ? fs.readFileSync(rest[0], "utf8") : await stdin();
  const spec = checkJobspec(text);
  const urgency = opts.urgency === undefined ? 16 : Number(opts.urgency);
  if (!Number.isInteger(urgency) || urgency < 0 || urgency > 31) fail("urgency range is [0-31]");
  const config = loadConfig(dir);
  const id = newJobId(dir, config);
  const jd = jobDir(dir, id);
  fs.mkdirSync(jd, { recursive: true });
  fs.writeFileSync(`${jd}/jobspec.json`, text.trim());
  // FAKE_FLUX_USERID stands for the credentials of another user (a stand-in sudo sets it).
  const userid = env.FAKE_FLUX_USERID !== undefined ? Number(env.FAKE_FLUX_USERID) : process.getuid();
  appendEvent(`${jd}/eventlog`, "submit", { userid, urgency, flags: 0, version: 1 });
  appendEvent(`${jd}/eventlog`, "validate");
  appendEvent(`${jd}/eventlog`, "depend");
  // The priority plugin's default: priority = urgency, 0 when held, the maximum when expedited.
  appendEvent(`${jd}/eventlog`, "priority", { priority: urgency === 31 ? 4294967295 : urgency });
  void spec;
  const runner = spawn(process.execPath, [fileURLToPath(new URL("../flux", import.meta.url)), "__fake-job-runner", dir, id.toString()], {
    detached: true,
    stdio: "ignore",
    env: {},
  });
  fs.writeFileSync(`${jd}/runner.pid`, String(runner.pid));
  runner.unref();
  return `${encodeF58(id, useAsciiIds(env))}\n`;
}

export function list(dir, args, sub) {
  const spec =
    sub === "list-inactive"
      ? { count: { short: "c", arg: true }, since: { short: "s", arg: true } }
      : { count: { short: "c", arg: true }, states: { short: "s", arg: true, multi: true }, user: { short: "u", arg: true }, "all-user": { short: "a" }, all: { short: "A" } };
  const { opts } = parseOptions(args, spec);
  let mask = 14 | 48;
  if (sub === "list-inactive") mask = 64;
  else if (opts["all-user"] || opts.all) mask = 127;
  else if (opts.states) mask = opts.states.join(",").split(",").reduce((m, s) => m | ({ depend: 2, priority: 4, sched: 8, run: 16, cleanup: 32, inactive: 64, pending: 14, running: 48, active: 62, new: 1 }[s.toLowerCase()] ?? 0), 0);
  const uid = process.getuid();
  const recs = allJobIds(dir)
    .map((id) => jobRecord(dir, id))
    .filter((r) => (r.state & mask) !== 0)
    .filter((r) => opts.all || opts.user === "all" || r.userid === (opts.user !== undefined ? Number(opts.user) : uid))
    .filter((r) => !opts.since || (r.t_inactive?.value ?? 0) > Number(opts.since));
  const sorted = sortRecords(recs);
  const count = Number(opts.count ?? 0);
  return (count > 0 ? sorted.slice(0, count) : sorted).map((r) => dumpJson(r, true) + "\n").join("");
}

// list.c cmd_list_ids: one record per id; an unknown id fails the command with
// "flux job-list.list-d: No such file or directory" (ENOENT from job-list.list-id).
export function listIds(dir, args) {
  const { rest } = parseOptions(args, { "wait-state": { short: "W", arg: true } });
  if (rest.length === 0) throw new Exit(1, "Usage: flux-job list-ids [OPTIONS] ID [ID ...]\n");
  let stdout = "";
  for (const text of rest) {
    const id = parseJobId(text);
    if (id === undefined) fail(`error parsing jobid: "${text}"`);
    if (!jobExists(dir, id)) throw Object.assign(new Exit(1, "flux-job: flux job-list.list-d: No such file or directory\n"), { stdout });
    stdout += dumpJson(jobRecord(dir, id), true) + "\n";
  }
  return stdout;
}

const INFO_USAGE = `Usage: flux job info id key
some useful keys are:
  J                    - signed jobspec
  R                    - allocated resources
  eventlog             - primary job eventlog
  jobspec              - job specification
  guest.exec.eventlog  - execution eventlog
  guest.input          - job input log
  guest.output         - job output log
Use flux job info -h to list available options
`;

// job-info-*.txt: one key per call (job-info-multiple-keys.txt), "invalid job id" for an
// unknown job (job-info-unknown-job.txt), "KEY: key not found" (job-info-bad-key.txt).
export function info(dir, args) {
  const { opts, rest } = parseOptions(args, { original: { short: "o" }, base: { short: "b" } });
  if (rest.length !== 2) throw new Exit(1, INFO_USAGE);
  const id = parseJobId(rest[0]);
  if (id === undefined || !jobExists(dir, id)) fail("invalid job id");
  const key = rest[1];
  const jd = jobDir(dir, id);
  if (key === "jobspec") {
    if (opts.original) return fs.readFileSync(`${jd}/jobspec.json`, "utf8") + "\n";
    const spec = jobspecOf(dir, id);
    if (spec.attributes?.system) delete spec.attributes.system.environment;
    return dumpJson(spec, true) + "\n";
  }
  if (key === "R") {
    const R = rOf(dir, id);
    if (!R) fail("R: key not found");
    const x = R.execution;
    return dumpJson({ version: 1, execution: { R_lite: x.R_lite, starttime: new Real(x.starttime), expiration: new Real(x.expiration), nslots: x.nslots, nodelist: x.nodelist } }, true) + "\n";
  }
  const file = { eventlog: "eventlog", "guest.output": "guest.output", "guest.exec.eventlog": "guest.exec.eventlog", "guest.input": "guest.input" }[key];
  if (!file || !fs.existsSync(`${jd}/${file}`)) fail(`${key}: key not found`);
  return fs.readFileSync(`${jd}/${file}`, "utf8") + "\n";
}

const PATHS = { eventlog: ["eventlog", "clean"], exec: ["guest.exec.eventlog", "done"], output: ["guest.output", null], input: ["guest.input", null] };

function formatEntry(e, json) {
  if (json) return dumpJson({ timestamp: new Real(e.timestamp), name: e.name, context: e.context }, false) + "\n";
  const ctx = Object.entries(e.context ?? {}).map(([k, v]) => ` ${k}=${JSON.stringify(v)}`).join("");
  return `${e.timestamp.toFixed(6)} ${e.name}${ctx}\n`;
}

// job-eventlog*.txt; eventlog.c: "job ID not found" for the main eventlog, "eventlog path P not
// found" for another; -F follows until the path's terminating event (wait_event_run).
export async function eventlog(dir, args, write) {
  const { opts, rest } = parseOptions(args, {
    format: { short: "f", arg: true },
    "time-format": { short: "T", arg: true },
    human: { short: "H" },
    follow: { short: "F" },
    path: { short: "p", arg: true },
    color: { short: "L", arg: true },
  });
  if (rest.length !== 1) throw new Exit(1, "Usage: flux-job eventlog [OPTIONS] id\n");
  const text = rest[0];
  const id = parseJobId(text);
  if (id === undefined) fail(`error parsing jobid: "${text}"`);
  const [file, endEvent] = PATHS[opts.path ?? "eventlog"] ?? [opts.path, null];
  const json = opts.format === "json";
  const missing = () => (file === "eventlog" ? fail(`job ${text} not found`) : fail(`eventlog path ${file} not found`));
  if (!jobExists(dir, id)) missing();
  const path = `${jobDir(dir, id)}/${file}`;
  if (!opts.follow) {
    const entries = readLines(path);
    if (entries === undefined) missing();
    write(entries.map((e) => formatEntry(e, json)).join(""));
    return;
  }
  let seen = 0;
  for (;;) {
    const entries = readLines(path) ?? [];
    for (const e of entries.slice(seen)) {
      write(formatEntry(e, json));
      if (endEvent !== null && e.name === endEvent) return;
    }
    seen = entries.length;
    if (endEvent === null && stateOf(events(dir, id)) === 64) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

// job-raise*.txt: "raise ID: unknown job id", "raise ID: job is inactive" (the id as typed).
export function raise(dir, args) {
  const { opts, rest } = parseOptions(args, { severity: { short: "s", arg: true }, type: { short: "t", arg: true }, message: { short: "m", arg: true } });
  if (rest.length === 0) throw new Exit(1, "Usage: flux-job raise [OPTIONS] ids... [--] [message ...]\n");
  const ids = [];
  let i = 0;
  for (; i < rest.length; i++) {
    const id = parseJobId(rest[i]);
    if (id === undefined) break;
    ids.push([rest[i], id]);
  }
  if (ids.length === 0) fail(`error parsing jobid: "${rest[0]}"`);
  const note = opts.message ?? rest.slice(i).join(" ");
  const type = opts.type ?? "cancel";
  const severity = Number(opts.severity ?? 0);
  let stderr = "";
  for (const [text, id] of ids) {
    const error = withLock(dir, () => {
      if (!jobExists(dir, id)) return "unknown job id";
      const evs = events(dir, id);
      if (stateOf(evs) === 64) return "job is inactive";
      appendEvent(`${jobDir(dir, id)}/eventlog`, "exception", { type, severity, note, userid: process.getuid() });
      if (severity === 0) {
        let pids = [];
        try {
          pids = JSON.parse(fs.readFileSync(`${jobDir(dir, id)}/tasks.json`, "utf8"));
        } catch {}
        for (const pid of pids) {
          try {
            process.kill(-pid, "SIGTERM");
          } catch {}
        }
      }
      return undefined;
    });
    if (error) stderr += `flux-job: raise ${text}: ${error}\n`;
  }
  if (stderr) throw new Exit(1, stderr);
  return "";
}

export { now };
