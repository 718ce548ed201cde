// The local backend's spawn thread (see task-spawner.ts for the protocol and why it exists).
//
// Plain JavaScript on purpose: a worker thread does not inherit the TypeScript loader the
// server runs under (tsx is registered in-process by bin/, vitest has its own), so this file
// must load with Node alone. It uses only Node built-ins.
import { spawn } from "node:child_process";
import fs from "node:fs";
import { parentPort } from "node:worker_threads";

/** @type {Map<number, import("node:child_process").ChildProcess>} */
const children = new Map();
/** Tasks whose output is no longer wanted (the job's output limit was reached). @type {Set<number>} */
const muted = new Set();

/** @param {number} pid */
function startTicks(pid) {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
    const ticks = Number(text.slice(text.lastIndexOf(")") + 2).split(" ")[19]);
    return Number.isFinite(ticks) ? ticks : 0;
  } catch {
    return 0;
  }
}

/** @param {number} pgid @param {NodeJS.Signals} signal */
function killGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is gone already
  }
}

/** @param {{ task: number, file: string, args: string[], cwd: string, env: Record<string, string>, uid?: number, gid?: number }} m */
function start(m) {
  const post = (/** @type {object} */ msg) => parentPort?.postMessage({ task: m.task, ...msg });
  const ids = m.uid === undefined ? {} : { uid: m.uid, gid: m.gid };
  /** @type {import("node:child_process").ChildProcess} */
  let child;
  try {
    child = spawn(m.file, m.args, { cwd: m.cwd, env: m.env, detached: true, stdio: ["ignore", "pipe", "pipe"], ...ids });
  } catch (e) {
    post({ op: "error", code: /** @type {NodeJS.ErrnoException} */ (e).code ?? "", message: String(/** @type {Error} */ (e).message) });
    post({ op: "closed", code: null, signal: null });
    return;
  }
  const pid = child.pid;
  if (pid !== undefined) {
    children.set(m.task, child);
    post({ op: "spawned", pid, startTicks: startTicks(pid) });
  }
  child.on("error", (e) => post({ op: "error", code: /** @type {NodeJS.ErrnoException} */ (e).code ?? "", message: e.message }));
  // Still read when muted: a task blocked on a full pipe would never end.
  child.stdout?.on("data", (data) => muted.has(m.task) || post({ op: "data", stream: 0, data }));
  child.stderr?.on("data", (data) => muted.has(m.task) || post({ op: "data", stream: 1, data }));
  // Whatever the task left running in its group would hold the output pipes open.
  child.on("exit", () => pid !== undefined && killGroup(pid, "SIGKILL"));
  child.on("close", (code, signal) => {
    children.delete(m.task);
    muted.delete(m.task);
    post({ op: "closed", code: pid === undefined ? null : code, signal });
  });
}

parentPort?.on("message", (/** @type {any} */ m) => {
  if (m.op === "spawn") start(m);
  else if (m.op === "mute") {
    if (children.has(m.task)) muted.add(m.task);
  }
  else if (m.op === "kill") {
    const child = children.get(m.task);
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) killGroup(child.pid, m.signal);
  }
});
