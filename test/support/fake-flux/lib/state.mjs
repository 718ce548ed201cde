// The fake instance's state: one directory (FAKE_FLUX_STATE_DIR, else the directory
// of FLUX_URI's local:// path) holding config.json, argv.log, and jobs/<decimal id>/
// with the job's jobspec, eventlogs and R, all as Flux would store them in the KVS.
import fs from "node:fs";
import path from "node:path";
import { dumpJson, now, Real, withLock } from "./util.mjs";

export const DEFAULT_CONFIG = {
  // Like the reference instance: 2 brokers on host "vm", 2 cores each, no GPUs.
  nodes: [
    { hostname: "vm", cores: 2, gpus: 0 },
    { hostname: "vm", cores: 2, gpus: 0 },
  ],
  down: [],
  drained: [],
  // Job ids encode ms since the instance started; a week of "uptime" puts them past 2^53.
  uptimeMs: 7 * 24 * 3600 * 1000,
  // Pause before each job's tasks start (ms), to observe SCHED/RUN.
  startDelayMs: 0,
};

export function stateDirFrom(env) {
  if (env.FAKE_FLUX_STATE_DIR) return env.FAKE_FLUX_STATE_DIR;
  const uri = env.FLUX_URI ?? "";
  if (uri.startsWith("local://")) return path.dirname(uri.slice("local://".length));
  return undefined;
}

/** The broker is "up" when FLUX_URI names an existing local:// path (the fake's socket file). */
export function brokerSocket(env) {
  const uri = env.FLUX_URI;
  if (uri === undefined) return { ok: false, path: "/run/flux/local" };
  const p = uri.startsWith("local://") ? uri.slice("local://".length) : uri;
  return { ok: fs.existsSync(p), path: p };
}

export function loadConfig(dir) {
  try {
    return { ...DEFAULT_CONFIG, ...JSON.parse(fs.readFileSync(`${dir}/config.json`, "utf8")) };
  } catch {
    return { ...DEFAULT_CONFIG };
  }
}

export const jobDir = (dir, id) => `${dir}/jobs/${id.toString()}`;
export const jobExists = (dir, id) => fs.existsSync(`${jobDir(dir, id)}/eventlog`);

export function readLines(file) {
  let text;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  // A writer may be appending right now: a last line without its "\n" is not complete yet
  // (every entry is written with one), so it is left for the next read.
  const lines = text.split("\n");
  lines.pop();
  return lines.filter((l) => l !== "").map((l) => JSON.parse(l));
}

/** Appends an RFC 18 entry the way the KVS stores it (compact, %.17g timestamp). */
export function appendEvent(file, name, context, timestamp = now()) {
  const entry = { timestamp: new Real(timestamp), name };
  if (context !== undefined) entry.context = context;
  fs.appendFileSync(file, dumpJson(entry, false) + "\n");
}

export const events = (dir, id) => readLines(`${jobDir(dir, id)}/eventlog`) ?? [];

/** The job's RFC 21 state from its eventlog. */
export function stateOf(evs) {
  let state = 1;
  for (const e of evs) {
    switch (e.name) {
      case "validate":
        state = 2;
        break;
      case "depend":
        state = 4;
        break;
      case "priority":
        if (state === 4) state = 8;
        break;
      case "alloc":
        state = 16;
        break;
      case "finish":
        state = 32;
        break;
      case "exception":
        if (e.context?.severity === 0 && state !== 64) state = 32;
        break;
      case "clean":
        state = 64;
        break;
    }
  }
  return state;
}

/** A new FLUID (RFC 19): ms timestamp << 24 | generator 0 << 10 | sequence. */
export function newJobId(dir, config) {
  return withLock(dir, () => {
    const file = `${dir}/fluid.json`;
    let last = { ts: -1, seq: 0, startMs: Date.now() };
    try {
      last = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch {}
    let ts = Date.now() - last.startMs + config.uptimeMs;
    let seq = 0;
    if (ts <= last.ts) {
      ts = last.ts;
      seq = last.seq + 1;
      if (seq >= 1024) {
        ts += 1;
        seq = 0;
      }
    }
    fs.writeFileSync(file, JSON.stringify({ ts, seq, startMs: last.startMs }));
    return (BigInt(ts) << 24n) | BigInt(seq);
  });
}
