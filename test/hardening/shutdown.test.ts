/**
 * Graceful shutdown under load: SIGTERM arrives at a random moment while clients submit,
 * read and follow output streams over every protocol, and one running job ignores SIGTERM.
 * The process must stop on its own (main.ts exits 1 when it overruns its limit): calls get
 * the grace period, then jobs are ended as `flux shutdown` does. Every call in flight must end,
 * successfully or with a clean error, and a restart on the same data must show exactly what
 * the server had acknowledged: every job once, ended by the shutdown as Flux would
 * (canceled), nothing left for crash recovery to repair.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobResult, JobState } from "../../gen/flux/restful/v1/job_pb.js";
import { JobService } from "../../gen/flux/restful/v1/job_service_pb.js";
import { allJobs, readOutput, waitForState } from "../support/job-helpers.js";
import { createTransports } from "../support/transports.js";
import { killAllServerProcesses, startServerProcess, troubleIn, type ServerProcess } from "./server-process.js";
import { startSubmitLoad, type Submission } from "./submit-load.js";

const GRACE_MS = 3000;
/** How a call may end when the server goes away under it. */
const CLEAN_ENDINGS = new Set([Code.Unavailable, Code.Canceled, Code.Aborted, Code.Unknown]);
/** What clients say themselves when the connection ends (connect-node maps a refused HTTP/2 stream to internal). */
const TRANSPORT_ENDINGS = /NGHTTP2_REFUSED_STREAM|NGHTTP2_CANCEL|socket hang up|ECONNRESET|ECONNREFUSED|EPIPE|other side closed|premature close/i;

interface Ending {
  what: string;
  outcome: "ok" | "error";
  code?: Code;
  message?: string;
}

describe("graceful shutdown under load", () => {
  let dataDir: string;
  let server: ServerProcess;
  let exit: { code: number | null; signal: NodeJS.Signals | null };
  let submissions: Submission[];
  const endings: Ending[] = [];
  let streamIds: string[];
  let restarted: ServerProcess;

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "flux-restful-shutdown-"));
    server = await startServerProcess({ dataDir, env: { FLUX_RESTFUL_LOCAL_CORES: "8", FLUX_RESTFUL_SHUTDOWN_GRACE_MS: String(GRACE_MS) } });
    const transports = createTransports(server.url);
    const jobs = createClient(JobService, transports["connect-binary-h2"]);
    // Long jobs whose output is being followed when the signal comes.
    streamIds = [];
    for (let i = 0; i < 4; i++) {
      // One of them ignores SIGTERM, so the shutdown has to wait for its SIGKILL.
      const script = i === 3 ? "trap '' TERM; echo started; sleep 60" : "echo started; exec sleep 60";
      const { id } = await jobs.submitJob({ command: ["sh", "-c", script], name: `long-${i}` });
      await waitForState(jobs, id, JobState.RUN);
      streamIds.push(id);
    }
    const calls: Promise<void>[] = streamIds.map(async (id, i) => {
      const name = (["connect-json-h1", "connect-binary-h2", "grpc", "grpc-web"] as const)[i]!;
      try {
        for await (const _ of createClient(JobService, transports[name]).streamJobOutput({ id })) void _;
        endings.push({ what: `stream over ${name}`, outcome: "ok" });
      } catch (e) {
        const err = ConnectError.from(e);
        endings.push({ what: `stream over ${name}`, outcome: "error", code: err.code, message: err.rawMessage });
      }
    });
    const load = startSubmitLoad(server.url, 6, `shutdown${process.pid}`);
    let reading = true;
    calls.push(
      (async () => {
        const reader = createClient(JobService, transports.grpc);
        while (reading) {
          try {
            await reader.listJobs({ pageSize: 100 });
            await reader.getJob({ id: streamIds[0]! });
            endings.push({ what: "read", outcome: "ok" });
          } catch (e) {
            const err = ConnectError.from(e);
            endings.push({ what: "read", outcome: "error", code: err.code, message: err.rawMessage });
            break;
          }
        }
      })(),
    );
    await new Promise((r) => setTimeout(r, 1500 + Math.floor(Math.random() * 1500)));
    server.kill("SIGTERM");
    exit = await server.exited;
    // Every call must end now that the process is gone: a hang fails the suite's timeout.
    reading = false;
    await load.stop();
    await Promise.all(calls);
    submissions = load.submissions;
    restarted = await startServerProcess({ dataDir, env: { FLUX_RESTFUL_LOCAL_CORES: "8" } });
  }, 120_000);

  afterAll(async () => {
    await killAllServerProcesses();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it("stops by itself (exit 0, not the overrun watchdog), logging nothing wrong", () => {
    expect(exit).toEqual({ code: 0, signal: null });
    expect(server.logs.map((l) => l.msg)).toContain("stopped");
    expect(JSON.stringify(troubleIn(server.logs).slice(0, 5), null, 1)).toBe("[]");
    expect(server.logs.some((l) => l.msg === "shutdown took too long; exiting")).toBe(false);
  });

  it("ended every call in flight, successfully or with a clean error", () => {
    const ends: Ending[] = [
      ...endings,
      ...submissions.filter((s) => s.failed !== undefined).map((s) => ({ what: `submit ${s.token}`, outcome: "error" as const, code: s.failedCode, message: s.failed })),
    ];
    expect(ends.filter((e) => e.what.startsWith("stream"))).toHaveLength(4);
    for (const e of ends.filter((e) => e.outcome === "error")) {
      expect(CLEAN_ENDINGS.has(e.code!) || TRANSPORT_ENDINGS.test(e.message ?? ""), `${e.what}: ${Code[e.code!]} ${e.message}`).toBe(true);
      expect(e.message).not.toMatch(/internal error/);
    }
    expect(submissions.filter((s) => s.id).length).toBeGreaterThan(10);
  });

  it("picks up exactly where it left off: every acknowledged job, once, ended by the shutdown", async () => {
    const client = createClient(JobService, createTransports(restarted.url)["connect-json-h1"]);
    // Nothing was left active for crash recovery to finish.
    expect(restarted.logs.some((l) => l.msg === "finished jobs left active by the previous server")).toBe(false);
    const all = await allJobs(client);
    const acked = submissions.filter((s) => s.id !== undefined);
    const byId = new Map(all.map((j) => [j.id, j]));
    for (const s of acked) expect(byId.get(s.id!)?.name, s.token).toBe(s.token);
    expect(new Set(all.map((j) => j.name)).size).toBe(all.length);
    for (const job of all) {
      expect(job.state, job.name).toBe(JobState.INACTIVE);
      if (job.result !== JobResult.COMPLETED) {
        expect(job.result, `${job.name} ${JSON.stringify(job.exception)}`).toBe(JobResult.CANCELED);
        expect(job.exception?.note, job.name).toBe("server shut down");
      }
    }
    for (const id of streamIds) {
      expect(byId.get(id)?.result).toBe(JobResult.CANCELED);
      expect((await readOutput(client, id)).stdout).toBe("started\n");
    }
    // New work gets new ids after every old one.
    const { id } = await client.submitJob({ command: ["echo", "next"] });
    expect(byId.has(id)).toBe(false);
    expect((await waitForState(client, id)).returncode).toBe(0);
    expect((await restarted.stop()).code).toBe(0);
  }, 120_000);
});
