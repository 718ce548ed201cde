/**
 * `npm run bench`: the spine's benchmarks against a real server process with the local backend.
 *
 * - acknowledged submits of `true` per second, p50/p99 and server CPU seconds per 1,000 submits, at
 *   1, 16 and 64 clients: with the Connect-ES clients (Connect JSON over HTTP/1.1, Connect binary over
 *   HTTP/2, gRPC) and with raw-h2-load.ts (pre-encoded Connect binary and gRPC on bare HTTP/2
 *   streams), whose client takes much less of the machine's CPU from the server
 * - time from a job writing a line to a streaming client receiving it (p50/p99)
 * - ListJobs p50 with 10,000 jobs stored
 * - server RSS with 1,000 open output streams
 *
 * Targets (issue 2): >= 2,000 submits/s at 64 clients, stream latency p50 < 50 ms,
 * 1,000 streams < 300 MB. Results are printed and written to bench/results/spine.json.
 * BENCH_SECONDS (default 5) sets the length of each submit series, BENCH_RUNS (default 1) how
 * many times each one runs (the median is reported). One part only:
 * `npm run bench -- submit|submit-raw|stream|list|memory` (submit-raw: the raw-h2-load series alone).
 */
import fs from "node:fs/promises";
import { setMaxListeners } from "node:events";
import { createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { JobService } from "../gen/flux/restful/v1/job_service_pb.js";
import { rawSubmitLoad, type RawProtocol } from "./raw-h2-load.js";
import { percentile, round, runLoop, startServerProcess, type LoopResult, type ServerProcess } from "./support.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 1));
const results: Record<string, unknown> = {};

function transports(url: string): Record<string, Transport> {
  return {
    "connect-json-h1": createConnectTransport({ baseUrl: url, httpVersion: "1.1" }),
    "connect-binary-h2": createConnectTransport({ baseUrl: url, httpVersion: "2", useBinaryFormat: true }),
    grpc: createGrpcTransport({ baseUrl: url }),
  };
}

/**
 * One submit series on a fresh server (the backlog of `true` jobs from one series must not slow
 * the next), BENCH_RUNS times (default 1), each on its own fresh server; the row is the run with
 * the median rate (on a shared machine single runs swing widely), with every run's rate beside it.
 * CPU per 1,000 submits counts the server and its spawn helper over the measured seconds, and so
 * includes running the jobs that started meanwhile.
 */
async function submitSeries(
  label: string,
  clients: number,
  warmUp: (url: string) => Promise<() => Promise<LoopResult>>,
): Promise<void> {
  const runs: { r: LoopResult; cpu: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    const server = await startServerProcess();
    try {
      const run = await warmUp(server.url);
      const cpuBefore = await server.cpuSeconds();
      const r = await run();
      runs.push({ r, cpu: (await server.cpuSeconds()) - cpuBefore });
    } finally {
      await server.stop();
    }
  }
  const { r, cpu } = [...runs].sort((a, b) => a.r.perSecond - b.r.perSecond)[Math.floor((runs.length - 1) / 2)]!;
  const row = {
    perSecond: round(r.perSecond),
    p50Ms: round(r.p50Ms, 2),
    p99Ms: round(r.p99Ms, 2),
    errors: r.errors,
    serverCpuSecondsPer1000: r.count > 0 ? round((cpu / r.count) * 1000, 3) : null,
    ...(runs.length > 1 ? { runsPerSecond: runs.map((x) => round(x.r.perSecond)) } : {}),
  };
  results[`submit ${label} x${clients}`] = row;
  console.log(
    `submit  ${label.padEnd(18)} ${String(clients).padStart(2)} clients: ${row.perSecond}/s p50 ${row.p50Ms} ms p99 ${row.p99Ms} ms, ` +
      `server ${row.serverCpuSecondsPer1000} CPU s/1,000 submits, errors ${r.errors}${r.firstError ? ` (${r.firstError})` : ""}` +
      (runs.length > 1 ? ` (median of ${runs.length}: ${row.runsPerSecond!.join(", ")}/s)` : ""),
  );
}

async function benchSubmits(rawOnly: boolean): Promise<void> {
  for (const name of rawOnly ? [] : (["connect-json-h1", "connect-binary-h2", "grpc"] as const)) {
    for (const clients of [1, 16, 64]) {
      await submitSeries(name, clients, async (url) => {
        const client = createClient(JobService, transports(url)[name]!);
        await client.submitJob({ command: ["true"] });
        return () => runLoop(clients, SECONDS, () => client.submitJob({ command: ["true"] }));
      });
    }
  }
  for (const protocol of ["connect", "grpc"] as const satisfies readonly RawProtocol[]) {
    for (const clients of [1, 16, 64]) {
      await submitSeries(`raw-h2 ${protocol}`, clients, async (url) => {
        await rawSubmitLoad(url, protocol, clients, 0.5);
        return () => rawSubmitLoad(url, protocol, clients, SECONDS);
      });
    }
  }
}

async function benchStreamLatency(server: ServerProcess): Promise<void> {
  const client = createClient(JobService, transports(server.url)["connect-binary-h2"]!);
  // The job prints its own clock (ns) every 20 ms; the client compares with its clock on arrival.
  const script = "for i in $(seq 1 200); do date +%s%N; sleep 0.02; done";
  const { id } = await client.submitJob({ command: ["sh", "-c", script] });
  const latencies: number[] = [];
  let pending = "";
  for await (const msg of client.streamJobOutput({ id })) {
    if (msg.item.case !== "chunk") continue;
    const now = Date.now();
    pending += Buffer.from(msg.item.value.data).toString("utf8");
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) latencies.push(now - Number(BigInt(line) / 1_000_000n));
  }
  latencies.sort((a, b) => a - b);
  const row = { lines: latencies.length, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
  results["stream latency"] = row;
  console.log(`stream latency: ${row.lines} lines, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms`);
}

async function benchListJobs(server: ServerProcess): Promise<void> {
  const client = createClient(JobService, transports(server.url)["connect-binary-h2"]!);
  // Held jobs (urgency 0) are stored but never run, so 10,000 of them cost no processes.
  let submitted = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (submitted < 10_000) {
        submitted++;
        await client.submitJob({ command: ["true"], urgency: 0, name: submitted % 10 === 0 ? "tenth" : "held" });
      }
    }),
  );
  const first = await client.listJobs({ pageSize: 50 });
  const token = first.nextPageToken;
  const cases = {
    "first page": () => client.listJobs({ pageSize: 50 }),
    "second page": () => client.listJobs({ pageSize: 50, pageToken: token }),
    "by name": () => client.listJobs({ pageSize: 50, name: "tenth" }),
    "search": () => client.listJobs({ pageSize: 50, search: "tenth" }),
  };
  for (const [label, op] of Object.entries(cases)) {
    const r = await runLoop(1, 2, op);
    results[`list ${label} (10,000 jobs)`] = { p50Ms: round(r.p50Ms, 2), p99Ms: round(r.p99Ms, 2), total: first.totalSize };
    console.log(`ListJobs ${label.padEnd(12)} with ${first.totalSize} jobs: p50 ${round(r.p50Ms, 2)} ms p99 ${round(r.p99Ms, 2)} ms`);
  }
}

