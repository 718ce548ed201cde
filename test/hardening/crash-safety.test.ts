/**
 * Crash safety: clients submit continuously over all four protocols while the server
 * process is SIGKILLed at a random moment, twice, and restarted on the same data dir. Every
 * acknowledged submission must exist afterwards with its eventlog and its output, jobs seen
 * completed before a crash must still be completed with all their output, nothing may be
 * acknowledged twice, no job may appear that no client asked for, no task may outlive its
 * server, and the database must pass SQLite's integrity check.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobResult, JobState, type Job } from "../../gen/flux/restful/v1/job_pb.js";
import { JobService } from "../../gen/flux/restful/v1/job_service_pb.js";
import { allJobs, readOutput } from "../support/job-helpers.js";
import { createTransports } from "../support/transports.js";
import { killAllServerProcesses, startServerProcess, troubleIn, type ServerProcess } from "./server-process.js";
import { startSubmitLoad, type Submission } from "./submit-load.js";

const CLIENTS = 6;
const MARKER = `crash${process.pid}`;

const randomMs = (min: number, max: number) => min + Math.floor(Math.random() * (max - min));

/** Processes whose command line carries the marker (tasks of this test's jobs). */
async function strayTasks(): Promise<string[]> {
  const out: string[] = [];
  for (const pid of await fs.readdir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await fs.readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (cmd.includes(MARKER) && !cmd.includes("vitest")) out.push(`${pid}: ${cmd.replace(/\0/g, " ")}`);
  }
  return out;
}

/** Direct children of a process. */
async function childrenOf(pid: number): Promise<number[]> {
  const text = await fs.readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "");
  return text.trim() === "" ? [] : text.trim().split(/\s+/).map(Number);
}

/** Whether a process still runs (a zombie waiting for its reaper does not). */
async function alive(pid: number): Promise<boolean> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  return stat !== "" && stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
}

async function inParallel<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

