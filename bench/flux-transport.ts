/**
 * Flux transports compared: submits/s at 1, 16 and 64 clients on the native transport
 * (broker socket) and the CLI transport (`flux job submit` per call), plus Flux's own
 * floor (a `flux python` loop of submit_async on one handle), and ListJobs of 1,000 jobs.
 *
 *   node --import tsx bench/flux-transport.ts
 *
 * - FLUX_URI=local://... (a real instance): every series against it, interleaved
 *   native / cli / floor per client count so the instance's slowdown as jobs accumulate
 *   hits all three alike (compare ratios; restart the instance between runs for absolutes).
 *   Submissions go through the server's SubmitJob (BENCH_LEVEL=api, the default) or straight
 *   to the backend in this process (BENCH_LEVEL=backend).
 * - Always: the same native series against the fake broker answering at once (a process
 *   of its own, test/support/fake-broker, --synthetic). Those figures are the transport's
 *   own ceiling, NOT Flux: a real broker spends ~80 ms per submission.
 *
 * BENCH_SECONDS (default 5) sets each series' length. Results: bench/results/flux-transport.json.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import readline from "node:readline";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { JobService } from "../gen/flux/restful/v1/job_service_pb.js";
import type { JobBackend, JobRequest } from "../server/backends/backend.js";
import { buildJobspec, createFluxBackend } from "../server/backends/flux/index.js";
import { createNativeFluxCalls } from "../server/backends/flux/native/index.js";
import { createSilentLogger } from "../server/logger.js";
import { round, runLoop, startServerProcess, type LoopResult } from "./support.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const LEVEL = process.env.BENCH_LEVEL === "backend" ? "backend" : "api";
const CLIENTS = [1, 16, 64];
const results: Record<string, unknown> = {};
const logger = createSilentLogger();
const owner = { name: "bench" };
const request: JobRequest = {
  command: ["true"],
  numTasks: 1,
  coresPerTask: 1,
  gpusPerTask: 0,
  exclusive: false,
  cwd: "/tmp",
  environment: {},
  duration: 0,
  name: "true",
  urgency: 16,
  queue: "",
  shellOptions: {},
  isLauncher: false,
};

function report(key: string, r: LoopResult): void {
  const row = { perSecond: round(r.perSecond), p50Ms: round(r.p50Ms, 2), p99Ms: round(r.p99Ms, 2), errors: r.errors };
  results[key] = row;
  console.log(`${key.padEnd(52)} ${String(row.perSecond).padStart(8)}/s  p50 ${row.p50Ms} ms  p99 ${row.p99Ms} ms  errors ${r.errors}${r.firstError ? ` (${r.firstError.slice(0, 120)})` : ""}`);
}

/** A submit function through the server (api) or the backend (backend), and how to stop it. */
async function submitter(fluxUri: string, transport: "native" | "cli", fluxCommand?: string): Promise<{ submit: () => Promise<unknown>; stop: () => Promise<void>; level: string }> {
  if (LEVEL === "api") {
    try {
      const env: Record<string, string> = { FLUX_RESTFUL_BACKEND: "flux", FLUX_URI: fluxUri, FLUX_RESTFUL_FLUX_TRANSPORT: transport };
      if (fluxCommand !== undefined) env.FLUX_RESTFUL_FLUX_CMD = fluxCommand;
      const server = await startServerProcess(env);
      const client = createClient(JobService, createConnectTransport({ baseUrl: server.url, httpVersion: "2", useBinaryFormat: true }));
      return { submit: () => client.submitJob({ command: ["true"] }), stop: () => server.stop(), level: "api" };
    } catch (e) {
      console.log(`  (the server did not start with the flux backend: ${(e as Error).message}; measuring the backend in process)`);
    }
  }
  const native = transport === "native" ? createNativeFluxCalls({ fluxUri, logger }) : undefined;
  const backend = createFluxBackend({ fluxUri, baseEnvironment: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, logger, defaultCwd: "/tmp", calls: native, maxConcurrentCommands: 64 });
  await backend.start();
  return {
    submit: () => backend.submit(request, owner),
    stop: async () => {
      await backend.close();
      await native?.close();
    },
    level: "backend",
  };
}

/** Flux's own floor: n submit_async on one handle, all issued, then every id collected. */
function pythonFloor(fluxUri: string, jobs: number): number {
  const script = [
    "import flux, flux.job, json, sys, time",
    "h = flux.Flux()",
    'spec = flux.job.JobspecV1.from_command(["true"])',
    "n = int(sys.argv[1]); t0 = time.time()",
    "fs = [flux.job.submit_async(h, spec) for _ in range(n)]",
    "[f.get_id() for f in fs]",
    "print(json.dumps({'perSecond': n / (time.time() - t0)}))",
  ].join("\n");
  const out = execFileSync("flux", ["python", "-c", script, String(jobs)], { env: { ...process.env, FLUX_URI: fluxUri }, encoding: "utf8", timeout: 600_000 });
  return (JSON.parse(out.trim().split("\n").pop()!) as { perSecond: number }).perSecond;
}

