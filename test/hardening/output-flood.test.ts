/**
 * Jobs that flood their output (a stream of lines, 50 MB without a newline, two tasks on
 * stderr) while followers read them: each job's output is cut at the configured limit and
 * marked truncated, the server keeps answering everyone else, followers see the end, the
 * legacy output route still answers with a 4 MiB line (in pieces), and the server's memory
 * stays bounded.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobResult, JobState } from "../../gen/flux/restful/v1/job_pb.js";
import { JobService } from "../../gen/flux/restful/v1/job_service_pb.js";
import { readOutput, waitForState } from "../support/job-helpers.js";
import { createTransports } from "../support/transports.js";
import { killAllServerProcesses, startServerProcess, troubleIn, type ServerProcess } from "./server-process.js";

const LIMIT = 4 * 1024 * 1024;
const MIB = 1024 * 1024;

describe("jobs that flood their output", () => {
  let dataDir: string;
  let server: ServerProcess;
  let rssBefore: number;
  const ids: Record<"lines" | "oneLine" | "stderr", string> = { lines: "", oneLine: "", stderr: "" };
  let connectFollower: Promise<{ bytes: number; end?: { truncated: boolean } }>;
  let restFollower: Promise<{ lines: number; last: string }>;
  const answered: string[] = [];

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "flux-restful-flood-"));
    server = await startServerProcess({ dataDir, env: { FLUX_RESTFUL_LOCAL_CORES: "8", FLUX_RESTFUL_MAX_OUTPUT_BYTES: String(LIMIT) } });
    rssBefore = await server.rssBytes();
    const transports = createTransports(server.url);
    const jobs = createClient(JobService, transports["connect-binary-h2"]);
    // Time limits only as a safety net: the test cancels them.
    ids.lines = (await jobs.submitJob({ command: ["yes", "a line of flood"], timeLimitSeconds: 60 })).id;
    ids.oneLine = (await jobs.submitJob({ command: ["sh", "-c", "head -c 50000000 /dev/zero | tr '\\0' x; exec sleep 60"], timeLimitSeconds: 60 })).id;
    ids.stderr = (await jobs.submitJob({ command: ["sh", "-c", "yes err >&2"], numTasks: 2, timeLimitSeconds: 60 })).id;

    connectFollower = (async () => {
      let bytes = 0;
      let end: { truncated: boolean } | undefined;
      for await (const msg of createClient(JobService, transports.grpc).streamJobOutput({ id: ids.lines })) {
        if (msg.item.case === "chunk") bytes += msg.item.value.data.byteLength;
        if (msg.item.case === "end") end = { truncated: msg.item.value.truncated };
      }
      return { bytes, end };
    })();
    restFollower = (async () => {
      const res = await fetch(`${server.url}/v1/jobs/${encodeURIComponent(ids.oneLine)}/output/stream`, { headers: { accept: "application/x-ndjson" } });
      const text = await res.text();
      const lines = text.trimEnd().split("\n");
      return { lines: lines.length, last: lines.at(-1) ?? "" };
    })();

    // Settled even if the test fails before it reads them.
    connectFollower.catch(() => {});
    restFollower.catch(() => {});

    // Everyone else is still served while the floods run.
    for (let i = 0; i < 10; i++) {
      await jobs.listJobs({ pageSize: 10 });
      await jobs.getJob({ id: ids.lines });
      answered.push("read");
    }
    const { id } = await jobs.submitJob({ command: ["echo", "still served"] });
    await waitForState(jobs, id, JobState.INACTIVE, 30_000);
    answered.push((await readOutput(jobs, id)).stdout);

    for (const id of Object.values(ids)) {
      const deadline = Date.now() + 60_000;
      while (!(await jobs.getJob({ id })).job?.outputTruncated && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    }
  }, 120_000);

  afterAll(async () => {
    await killAllServerProcesses();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it("kept serving other requests during the flood", () => {
    expect(answered).toEqual([...Array(10).fill("read"), "still served\n"]);
  });

  it("cuts each job's output at the limit and marks it truncated", async () => {
    const jobs = createClient(JobService, createTransports(server.url)["connect-json-h1"]);
    for (const [name, id] of Object.entries(ids)) {
      const { job } = await jobs.getJob({ id });
      expect(job?.outputTruncated, name).toBe(true);
      let total = 0;
      let offset = 0n;
      for (;;) {
        const page = await jobs.getJobOutput({ id, offset });
        for (const c of page.chunks) total += c.data.byteLength;
        if (page.chunks.length === 0 || page.nextOffset === offset) break;
        offset = page.nextOffset;
      }
      expect(total, name).toBe(LIMIT);
    }
  }, 120_000);

  it("answers the legacy output route with the 4 MiB line, in pieces", async () => {
    const res = await fetch(`${server.url}/v1/jobs/${encodeURIComponent(ids.oneLine)}/output`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { Output: string[] };
    // A line without a newline is passed on in pieces of at most 64 KiB, never held whole.
    expect(body.Output.join("")).toBe("x".repeat(LIMIT));
    expect(Math.max(...body.Output.map((l) => l.length))).toBeLessThanOrEqual(128 * 1024);
  });

  it("ends the jobs and their followers on cancel, truncated, with memory bounded", async () => {
    const jobs = createClient(JobService, createTransports(server.url).grpc);
    for (const id of Object.values(ids)) await jobs.cancelJob({ id });
    for (const id of Object.values(ids)) expect((await waitForState(jobs, id)).result).toBe(JobResult.CANCELED);
    const connect = await connectFollower;
    expect(connect.bytes).toBe(LIMIT);
    expect(connect.end).toEqual({ truncated: true });
    const rest = await restFollower;
    expect(JSON.parse(rest.last)).toMatchObject({ result: { end: { truncated: true } } });
    // 3 x 4 MiB kept, 150 MB+ produced: the server holds far less than what went by.
    const grownMiB = ((await server.rssBytes()) - rssBefore) / MIB;
    expect(grownMiB).toBeLessThan(256);
    expect(troubleIn(server.logs)).toEqual([]);
  }, 120_000);
});
