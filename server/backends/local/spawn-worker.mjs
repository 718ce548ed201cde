// The local backend's spawn process (see task-spawner.ts for the protocol and why it exists).
//
// Plain JavaScript on purpose: it runs under Node alone, without the TypeScript loader the
// server runs under (tsx is registered in-process by bin/, vitest has its own). It uses only
// Node built-ins, and exits when the server's end of the IPC channel closes.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

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

/** @param {string} p */
function isFile(p) {
  try {
    return fs.statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
  } catch {
    return false;
  }
}

/**
 * Why `argv0` cannot be started from `cwd` the way execvp would look for it, or undefined when
 * it can. Node's spawn reports a missing cwd and a missing command alike (ENOENT); a shell
 * tells them apart, and so do we.
 * @param {string} argv0 @param {string} cwd @param {string | undefined} pathVar
 */
function lookupFailure(argv0, cwd, pathVar) {
  const dir = fs.statSync(cwd, { throwIfNoEntry: false });
  if (dir === undefined) return `chdir ${cwd}: No such file or directory`;
  if (!dir.isDirectory()) return `chdir ${cwd}: Not a directory`;
  if (argv0.includes("/")) return isFile(path.resolve(cwd, argv0)) ? undefined : `${argv0}: No such file or directory`;
  const dirs = (pathVar ?? "/usr/local/bin:/usr/bin:/bin").split(":");
  return dirs.some((d) => isFile(path.resolve(cwd, d || ".", argv0))) ? undefined : `${argv0}: No such file or directory`;
}

/** @param {number} pgid @param {NodeJS.Signals} signal */
function killGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is gone already
  }
}

/** Messages of this turn, sent as one (one write and one wakeup of the server for all). @type {object[]} */
let outbox = [];

/** @param {object} msg */
function send(msg) {
  if (outbox.length === 0) setImmediate(flush);
  outbox.push(msg);
}

function flush() {
  const batch = outbox;
  outbox = [];
  if (process.connected) process.send?.(batch);
}

/** @param {{ task: number, file: string, args: string[], lookup: string, cwd: string, env: Record<string, string>, uid?: number, gid?: number }} m */
function start(m) {
  const post = (/** @type {object} */ msg) => send({ task: m.task, ...msg });
  /** Nothing started: say why, as a shell would when it can (see lookupFailure). @param {NodeJS.ErrnoException} e */
  const refused = (e) => {
    let reason;
    try {
      reason = lookupFailure(m.lookup, m.cwd, m.env.PATH);
    } catch {
      reason = undefined;
    }
    if (reason !== undefined) post({ op: "unfound", reason });
    else post({ op: "error", code: e.code ?? "", message: String(e.message) });
    post({ op: "closed", code: null, signal: null });
  };
  // The command is looked up only when the spawn fails (a lookup costs a stat per PATH entry),
  // except behind setpriv, which would start and then fail to exec the command in its own words.
  if (m.file !== m.lookup) {
    try {
      const reason = lookupFailure(m.lookup, m.cwd, m.env.PATH);
      if (reason !== undefined) {
        post({ op: "unfound", reason });
        post({ op: "closed", code: null, signal: null });
        return;
      }
    } catch {
      // spawn says what is wrong
    }
  }
  const ids = m.uid === undefined ? {} : { uid: m.uid, gid: m.gid };
  /** @type {import("node:child_process").ChildProcess} */
  let child;
  try {
    child = spawn(m.file, m.args, { cwd: m.cwd, env: m.env, detached: true, stdio: ["ignore", "pipe", "pipe"], ...ids });
  } catch (e) {
    refused(/** @type {NodeJS.ErrnoException} */ (e));
    return;
  }
  if (child.pid === undefined) {
    // The 'error' event follows; no process ran, so nothing else is reported.
    child.once("error", refused);
    return;
  }
  const pid = child.pid;
  children.set(m.task, child);
  post({ op: "spawned", pid, startTicks: startTicks(pid) });
  child.on("error", (e) => post({ op: "error", code: /** @type {NodeJS.ErrnoException} */ (e).code ?? "", message: e.message }));
  // Still read when muted: a task blocked on a full pipe would never end.
  child.stdout?.on("data", (data) => muted.has(m.task) || post({ op: "data", stream: 0, data }));
  child.stderr?.on("data", (data) => muted.has(m.task) || post({ op: "data", stream: 1, data }));
  // Whatever the task left running in its group would hold the output pipes open.
  child.on("exit", () => killGroup(pid, "SIGKILL"));
  child.on("close", (code, signal) => {
    children.delete(m.task);
    muted.delete(m.task);
    post({ op: "closed", code, signal });
  });
}

/** @param {any} m */
function handle(m) {
  if (m.op === "spawn") start(m);
  else if (m.op === "mute") {
    if (children.has(m.task)) muted.add(m.task);
  }
  else if (m.op === "kill") {
    const child = children.get(m.task);
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) killGroup(child.pid, m.signal);
  }
}

process.on("message", (/** @type {any[]} */ batch) => {
  for (const m of batch) handle(m);
});
// The server went away (closed us, or died): tasks keep running, as they would with Flux; a
// restarted server finds them by pid and start time.
process.on("disconnect", () => process.exit(0));
