/**
 * The data dir's disk fills up (a 2 MB tmpfs, topped up with a filler file) while a job runs:
 * submissions are refused with ResourceExhausted and a clear message on every API, reads keep
 * working, and once space returns everything written meanwhile is there (the running job ends
 * COMPLETED with all its output and an unbroken eventlog), new work is accepted, nothing
 * refused was kept, and both databases pass SQLite's integrity check.
 *
 * Mounting needs root (as on this machine and in CI); elsewhere the test is skipped.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobResult, JobState } from "../../gen/flux/restful/v1/job_pb.js";
import { JobService } from "../../gen/flux/restful/v1/job_service_pb.js";
import { readOutput, waitForState } from "../support/job-helpers.js";
import { createTransports, type TransportName } from "../support/transports.js";
import { killAllServerProcesses, startServerProcess, troubleIn, type ServerProcess } from "./server-process.js";

const isRoot = process.getuid?.() === 0;
const TRANSPORTS: TransportName[] = ["connect-json-h1", "connect-binary-h2", "grpc", "grpc-web"];

/** Fills the file system until a write fails; returns the filler's path. */
async function fill(dir: string): Promise<string> {
  const file = path.join(dir, "filler");
  const handle = await fs.open(file, "w");
  try {
    const block = Buffer.alloc(64 * 1024, 1);
    for (;;) await handle.write(block);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOSPC") throw e;
  } finally {
    await handle.close();
  }
  return file;
}

async function codeOf(fn: () => Promise<unknown>): Promise<{ code: Code; message: string } | "ok"> {
  try {
    await fn();
    return "ok";
  } catch (e) {
    const err = ConnectError.from(e);
    return { code: err.code, message: err.rawMessage };
  }
}

