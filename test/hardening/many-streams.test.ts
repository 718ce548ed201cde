/**
 * 1,000 output streams open at once on one running job (Connect binary and gRPC over
 * HTTP/2, Connect JSON over HTTP/1.1, legacy SSE): all of them get the job's lines, the
 * server keeps answering other requests, all of them end when the job is canceled, and the
 * server's file descriptors and child processes come back to where they were.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobResult, JobState } from "../../gen/flux/restful/v1/job_pb.js";
import { JobService } from "../../gen/flux/restful/v1/job_service_pb.js";
import { readOutput, waitForState } from "../support/job-helpers.js";
import { createTransports } from "../support/transports.js";
import { killAllServerProcesses, startServerProcess, troubleIn, type ServerProcess } from "./server-process.js";

interface Follower {
  kind: string;
  opened: boolean;
  ended?: "end" | string;
}

async function childrenOf(pid: number): Promise<number> {
  const text = await fs.readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "");
  return text.trim() === "" ? 0 : text.trim().split(/\s+/).length;
}

describe("1,000 open output streams", () => {
  let dataDir: string;
  let server: ServerProcess;
  let jobId: string;
  const followers: Follower[] = [];
  let done: Promise<unknown>;
  const before = { fds: 0, children: 0 };
  const during = { fds: 0, rssMiB: 0, served: "" };

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "flux-restful-streams-"));
    server = await startServerProcess({ dataDir, env: { FLUX_RESTFUL_LOCAL_CORES: "2" } });
    const url = server.url;
    const jobs = createClient(JobService, createTransports(url)["connect-binary-h2"]);
    // Warm the server (spawn helper, sessions) before counting what it holds.
    await waitForState(jobs, (await jobs.submitJob({ command: ["true"] })).id);
    before.fds = await server.openFds();
    before.children = await childrenOf(server.pid);
    jobId = (await jobs.submitJob({ command: ["sh", "-c", "for i in $(seq 1 1200); do echo tick $i; sleep 0.1; done"], timeLimitSeconds: 150 })).id;
    await waitForState(jobs, jobId, JobState.RUN);

    const connect = (kind: string, transport: Transport): Promise<void> => {
      const f: Follower = { kind, opened: false };
      followers.push(f);
      return (async () => {
        try {
          for await (const msg of createClient(JobService, transport).streamJobOutput({ id: jobId })) {
            if (msg.item.case === "chunk") f.opened = true;
            if (msg.item.case === "end") f.ended = "end";
          }
        } catch (e) {
          f.ended = String(e);
        }
      })();
    };
    const sse = (): Promise<void> => {
      const f: Follower = { kind: "rest-sse", opened: false };
      followers.push(f);
      return (async () => {
        try {
          const res = await fetch(`${url}/v1/jobs/${encodeURIComponent(jobId)}/output/stream`, { headers: { accept: "text/event-stream" } });
          const decoder = new TextDecoder();
          let text = "";
          const reader = res.body!.getReader();
          for (let r = await reader.read(); !r.done; r = await reader.read()) {
            text += decoder.decode(r.value, { stream: true });
            if (text.includes("tick")) f.opened = true;
            if (text.includes("event: end")) f.ended = "end";
            text = text.slice(-64);
          }
        } catch (e) {
          f.ended = String(e);
        }
      })();
    };
    // HTTP/2 streams spread over a few connections, as several clients would.
    const h2 = Array.from({ length: 3 }, () => createConnectTransport({ baseUrl: url, httpVersion: "2", useBinaryFormat: true }));
    const grpc = Array.from({ length: 3 }, () => createGrpcTransport({ baseUrl: url }));
    const h1 = createConnectTransport({ baseUrl: url, httpVersion: "1.1" });
    const all: Promise<void>[] = [];
    for (let i = 0; i < 300; i++) all.push(connect("connect-binary-h2", h2[i % 3]!));
    for (let i = 0; i < 300; i++) all.push(connect("grpc", grpc[i % 3]!));
    for (let i = 0; i < 200; i++) all.push(connect("connect-json-h1", h1));
    for (let i = 0; i < 200; i++) all.push(sse());
    done = Promise.all(all);

    const deadline = Date.now() + 90_000;
    while (followers.some((f) => !f.opened && f.ended === undefined) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    during.fds = await server.openFds();
    during.rssMiB = Math.round((await server.rssBytes()) / 2 ** 20);
    const { id } = await jobs.submitJob({ command: ["echo", "served"] });
    await waitForState(jobs, id);
    during.served = (await readOutput(jobs, id)).stdout;
    console.log(`1,000 streams: server fds ${before.fds} -> ${during.fds}, RSS ${during.rssMiB} MiB`);
  }, 180_000);

  afterAll(async () => {
    await killAllServerProcesses();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it("delivers the job's lines to all 1,000 while serving other requests", () => {
    expect(followers).toHaveLength(1000);
    const notOpen = followers.filter((f) => !f.opened);
    expect(notOpen.map((f) => `${f.kind}: ${f.ended}`).slice(0, 5)).toEqual([]);
    expect(during.served).toBe("served\n");
    // Each HTTP/1.1 stream holds a socket; the HTTP/2 ones share six.
    expect(during.fds).toBeGreaterThanOrEqual(before.fds + 400);
  });

  it("ends every stream when the job is canceled, and gives back descriptors and processes", async () => {
    const jobs = createClient(JobService, createTransports(server.url).grpc);
    await jobs.cancelJob({ id: jobId });
    expect((await waitForState(jobs, jobId)).result).toBe(JobResult.CANCELED);
    // Bounded, so streams that never end are reported rather than timing the test out.
    await Promise.race([done, new Promise((r) => setTimeout(r, 60_000))]);
    const notEnded = followers.filter((f) => f.ended !== "end");
    expect(notEnded.map((f) => `${f.kind}: ${f.ended}`).slice(0, 5)).toEqual([]);
    // The HTTP/1.1 sockets close as their keep-alive runs out (5 s).
    const deadline = Date.now() + 20_000;
    let fds = await server.openFds();
    while (fds > before.fds + 10 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      fds = await server.openFds();
    }
    expect(fds).toBeLessThanOrEqual(before.fds + 10);
    expect(await childrenOf(server.pid)).toBe(before.children);
    expect(troubleIn(server.logs)).toEqual([]);
  }, 120_000);
});
