// The fake instance's job manager + job shell for one job, run as a detached process
// started by `flux job submit`. It really runs the job's command (one process per
// task, the jobspec's environment and cwd) and writes the events a real instance
// writes, in the same order: priority, alloc, start, the output eventlog as the
// tasks write, exceptions, finish, release, free, clean.
import { spawn } from "node:child_process";
import fs from "node:fs";
import { appendEvent, events, jobDir, loadConfig, stateOf } from "./state.mjs";
import { infeasible, readAllocs, requestOf, resourceSummary, rOfParts, tryAllocate, writeAllocs } from "./sched.mjs";
import { encodeF58, now, sleep, withLock } from "./util.mjs";

const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };

export async function runJob(dir, idText) {
  const id = BigInt(idText);
  const jd = jobDir(dir, id);
  const ev = (name, context) => appendEvent(`${jd}/eventlog`, name, context);
  const out = (name, context) => appendEvent(`${jd}/guest.output`, name, context);
  const exec = (name, context) => appendEvent(`${jd}/guest.exec.eventlog`, name, context);
  const config = loadConfig(dir);
  const jobspec = JSON.parse(fs.readFileSync(`${jd}/jobspec.json`, "utf8"));
  const submit = events(dir, id).find((e) => e.name === "submit");
  const userid = submit.context.userid;
  const urgency = submit.context.urgency;
  const fatal = () => events(dir, id).find((e) => e.name === "exception" && e.context.severity === 0);
  const freeAlloc = () =>
    withLock(dir, () => {
      const a = readAllocs(dir);
      delete a[id.toString()];
      writeAllocs(dir, a);
    });

  const req = requestOf(jobspec);
  const why = infeasible(req, config.nodes);
  if (why !== undefined) {
    ev("exception", { type: "alloc", severity: 0, note: why, userid });
    ev("clean");
    return;
  }

  // Wait for resources (held jobs wait until canceled).
  let parts;
  for (;;) {
    const outcome = withLock(dir, () => {
      if (fatal()) return "canceled";
      if (urgency === 0) return undefined;
      const allocs = readAllocs(dir);
      const got = tryAllocate(req, config, allocs);
      if (!got) return undefined;
      allocs[id.toString()] = got;
      writeAllocs(dir, allocs);
      const system = jobspec.attributes?.system ?? {};
      const R = rOfParts(got, config, now(), system.duration ?? 0, req.nslots);
      fs.writeFileSync(`${jd}/R`, JSON.stringify(R));
      ev("alloc", { annotations: { sched: { resource_summary: resourceSummary(got) } } });
      return got;
    });
    if (outcome === "canceled") {
      ev("clean");
      return;
    }
    if (outcome) {
      parts = outcome;
      break;
    }
    await sleep(25);
  }
  if (config.startDelayMs > 0) await sleep(config.startDelayMs);

  const system = jobspec.attributes?.system ?? {};
  const command = jobspec.tasks[0].command;
  const count = jobspec.tasks[0].count;
  const ntasks = count.total ?? req.nslots;
  const hostOfTask = (rank) => {
    const slots = parts.flatMap((p) => Array.from({ length: p.cores.length / req.slotSize }, () => p.rank));
    return config.nodes[slots[rank % slots.length] ?? 0].hostname;
  };
  exec("init");
  exec("starting");
  const tasks = [];
  let canceledBeforeStart = false;
  let cwd = system.cwd || "/tmp";
  withLock(dir, () => {
    if (fatal()) {
      canceledBeforeStart = true;
      return;
    }
    ev("start");
    out("header", { version: 1, encoding: { stdout: "UTF-8", stderr: "UTF-8" }, count: { stdout: ntasks, stderr: ntasks }, options: {} });
    exec("shell.init", { service: `0-shell-${encodeF58(id, true)}`, "leader-rank": 0, size: new Set(parts.map((p) => p.rank)).size });
    exec("shell.start", { taskmap: { version: 1, map: [[0, 1, ntasks, 1]] } });
    if (!fs.existsSync(cwd)) {
      // The job shell's fallback (shell.c): warn and run in /tmp.
      out("log", { rank: 0, level: 4, message: `Could not change dir to ${cwd}: No such file or directory. Going to /tmp instead`, component: "shell" });
      cwd = "/tmp";
    }
    for (let rank = 0; rank < ntasks; rank++) {
      const env = {
        ...(system.environment ?? {}),
        FLUX_JOB_ID: encodeF58(id, false),
        FLUX_TASK_RANK: String(rank),
        FLUX_TASK_LOCAL_ID: String(rank),
        FLUX_JOB_SIZE: String(ntasks),
        FLUX_JOB_NNODES: String(new Set(parts.map((p) => p.rank)).size),
      };
      const child = spawn(command[0], command.slice(1), { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
      tasks.push({ rank, child, host: hostOfTask(rank) });
    }
    fs.writeFileSync(`${jd}/tasks.json`, JSON.stringify(tasks.map((t) => t.child.pid).filter((p) => p !== undefined)));
  });
  if (canceledBeforeStart) {
    ev("release", { ranks: "all", final: true });
    freeAlloc();
    ev("free");
    ev("clean");
    return;
  }

  let timer;
  if ((system.duration ?? 0) > 0) {
    timer = setTimeout(() => {
      withLock(dir, () => {
        if (stateOf(events(dir, id)) !== 16) return;
        ev("exception", { type: "timeout", severity: 0, userid, note: "resource allocation expired" });
        for (const t of tasks) if (t.child.pid) try { process.kill(-t.child.pid, "SIGALRM"); } catch {}
      });
    }, system.duration * 1000);
  }

  const statuses = await Promise.all(tasks.map((t) => superviseTask(t, out, ev, userid)));
  clearTimeout(timer);
  const status = Math.max(0, ...statuses);
  exec("complete", { status });
  exec("done");
  ev("finish", { status });
  ev("release", { ranks: "all", final: true });
  freeAlloc();
  ev("free");
  ev("clean");
}

/** Forwards a task's output line by line and resolves its wait status as the job shell reports it. */
function superviseTask(task, out, ev, userid) {
  const { rank, child, host } = task;
  return new Promise((resolve) => {
    let failed;
    child.on("error", (e) => {
      failed = e;
    });
    const streams = ["stdout", "stderr"].map(
      (stream) =>
        new Promise((done) => {
          let pending = Buffer.alloc(0);
          const emit = (bytes) => {
            const decoded = new TextDecoder("utf-8", { fatal: true });
            try {
              out("data", { stream, rank: String(rank), data: decoded.decode(bytes) });
            } catch {
              out("data", { stream, rank: String(rank), data: bytes.toString("base64"), encoding: "base64" });
            }
          };
          child[stream].on("data", (b) => {
            pending = Buffer.concat([pending, b]);
            let nl;
            while ((nl = pending.indexOf(10)) !== -1) {
              emit(pending.subarray(0, nl + 1));
              pending = pending.subarray(nl + 1);
            }
          });
          child[stream].on("close", () => {
            if (pending.length) emit(pending);
            done();
          });
        }),
    );
    child.on("close", async (code, signal) => {
      await Promise.all(streams);
      if (failed) {
        // The shell's report for a command that cannot be run (job-info-nocmd-output.txt, job-attach-nonexistent-command.txt).
        const message = `task ${rank} (host ${host}): start failed: ${child.spawnfile}: ${failed.code === "ENOENT" ? "No such file or directory" : failed.code === "EACCES" ? "Permission denied" : failed.message}`;
        ev("exception", { type: "exec", severity: 0, note: message, userid });
        out("log", { rank, level: 0, message, file: "shell.c", line: 2036 });
        resolve(127 << 8);
        return;
      }
      ["stdout", "stderr"].forEach((stream) => out("data", { stream, rank: String(rank), eof: true }));
      // The job shell exits 128+signal when a task was killed.
      resolve(signal ? (128 + (SIGNALS[signal] ?? 15)) << 8 : (code ?? 0) << 8);
    });
  });
}