describe("crash safety: SIGKILL during continuous submission", () => {
  let dataDir: string;
  const submissions: Submission[] = [];
  /** Jobs a client saw COMPLETED before a crash: id -> token. */
  const seenCompleted = new Map<string, string>();
  let server: ServerProcess;
  const troubles: Record<string, unknown>[] = [];
  /** Children of the killed servers (the spawn helper and tasks): none may outlive its server for long. */
  const orphans: number[] = [];

  async function start(): Promise<void> {
    // A fresh port each start: the clients of a round end before the restart, and the old port
    // may meanwhile be taken (e.g. as the local port of one of their reconnection attempts).
    server = await startServerProcess({ dataDir, env: { FLUX_RESTFUL_LOCAL_CORES: "4" } });
  }

  /** Submits and watches for a while, SIGKILLs the server at a random moment, and restarts it. */
  async function roundWithCrash(round: number): Promise<void> {
    const load = startSubmitLoad(server.url, CLIENTS, `${MARKER}-r${round}`);
    const observer = createClient(JobService, createTransports(server.url)["connect-json-h1"]);
    let observing = true;
    const watching = (async () => {
      while (observing) {
        try {
          const page = await observer.listJobs({ stateMask: JobState.INACTIVE, resultMask: JobResult.COMPLETED, pageSize: 1000 });
          for (const job of page.jobs) seenCompleted.set(job.id, job.name);
        } catch {
          // the server is gone
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await new Promise((r) => setTimeout(r, randomMs(1500, 4000)));
    orphans.push(...(await childrenOf(server.pid)));
    server.kill("SIGKILL");
    await server.exited;
    troubles.push(...troubleIn(server.logs));
    observing = false;
    await watching;
    await load.stop();
    submissions.push(...load.submissions);
    await start();
  }

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "flux-restful-crash-"));
    await start();
    await roundWithCrash(1);
    await roundWithCrash(2);
  }, 180_000);

  afterAll(async () => {
    await killAllServerProcesses();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it("acknowledged submissions while the server was being killed", () => {
    const acked = submissions.filter((s) => s.id !== undefined);
    // Enough to mean something, whatever the machine's speed.
    expect(acked.length).toBeGreaterThan(20);
    console.log(`crash safety: ${submissions.length} submissions, ${acked.length} acknowledged, ${seenCompleted.size} seen completed before a crash`);
    expect(submissions.some((s) => s.failed !== undefined)).toBe(true);
  });

  it("keeps every acknowledged submission, exactly once, and no job nobody asked for", async () => {
    const jobs = await allJobs(createClient(JobService, createTransports(server.url)["connect-binary-h2"]));
    const byName = new Map<string, Job[]>();
    for (const job of jobs) byName.set(job.name, [...(byName.get(job.name) ?? []), job]);
    const acked = submissions.filter((s) => s.id !== undefined);
    expect(new Set(acked.map((s) => s.id)).size).toBe(acked.length);
    for (const s of acked) {
      const found = byName.get(s.token) ?? [];
      expect(found.map((j) => j.id), `acknowledged ${s.token} as ${s.id}`).toEqual([s.id]);
    }
    const asked = new Set(submissions.map((s) => s.token));
    for (const [name, list] of byName) {
      expect(asked.has(name), `job ${name} that no client submitted`).toBe(true);
      expect(list.length, `job ${name} stored ${list.length} times`).toBe(1);
    }
  });

  it("has every acknowledged job inactive, with its eventlog and output", async () => {
    const client = createClient(JobService, createTransports(server.url).grpc);
    const acked = submissions.filter((s) => s.id !== undefined);
    await inParallel(acked, 8, async (s) => {
      const { job } = await client.getJob({ id: s.id! });
      expect(job?.state, s.token).toBe(JobState.INACTIVE);
      const names: string[] = [];
      for await (const { event } of client.watchJobEvents({ id: s.id! })) names.push(event!.name);
      expect(names[0], s.token).toBe("submit");
      expect(names.at(-1), s.token).toBe("clean");
      const { stdout } = await readOutput(client, s.id!);
      if (job!.result === JobResult.COMPLETED) {
        expect(stdout, s.token).toBe(`${s.token}\ndone\n`);
      } else {
        // Cut short by the crash: marked so, and what it printed is a prefix of the whole.
        expect(job!.exception?.type, s.token).toBe("restart");
        expect(`${s.token}\ndone\n`.startsWith(stdout), s.token).toBe(true);
      }
    });
  }, 120_000);

  it("still has every job seen completed before a crash, completed, with all its output", async () => {
    expect(seenCompleted.size).toBeGreaterThan(0);
    const client = createClient(JobService, createTransports(server.url)["connect-json-h1"]);
    for (const [id, token] of seenCompleted) {
      const { job } = await client.getJob({ id });
      expect(job?.result, token).toBe(JobResult.COMPLETED);
      expect((await readOutput(client, id)).stdout, token).toBe(`${token}\ndone\n`);
    }
  }, 120_000);

  it("left no task running from a killed server, and logged no error", async () => {
    // Recovery at restart kills what the dead server left running; give it a moment to be reaped.
    const deadline = Date.now() + 10_000;
    while ((await strayTasks()).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await strayTasks()).toEqual([]);
    expect(orphans.length).toBeGreaterThan(0);
    while ((await Promise.all(orphans.map(alive))).some(Boolean) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const stillAlive = (await Promise.all(orphans.map(async (pid) => ((await alive(pid)) ? pid : undefined)))).filter((p) => p !== undefined);
    expect(stillAlive, "children of a killed server still running").toEqual([]);
    expect([...troubles, ...troubleIn(server.logs)]).toEqual([]);
  }, 120_000);

  it("leaves a database that passes the integrity check and serves new work", async () => {
    const jobs = createClient(JobService, createTransports(server.url)["connect-binary-h2"]);
    const { id } = await jobs.submitJob({ command: ["echo", "after"] });
    for (let i = 0; i < 200; i++) {
      const { job } = await jobs.getJob({ id });
      if (job?.state === JobState.INACTIVE) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect((await readOutput(jobs, id)).stdout).toBe("after\n");
    expect((await server.stop()).code).toBe(0);
    const db = new Database(path.join(dataDir, "local", "jobs.sqlite"), { readonly: true });
    try {
      expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    } finally {
      db.close();
    }
  }, 120_000);
});