async function benchStreamsMemory(): Promise<void> {
  const server = await startServerProcess({ FLUX_RESTFUL_LOCAL_CORES: "4" });
  try {
    const rssBefore = await server.rssBytes();
    const client = createClient(JobService, transports(server.url)["connect-binary-h2"]!);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      ids.push((await client.submitJob({ command: ["sh", "-c", "echo started; sleep 60"] })).id);
    }
    const aborter = new AbortController();
    // One signal ends all 1,000 streams: that many listeners is the point, not a leak.
    setMaxListeners(2000, aborter.signal);
    const clientsPool = Array.from({ length: 10 }, () =>
      createClient(JobService, createConnectTransport({ baseUrl: server.url, httpVersion: "2", useBinaryFormat: true })),
    );
    let opened = 0;
    const streams = Array.from({ length: 1000 }, (_, i) =>
      (async () => {
        const c = clientsPool[i % clientsPool.length]!;
        try {
          for await (const msg of c.streamJobOutput({ id: ids[i % ids.length]! }, { signal: aborter.signal })) {
            if (msg.item.case === "chunk") opened++;
          }
        } catch {
          // aborted at the end of the benchmark
        }
      })(),
    );
    const deadline = Date.now() + 60_000;
    while (opened < 1000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const rss = await server.rssBytes();
    const helperRss = await server.helperRssBytes();
    const fds = await server.openFds();
    results["1,000 streams"] = { open: opened, rssMB: round(rss / 2 ** 20), rssBeforeMB: round(rssBefore / 2 ** 20), helperRssMB: round(helperRss / 2 ** 20), fds };
    console.log(
      `1,000 streams: ${opened} open, server RSS ${round(rss / 2 ** 20)} MB (idle ${round(rssBefore / 2 ** 20)} MB), ` +
        `spawn helper RSS ${round(helperRss / 2 ** 20)} MB, ${fds} fds`,
    );
    aborter.abort();
    await Promise.all(streams);
    for (const id of ids) await client.cancelJob({ id }).catch(() => {});
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const only = process.argv[2];
  if (!only || only === "submit" || only === "submit-raw") await benchSubmits(only === "submit-raw");
  if (!only || only === "stream" || only === "list") {
    const server = await startServerProcess({ FLUX_RESTFUL_LOCAL_CORES: "2" });
    try {
      if (!only || only === "stream") await benchStreamLatency(server);
      if (!only || only === "list") await benchListJobs(server);
    } finally {
      await server.stop();
    }
  }
  if (!only || only === "memory") await benchStreamsMemory();
  await fs.mkdir("bench/results", { recursive: true });
  await fs.writeFile(`bench/results/spine${only ? `-${only}` : ""}.json`, JSON.stringify(results, null, 2) + "\n");
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