async function benchReal(fluxUri: string): Promise<void> {
  console.log(`\n== real Flux at ${fluxUri} (level: ${LEVEL}) ==`);
  for (const clients of CLIENTS) {
    for (const transport of ["native", "cli"] as const) {
      const s = await submitter(fluxUri, transport);
      try {
        await s.submit();
        report(`real ${transport} submit x${clients} (${s.level})`, await runLoop(clients, SECONDS, s.submit));
      } finally {
        await s.stop();
      }
    }
    try {
      const floor = pythonFloor(fluxUri, 500);
      results[`real floor python submit_async x500 (series ${clients})`] = round(floor);
      console.log(`${`real floor: flux python submit_async, 500 on one handle`.padEnd(52)} ${String(round(floor)).padStart(8)}/s`);
    } catch (e) {
      console.log(`  floor not measured: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  const native = createNativeFluxCalls({ fluxUri, logger });
  const backend = createFluxBackend({ fluxUri, baseEnvironment: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, logger, calls: native });
  try {
    await benchList("real native", backend);
  } finally {
    await backend.close();
    await native.close();
  }
}

async function benchList(label: string, backend: JobBackend): Promise<void> {
  const query = { pageSize: 1000, pageToken: "", orderBy: { column: "t_submit" as const, descending: true } };
  for (const run of ["cold", "warm", "warm"]) {
    const t0 = performance.now();
    const page = await backend.list(query);
    const ms = performance.now() - t0;
    results[`${label} ListJobs ${page.jobs.length} jobs (${run})`] = round(ms, 1);
    console.log(`${`${label} list ${page.jobs.length} jobs with details (${run})`.padEnd(52)} ${String(round(ms, 1)).padStart(8)} ms`);
  }
}

async function startSyntheticBroker(jobs: number): Promise<{ uri: string; fluxCommand: string; stop: () => Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "test/support/fake-broker/run-fake-broker.ts", "--synthetic", String(jobs)], { stdio: ["ignore", "pipe", "inherit"] });
  const printed = new Map<string, string>();
  await new Promise<void>((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout! });
    lines.on("line", (l) => {
      const [k, ...v] = l.split("=");
      printed.set(k!, v.join("="));
      if (printed.has("FLUX_URI") && printed.has("FAKE_FLUX_COMMAND")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`fake broker exited with ${code}`)));
  });
  return {
    uri: printed.get("FLUX_URI")!,
    // The stand-in flux answers the server's readiness probe; submissions go over the socket.
    fluxCommand: printed.get("FAKE_FLUX_COMMAND")!,
    stop: async () => {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

async function benchFake(): Promise<void> {
  console.log("\n== FAKE BROKER (answers at once; the transport's ceiling, not Flux) ==");
  const broker = await startSyntheticBroker(1000);
  try {
    const calls = createNativeFluxCalls({ fluxUri: broker.uri, logger });
    const spec = JSON.stringify(buildJobspec(request, { environment: { PATH: "/usr/bin:/bin" }, defaultCwd: "/tmp" }));
    try {
      await calls.submit(spec, { urgency: 16 });
      for (const clients of CLIENTS) report(`fake native FluxCalls.submit x${clients}`, await runLoop(clients, SECONDS, () => calls.submit(spec, { urgency: 16 })));
    } finally {
      await calls.close();
    }
    for (const clients of CLIENTS) {
      const s = await submitter(broker.uri, "native", broker.fluxCommand);
      try {
        await s.submit();
        report(`fake native submit x${clients} (${s.level})`, await runLoop(clients, SECONDS, s.submit));
      } finally {
        await s.stop();
      }
    }
    const native = createNativeFluxCalls({ fluxUri: broker.uri, logger });
    const backend = createFluxBackend({ fluxUri: broker.uri, baseEnvironment: { PATH: "/usr/bin:/bin" }, logger, calls: native });
    try {
      await benchList("fake native", backend);
    } finally {
      await backend.close();
      await native.close();
    }
  } finally {
    await broker.stop();
  }
  console.log("(the CLI transport is not measured against the fake: the stand-in `flux` is a Node script, not the C command)");
}

const real = process.env.FLUX_URI;
if (real?.startsWith("local://")) await benchReal(real);
else console.log(`real Flux series skipped: ${real ? `FLUX_URI "${real}" is not local://` : "FLUX_URI is not set"}`);
await benchFake();
await fs.mkdir("bench/results", { recursive: true });
await fs.writeFile("bench/results/flux-transport.json", JSON.stringify({ when: new Date().toISOString(), seconds: SECONDS, level: LEVEL, results }, null, 2) + "\n");