describe.skipIf(!isRoot)("disk full under the data dir", () => {
  let mountPoint: string;
  let server: ServerProcess;
  let beforeId: string;
  let runningId: string;
  const refused: { what: string; code: Code | number; message: string }[] = [];
  const reads: string[] = [];
  let recoveredId: string;

  beforeAll(async () => {
    mountPoint = await fs.mkdtemp(path.join(os.tmpdir(), "flux-restful-diskfull-"));
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mountPoint]);
    server = await startServerProcess({ dataDir: path.join(mountPoint, "data"), env: { FLUX_RESTFUL_LOCAL_CORES: "2" } });
    const transports = createTransports(server.url);
    const jobs = createClient(JobService, transports["connect-binary-h2"]);
    beforeId = (await jobs.submitJob({ command: ["echo", "before"] })).id;
    await waitForState(jobs, beforeId);
    // Runs while the disk is full; prints before, during and after.
    runningId = (await jobs.submitJob({ command: ["sh", "-c", "echo start; sleep 1; echo middle; sleep 1.5; echo end"] })).id;
    await waitForState(jobs, runningId, JobState.RUN);

    const filler = await fill(mountPoint);
    for (const name of TRANSPORTS) {
      const result = await codeOf(() => createClient(JobService, transports[name]).submitJob({ command: ["echo", `refused ${name}`] }));
      refused.push(result === "ok" ? { what: name, code: -1, message: "accepted" } : { what: name, ...result });
    }
    const rest = await fetch(`${server.url}/v1/jobs/submit?command=echo%20refused`, { method: "POST" });
    refused.push({ what: "rest", code: rest.status, message: ((await rest.json()) as { Message: string }).Message });

    // Reads keep working while nothing can be written.
    const read = async (what: string, fn: () => Promise<unknown>) => {
      const r = await codeOf(fn);
      reads.push(r === "ok" ? `${what}: ok` : `${what}: ${Code[r.code]} ${r.message}`);
    };
    await read("GetJob", () => jobs.getJob({ id: beforeId }));
    await read("ListJobs", () => jobs.listJobs({}));
    await read("GetJobOutput", async () => expect((await readOutput(jobs, beforeId)).stdout).toBe("before\n"));
    await read("REST list", async () => expect((await fetch(`${server.url}/v1/jobs`)).status).toBe(200));
    await read("healthz", async () => expect((await fetch(`${server.url}/healthz`)).status).toBe(200));

    // The running job ends while the disk is still full.
    await new Promise((r) => setTimeout(r, 3000));
    await fs.rm(filler);
    // Space is back: the next submit goes through (a write retried after a failure may need a moment).
    const deadline = Date.now() + 15_000;
    for (;;) {
      const r = await codeOf(async () => (recoveredId = (await jobs.submitJob({ command: ["echo", "recovered"] })).id));
      if (r === "ok" || Date.now() > deadline) break;
      await new Promise((res) => setTimeout(res, 200));
    }
  }, 120_000);

  afterAll(async () => {
    await killAllServerProcesses();
    if (mountPoint) {
      try {
        execFileSync("umount", [mountPoint]);
      } catch {
        // not mounted
      }
      await fs.rm(mountPoint, { recursive: true, force: true });
    }
  });

  it("refuses submissions with ResourceExhausted (429 on REST) and a clear message", () => {
    expect(refused).toHaveLength(5);
    for (const r of refused.slice(0, 4)) {
      expect(r.code, `${r.what}: ${r.message}`).toBe(Code.ResourceExhausted);
      expect(r.message).toMatch(/storage|disk|space|database/i);
    }
    expect(refused[4]!.code).toBe(429);
    expect(refused[4]!.message).toMatch(/storage|disk|space|database/i);
  });

  it("keeps serving reads while the disk is full", () => {
    expect(reads).toEqual(["GetJob: ok", "ListJobs: ok", "GetJobOutput: ok", "REST list: ok", "healthz: ok"]);
  });

  it("recovers when space returns: new work runs, and what happened meanwhile was kept", async () => {
    expect(recoveredId).toBeDefined();
    const jobs = createClient(JobService, createTransports(server.url).grpc);
    expect((await readOutput(jobs, (await waitForState(jobs, recoveredId)).id)).stdout).toBe("recovered\n");
    const running = await waitForState(jobs, runningId);
    expect(running.result).toBe(JobResult.COMPLETED);
    expect((await readOutput(jobs, runningId)).stdout).toBe("start\nmiddle\nend\n");
    const names: string[] = [];
    for await (const { event } of jobs.watchJobEvents({ id: runningId })) names.push(event!.name);
    expect(names).toEqual(["submit", "validate", "depend", "priority", "alloc", "start", "finish", "release", "free", "clean"]);
    // Only the jobs that were acknowledged exist.
    const all = await jobs.listJobs({});
    expect(all.jobs.map((j) => j.id).sort()).toEqual([beforeId, runningId, recoveredId].sort());
  }, 120_000);

  it("survives a restart with the same jobs, logged only the storage errors, and both databases pass the integrity check", async () => {
    const unexpected = troubleIn(server.logs).filter((l) => l.msg !== "job database commit failed");
    expect(unexpected).toEqual([]);
    expect((await server.stop()).code).toBe(0);
    for (const file of ["local/jobs.sqlite", "users.db"]) {
      const db = new Database(path.join(mountPoint, "data", file), { readonly: true });
      try {
        expect(db.pragma("integrity_check", { simple: true }), file).toBe("ok");
      } finally {
        db.close();
      }
    }
    server = await startServerProcess({ dataDir: path.join(mountPoint, "data"), env: { FLUX_RESTFUL_LOCAL_CORES: "2" } });
    const jobs = createClient(JobService, createTransports(server.url)["connect-json-h1"]);
    const { job } = await jobs.getJob({ id: runningId });
    expect(job?.result).toBe(JobResult.COMPLETED);
    expect((await readOutput(jobs, runningId)).stdout).toBe("start\nmiddle\nend\n");
  }, 120_000);
});
