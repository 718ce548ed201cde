// job-list records, built from a job's eventlog, jobspec and R with the keys, key
// order and value types `flux job list` prints (job-list-hidden.txt, job-list-hidden-a.txt,
// job-list-ids-hidden.txt, python-list-id-*.txt).
import fs from "node:fs";
import path from "node:path";
import { events, jobDir, readLines, stateOf } from "./state.mjs";
import { decodeIdset, encodeHostlist, encodeIdset, Real } from "./util.mjs";

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

export function jobspecOf(dir, id) {
  return readJson(`${jobDir(dir, id)}/jobspec.json`);
}

export function rOf(dir, id) {
  return readJson(`${jobDir(dir, id)}/R`);
}

function countsOf(jobspec) {
  // Slots (tasks) and cores asked for, for jobs not yet allocated.
  let slots = 0;
  let cores = 0;
  const walk = (vs, mult) => {
    for (const v of vs ?? []) {
      if (v.type === "slot") {
        slots += v.count * mult;
        for (const c of v.with ?? []) if (c.type === "core") cores += c.count * v.count * mult;
      } else walk(v.with, v.count * mult);
    }
  };
  walk(jobspec.resources, 1);
  const count = jobspec.tasks?.[0]?.count ?? {};
  return { ntasks: count.total ?? slots, ncores: cores };
}

/** The job-list record of a job, ready for dumpJson(..., true). */
export function jobRecord(dir, id) {
  const evs = events(dir, id);
  const jobspec = jobspecOf(dir, id) ?? {};
  const R = rOf(dir, id);
  const state = stateOf(evs);
  const find = (name) => evs.find((e) => e.name === name);
  const submit = find("submit");
  const system = jobspec.attributes?.system ?? {};
  const rec = { id, userid: submit?.context?.userid ?? 0, urgency: submit?.context?.urgency ?? 16 };
  let urgency = rec.urgency;
  for (const e of evs) if (e.name === "urgency") urgency = e.context.urgency;
  rec.urgency = urgency;
  const prio = [...evs].reverse().find((e) => e.name === "priority");
  if (prio) rec.priority = prio.context.priority;
  rec.t_submit = new Real(submit.timestamp);
  const at = (name) => find(name)?.timestamp;
  // t_X is when the job entered state X: validate -> DEPEND, depend -> PRIORITY, priority -> SCHED, alloc -> RUN.
  const validate = at("validate");
  if (validate !== undefined) rec.t_depend = new Real(validate);
  const depend = at("depend");
  if (depend !== undefined) rec.t_priority = new Real(depend);
  if (prio) rec.t_sched = new Real(find("priority").timestamp);
  const alloc = at("alloc");
  if (alloc !== undefined) rec.t_run = new Real(alloc);
  const fatal = evs.find((e) => e.name === "exception" && e.context.severity === 0);
  const finish = find("finish");
  const cleanup = [finish?.timestamp, fatal?.timestamp].filter((t) => t !== undefined).sort((a, b) => a - b)[0];
  if (cleanup !== undefined && state >= 32) rec.t_cleanup = new Real(cleanup);
  const clean = at("clean");
  if (clean !== undefined) rec.t_inactive = new Real(clean);
  rec.state = state;
  const command = jobspec.tasks?.[0]?.command ?? [];
  rec.name = system.job?.name ?? path.basename(command[0] ?? "");
  rec.cwd = system.cwd ?? "";
  if (system.queue !== undefined) rec.queue = system.queue;
  const { ntasks, ncores } = countsOf(jobspec);
  rec.ntasks = ntasks;
  rec.ncores = R ? R.execution.R_lite.reduce((n, e) => n + decodeIdset(e.rank).length * decodeIdset(e.children.core ?? "").length, 0) : ncores;
  rec.duration = new Real(system.duration ?? 0);
  if (R) {
    const ranks = R.execution.R_lite.flatMap((e) => decodeIdset(e.rank));
    rec.nnodes = new Set(ranks).size;
    rec.ranks = encodeIdset(ranks);
    rec.nodelist = R.execution.nodelist.join(",");
  }
  const exceptions = evs.filter((e) => e.name === "exception");
  if (state === 64) {
    const worst = exceptions.reduce((w, e) => (w === undefined || e.context.severity < w.context.severity ? e : w), undefined);
    const waitstatus = finish?.context.status;
    // libjob/result.c: ran and exited 0 -> COMPLETED; else by exception type; else FAILED.
    const type = worst?.context.severity === 0 ? worst.context.type : undefined;
    const result = alloc !== undefined && waitstatus === 0 ? 1 : type === "cancel" ? 4 : type === "timeout" ? 8 : 2;
    rec.success = result === 1;
    rec.exception_occurred = worst !== undefined;
    if (worst) {
      rec.exception_type = worst.context.type;
      rec.exception_severity = worst.context.severity;
      rec.exception_note = worst.context.note ?? "";
    }
    rec.result = result;
  }
  if (R) {
    rec.expiration = new Real(R.execution.expiration ?? 0);
    rec.annotations = find("alloc")?.context?.annotations;
  }
  if (finish) rec.waitstatus = finish.context.status;
  const deps = evs.filter((e) => e.name === "dependency-add").map((e) => e.context.description);
  if (deps.length && state < 64) rec.dependencies = deps;
  return rec;
}

/** Every job id in the instance, oldest first. */
export function allJobIds(dir) {
  let names = [];
  try {
    names = fs.readdirSync(`${dir}/jobs`);
  } catch {}
  return names
    .filter((n) => /^\d+$/.test(n))
    .map((n) => BigInt(n))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** job-list's order: pending by priority then submit time, running newest first, inactive newest first. */
export function sortRecords(recs) {
  const group = (r) => (r.state & 14 ? 0 : r.state & 48 ? 1 : 2);
  const num = (x) => (x === undefined ? 0 : typeof x === "object" ? x.value : x);
  return recs.sort((a, b) => {
    const g = group(a) - group(b);
    if (g !== 0) return g;
    if (group(a) === 0) return num(b.priority) - num(a.priority) || num(a.t_submit) - num(b.t_submit);
    if (group(a) === 1) return num(b.t_run) - num(a.t_run);
    return num(b.t_inactive) - num(a.t_inactive);
  });
}

export { readLines };
