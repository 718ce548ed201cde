/**
 * The flux backend through the whole server: submits/s at 1 and 16 clients, GetJob p50,
 * ListJobs p50 with many jobs stored, and the time from a job writing a line to a
 * streaming client receiving it.
 *
 *   node --import tsx bench/flux-backend.ts
 *
 * - FLUX_URI set and `flux` on PATH: against that real instance (1,000 jobs listed).
 * - Otherwise: against the stand-in `flux` of test/support/fake-flux, labelled as such. The
 *   stand-in is a Node script, so every call pays ~60-80 ms of Node start-up that real
 *   flux-core's C commands do not: these figures bound the server's own overhead, not Flux.
 *   It lists BENCH_FLUX_JOBS jobs (default 200: filling 1,000 through the stand-in takes minutes).
 *
 * FLUX_RESTFUL_FLUX_TRANSPORT is passed through (cli by default here; native needs a real broker).
 * BENCH_SECONDS (default 5) sets each submit series. Results: bench/results/flux-backend.json.
 */
import fs from "node:fs/promises";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { JobService } from "../gen/flux/restful/v1/job_service_pb.js";
import { createFakeFlux, type FakeFlux } from "../test/support/fake-flux/fake-flux.js";
import { percentile, round, runLoop, startServerProcess } from "./support.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const real = process.env.FLUX_URI !== undefined;
const JOBS = Number(process.env.BENCH_FLUX_JOBS ?? (real ? 1000 : 200));
const results: Record<string, unknown> = { target: real ? `real instance ${process.env.FLUX_URI}` : "stand-in flux (not Flux)" };

async function main(): Promise<void> {
  let fake: FakeFlux | undefined;
  const env: Record<string, string> = {
    FLUX_RESTFUL_BACKEND: "flux",
    FLUX_RESTFUL_FLUX_TRANSPORT: process.env.FLUX_RESTFUL_FLUX_TRANSPORT ?? "cli",
  };
  if (real) {
    env.FLUX_URI = process.env.FLUX_URI!;
  } else {
    fake = await createFakeFlux({ nodes: [{ hostname: "bench0", cores: 64, gpus: 0 }, { hostname: "bench1", cores: 64, gpus: 0 }] });
    env.FLUX_URI = fake.uri;
    env.FLUX_RESTFUL_FLUX_CMD = fake.fluxCommand;
  }
  const server = await startServerProcess(env);
  console.log(`flux backend benchmark against ${results.target}`);
  try {
    const client = createClient(JobService, createConnectTransport({ baseUrl: server.url, httpVersion: "2", useBinaryFormat: true }));

    for (const clients of [1, 16]) {
      const r = await runLoop(clients, SECONDS, () => client.submitJob({ command: ["true"] }));
      results[`submit x${clients}`] = { perSecond: round(r.perSecond), p50Ms: round(r.p50Ms, 1), p99Ms: round(r.p99Ms, 1), errors: r.errors };
      console.log(`submit ${String(clients).padStart(2)} clients: ${round(r.perSecond)}/s p50 ${round(r.p50Ms, 1)} ms p99 ${round(r.p99Ms, 1)} ms errors ${r.errors}${r.firstError ? ` (${r.firstError})` : ""}`);
    }

    const { id } = await client.submitJob({ command: ["true"] });
    const get = await runLoop(1, 3, () => client.getJob({ id }));
    results["GetJob"] = { p50Ms: round(get.p50Ms, 1), p99Ms: round(get.p99Ms, 1) };
    console.log(`GetJob: p50 ${round(get.p50Ms, 1)} ms p99 ${round(get.p99Ms, 1)} ms`);

    // Held jobs (urgency 0) fill the listing without running anything.
    let total = (await client.listJobs({ pageSize: 1 })).totalSize;
    while (total < JOBS) {
      const batch = Math.min(16, JOBS - total);
      await Promise.all(Array.from({ length: batch }, () => client.submitJob({ command: ["true"], urgency: 0 })));
      total += batch;
    }
    const list = await runLoop(1, 5, () => client.listJobs({ pageSize: 1000 }));
    const listed = (await client.listJobs({ pageSize: 1000 })).jobs.length;
    results[`ListJobs (${listed} jobs in one page)`] = { p50Ms: round(list.p50Ms, 1), p99Ms: round(list.p99Ms, 1) };
    console.log(`ListJobs of ${listed} jobs: p50 ${round(list.p50Ms, 1)} ms p99 ${round(list.p99Ms, 1)} ms`);

    const script = "for i in $(seq 1 40); do date +%s%N; sleep 0.05; done";
    const stream = await client.submitJob({ command: ["sh", "-c", script] });
    const latencies: number[] = [];
    let pending = "";
    for await (const msg of client.streamJobOutput({ id: stream.id })) {
      if (msg.item.case !== "chunk") continue;
      const now = Date.now();
      pending += Buffer.from(msg.item.value.data).toString("utf8");
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) if (/^\d+$/.test(line)) latencies.push(now - Number(BigInt(line) / 1_000_000n));
    }
    latencies.sort((a, b) => a - b);
    results["first streamed line after the job writes it"] = { lines: latencies.length, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
    console.log(`stream: ${latencies.length} lines, p50 ${percentile(latencies, 50)} ms p99 ${percentile(latencies, 99)} ms`);

    for (const j of (await client.listJobs({ pageSize: 1000, stateMask: 62 })).jobs) await client.cancelJob({ id: j.id }).catch(() => {});
  } finally {
    await server.stop();
    await fake?.stop();
  }
  await fs.mkdir("bench/results", { recursive: true });
  await fs.writeFile("bench/results/flux-backend.json", JSON.stringify(results, null, 2) + "\n");
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
