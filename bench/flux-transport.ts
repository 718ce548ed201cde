/**
 * Flux transports compared: submits/s at 1, 16 and 64 clients on the native transport
 * (broker socket) and the CLI transport (`flux job submit` per call), next to Flux's own
 * floor (`flux python` keeping as many submit_async in flight on one handle, and a burst of
 * 500), and ListJobs of 1,000 jobs with details on both transports.
 *
 *   node --import tsx bench/flux-transport.ts
 *
 * - FLUX_URI=local://... (a real instance): every series against it, interleaved
 *   native / floor / cli per client count, BENCH_ROUNDS times (default 3); medians and the
 *   median of the native/floor ratios are reported.
 *   - BENCH_FLUX_FRESH=1 (and `flux` on PATH): each series gets an instance of its own
 *     (`flux start --test-size=2` in a temp dir, shut down after), since an instance slows as
 *     jobs accumulate; FLUX_URI is then only used to say that a real Flux is wanted.
 *   - BENCH_FLUX_QUEUE=stopped (default) | running: with "stopped", scheduling is stopped
 *     (`flux queue stop`) during submit series, so they measure submission. With "running",
 *     the jobs also run meanwhile; on a small machine that measures job execution (a `true`
 *     job costs Flux ~20 ms of CPU in its shells, far more than its submission) competing
 *     with the server, the load generator and the broker for the same cores.
 *   - BENCH_CLIENT=connect (default: the Connect-ES client) | raw (raw-h2-load.ts, which takes
 *     less of the machine's CPU) | h2load (nghttp2's C load generator, bench/h2load.ts, which
 *     takes least: about 0.02 of a core against raw's 0.13-0.16 at 64 clients).
 *   Submissions go through the server's SubmitJob (BENCH_LEVEL=api, the default) or straight
 *   to the backend in this process (BENCH_LEVEL=backend).
 * - Always: the same native series against the fake broker answering at once (a process
 *   of its own, test/support/fake-broker, --synthetic). Those figures are the transport's
 *   own ceiling, NOT Flux.
 *
 * BENCH_SECONDS (default 5) sets each series' length, BENCH_CLIENTS (default 1,16,64) the client counts.
 * BENCH_CPU=1 prints, after each submit and floor series, the cores each command used (bench/proc-cpu.ts).
 * BENCH_FLOOR_SPEC=same adds a floor series submitting the jobspec the server built (read back
 * with `flux job info --original`), since the minimal python jobspec costs the broker less.
 * Results: bench/results/flux-transport.json.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { JobService } from "../gen/flux/restful/v1/job_service_pb.js";
import type { JobBackend, JobRequest } from "../server/backends/backend.js";
import { buildJobspec, createFluxBackend } from "../server/backends/flux/index.js";
import { createNativeFluxCalls } from "../server/backends/flux/native/index.js";
import { createSilentLogger } from "../server/logger.js";
import { cpuBetween, describeCpu, sampleCpu } from "./proc-cpu.js";
import { h2loadSubmitLoad, haveH2load } from "./h2load.js";
import { rawSubmitLoad } from "./raw-h2-load.js";
import { round, runLoop, startServerProcess, type LoopResult } from "./support.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const LEVEL = process.env.BENCH_LEVEL === "backend" ? "backend" : "api";
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const FRESH = process.env.BENCH_FLUX_FRESH === "1";
const QUEUE = process.env.BENCH_FLUX_QUEUE === "running" ? "running" : "stopped";
const CLIENT = (["raw", "h2load"] as const).find((c) => c === process.env.BENCH_CLIENT) ?? "connect";
if (CLIENT === "h2load" && !haveH2load()) throw new Error("BENCH_CLIENT=h2load needs h2load on PATH (Debian: apt-get install nghttp2-client)");
const CLIENTS = (process.env.BENCH_CLIENTS ?? "1,16,64").split(",").map(Number);
/** "same": the floor also submits the jobspec the server builds (read back with `flux job info --original`), next to the minimal one. */
const FLOOR_SPEC = process.env.BENCH_FLOOR_SPEC === "same" ? "same" : "minimal";
/** The jobspec the server submitted for `true`, once known (BENCH_FLOOR_SPEC=same). */
let serverJobspec: string | undefined;
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

// The bench's own process (and the Node load generators in it) apart from the server's "node" in BENCH_CPU lines.
process.title = "flux-bench";

/** Runs fn and prints who used the machine's CPU meanwhile (BENCH_CPU=1). */
async function withCpu<T>(label: string, fn: () => T | Promise<T>): Promise<T> {
  if (process.env.BENCH_CPU !== "1") return fn();
  const before = sampleCpu();
  const t0 = performance.now();
  const out = await fn();
  console.log(`  ${label}: ${describeCpu(cpuBetween(before, sampleCpu()), (performance.now() - t0) / 1000)}`);
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? NaN;

function report(key: string, r: LoopResult): void {
  const row = { perSecond: round(r.perSecond), p50Ms: round(r.p50Ms, 2), p99Ms: round(r.p99Ms, 2), errors: r.errors };
  results[key] = row;
  console.log(`${key.padEnd(56)} ${String(row.perSecond).padStart(8)}/s  p50 ${row.p50Ms} ms  p99 ${row.p99Ms} ms  errors ${r.errors}${r.firstError ? ` (${r.firstError.slice(0, 120)})` : ""}`);
}

const fluxRun = (uri: string, args: string[], timeoutMs = 120_000) =>
  new Promise<string>((resolve, reject) => {
    execFile("flux", args, { env: { ...process.env, FLUX_URI: uri }, encoding: "utf8", timeout: timeoutMs }, (e, out) => (e ? reject(e) : resolve(out)));
  });

interface Instance {
  uri: string;
  stop(): Promise<void>;
}

/** A fresh `flux start --test-size=2` in a temp dir (BENCH_FLUX_FRESH=1), or the instance at FLUX_URI. */
async function instance(existing: string): Promise<Instance> {
  if (!FRESH) return { uri: existing, stop: async () => {} };
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "flux-bench-"));
  const child = spawn("flux", ["start", "--test-size=2", `--test-rundir=${dir}`, "-Sbroker.rc2_none=1"], { stdio: "ignore", detached: true });
  const uri = `local://${dir}/local-0`;
  const exited = new Promise((r) => child.once("exit", r));
  for (let i = 0; ; i++) {
    const up = await fluxRun(uri, ["uptime"], 5000).catch(() => "");
    if (/ run /.test(up)) break;
    if (i > 150 || child.exitCode !== null) throw new Error(`flux start in ${dir} did not come up`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    uri,
    async stop() {
      await fluxRun(uri, ["shutdown", "--quiet"]).catch(() => child.kill("SIGTERM"));
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs fn on an instance with scheduling stopped or running (BENCH_FLUX_QUEUE). */
async function onInstance<T>(existing: string, fn: (uri: string) => Promise<T>): Promise<T> {
  const inst = await instance(existing);
  try {
    if (QUEUE === "stopped") await fluxRun(inst.uri, ["queue", "stop", "--quiet"]).catch(() => fluxRun(inst.uri, ["queue", "stop"]));
    try {
      return await fn(inst.uri);
    } finally {
      if (QUEUE === "stopped") await fluxRun(inst.uri, ["queue", "start", "--quiet"]).catch(() => fluxRun(inst.uri, ["queue", "start"]).catch(() => ""));
    }
  } finally {
    await inst.stop();
  }
}

/** A submit function through the server (api) or the backend (backend), and how to stop it. */
async function submitter(fluxUri: string, transport: "native" | "cli", fluxCommand?: string): Promise<{ load: (clients: number) => Promise<LoopResult>; stop: () => Promise<void>; level: string }> {
  if (LEVEL === "api") {
    try {
      const env: Record<string, string> = { FLUX_RESTFUL_BACKEND: "flux", FLUX_URI: fluxUri, FLUX_RESTFUL_FLUX_TRANSPORT: transport };
      if (fluxCommand !== undefined) env.FLUX_RESTFUL_FLUX_CMD = fluxCommand;
      const server = await startServerProcess(env);
      const client = createClient(JobService, createConnectTransport({ baseUrl: server.url, httpVersion: "2", useBinaryFormat: true }));
      const { id } = await client.submitJob({ command: ["true"] });
      if (FLOOR_SPEC === "same" && serverJobspec === undefined) serverJobspec = (await fluxRun(fluxUri, ["job", "info", "--original", id, "jobspec"])).trim();
      const load = (clients: number) =>
        CLIENT === "raw" ? rawSubmitLoad(server.url, "connect", clients, SECONDS)
        : CLIENT === "h2load" ? h2loadSubmitLoad(server.url, clients, SECONDS)
        : runLoop(clients, SECONDS, () => client.submitJob({ command: ["true"] }));
      return { load, stop: () => server.stop(), level: `api, ${CLIENT} client` };
    } catch (e) {
      console.log(`  (the server did not start with the flux backend: ${(e as Error).message}; measuring the backend in process)`);
    }
  }
  const native = transport === "native" ? createNativeFluxCalls({ fluxUri, logger }) : undefined;
  const backend = createFluxBackend({ fluxUri, baseEnvironment: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, logger, defaultCwd: "/tmp", calls: native, maxConcurrentCommands: 64 });
  await backend.start();
  await backend.submit(request, owner);
  return {
    load: (clients) => runLoop(clients, SECONDS, () => backend.submit(request, owner)),
    stop: async () => {
      await backend.close();
      await native?.close();
    },
    level: "backend",
  };
}

/**
 * Flux's own floor on one handle: "sustained" keeps `inflight` submit_async outstanding for
 * `seconds` (what a load loop of as many clients does); "burst" issues `inflight` at once and
 * collects every id.
 */
function pythonFloor(fluxUri: string, mode: "sustained" | "burst", inflight: number, seconds: number, jobspec?: string): number {
  const script = [
    "import flux, flux.job, json, sys, time",
    "h = flux.Flux()",
    // A jobspec on stdin (the server's own, BENCH_FLOOR_SPEC=same), else the minimal one for `true`.
    'given = sys.stdin.read()',
    'spec = given if given else flux.job.JobspecV1.from_command(["true"])',
    "mode, n, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])",
    "t0 = time.time()",
    "if mode == 'burst':",
    "    fs = [flux.job.submit_async(h, spec) for _ in range(n)]",
    "    [f.get_id() for f in fs]",
    "    done = n",
    "else:",
    "    count = [0]",
    "    deadline = t0 + secs",
    "    def cb(f):",
    "        f.get_id()",
    "        count[0] += 1",
    "        if time.time() < deadline:",
    "            flux.job.submit_async(h, spec).then(cb)",
    "    for _ in range(n):",
    "        flux.job.submit_async(h, spec).then(cb)",
    "    h.reactor_run()",
    "    done = count[0]",
    "print(json.dumps({'perSecond': done / (time.time() - t0)}))",
  ].join("\n");
  const out = execFileSync("flux", ["python", "-c", script, mode, String(inflight), String(seconds)], {
    env: { ...process.env, FLUX_URI: fluxUri },
    encoding: "utf8",
    timeout: 600_000,
    input: jobspec ?? "",
  });
  return (JSON.parse(out.trim().split("\n").pop()!) as { perSecond: number }).perSecond;
}

async function submitSeries(fluxUri: string, transport: "native" | "cli", clients: number): Promise<LoopResult & { level: string }> {
  return onInstance(fluxUri, async (uri) => {
    const s = await submitter(uri, transport);
    try {
      return { ...(await withCpu(`${transport} x${clients}`, () => s.load(clients))), level: s.level };
    } finally {
      await s.stop();
    }
  });
}

async function benchReal(fluxUri: string): Promise<void> {
  console.log(`\n== real Flux (${FRESH ? "a fresh instance per series" : fluxUri}; level ${LEVEL}; scheduling ${QUEUE} during submits; ${ROUNDS} rounds) ==`);
  for (const clients of CLIENTS) {
    const rows: Record<string, number[]> = { native: [], cli: [], floor: [], ratio: [], nativeErrors: [], sameFloor: [], sameRatio: [] };
    for (let round_ = 0; round_ < ROUNDS; round_++) {
      const native = await submitSeries(fluxUri, "native", clients);
      report(`real native submit x${clients} (${native.level}) round ${round_ + 1}`, native);
      const floor = await onInstance(fluxUri, async (uri) => withCpu(`floor x${clients}`, () => pythonFloor(uri, "sustained", clients, SECONDS)));
      console.log(`${`real floor: flux python, ${clients} submit_async in flight, round ${round_ + 1}`.padEnd(56)} ${String(round(floor)).padStart(8)}/s`);
      if (serverJobspec !== undefined) {
        const same = await onInstance(fluxUri, async (uri) => pythonFloor(uri, "sustained", clients, SECONDS, serverJobspec));
        console.log(`${`real floor, the server's jobspec (${serverJobspec.length} bytes), round ${round_ + 1}`.padEnd(56)} ${String(round(same)).padStart(8)}/s`);
        rows.sameFloor!.push(same);
        rows.sameRatio!.push(native.perSecond / same);
      }
      const cli = clients === 64 && round_ > 0 ? undefined : await submitSeries(fluxUri, "cli", clients);
      if (cli) report(`real cli submit x${clients} (${cli.level}) round ${round_ + 1}`, cli);
      rows.native!.push(native.perSecond);
      rows.nativeErrors!.push(native.errors);
      rows.floor!.push(floor);
      rows.ratio!.push(native.perSecond / floor);
      if (cli) rows.cli!.push(cli.perSecond);
    }
    const summary = {
      nativePerSecond: round(median(rows.native!)),
      floorPerSecond: round(median(rows.floor!)),
      nativeOverFloor: round(median(rows.ratio!), 2),
      cliPerSecond: round(median(rows.cli!)),
      nativeErrors: rows.nativeErrors!.reduce((a, b) => a + b, 0),
      ...(rows.sameFloor!.length > 0 ? { sameSpecFloorPerSecond: round(median(rows.sameFloor!)), nativeOverSameSpecFloor: round(median(rows.sameRatio!), 2) } : {}),
    };
    results[`real x${clients} medians`] = summary;
    console.log(`-- x${clients} medians: native ${summary.nativePerSecond}/s, floor ${summary.floorPerSecond}/s, native/floor ${summary.nativeOverFloor}, cli ${summary.cliPerSecond}/s, native errors ${summary.nativeErrors}` +
        (summary.sameSpecFloorPerSecond !== undefined ? `; floor with the server's jobspec ${summary.sameSpecFloorPerSecond}/s, native/that ${summary.nativeOverSameSpecFloor}` : ""));
  }
  const burst = await onInstance(fluxUri, async (uri) => pythonFloor(uri, "burst", 500, 0));
  results["real floor python submit_async burst of 500"] = round(burst);
  console.log(`${"real floor: flux python, a burst of 500 on one handle".padEnd(56)} ${String(round(burst)).padStart(8)}/s`);
}

/**
 * The cli transport's reference (issue 5: within 2x of it): `flux job submit` processes run
 * straight from this process, the same jobspec on stdin, 1 and 16 at a time, next to the
 * cli transport through the server, each on an instance of its own when BENCH_FLUX_FRESH=1.
 */
async function benchBare(fluxUri: string): Promise<void> {
  const spec = JSON.stringify(buildJobspec(request, { environment: { PATH: "/usr/bin:/bin" }, defaultCwd: "/tmp" }));
  const submitOnce = (uri: string) =>
    new Promise<void>((resolve, reject) => {
      const child = execFile("flux", ["job", "submit", "--urgency=16"], { env: { ...process.env, FLUX_URI: uri } }, (e) => (e ? reject(e) : resolve()));
      child.stdin?.end(spec);
    });
  for (const clients of [1, 16]) {
    for (let round_ = 0; round_ < ROUNDS; round_++) {
      const bare = await onInstance(fluxUri, (uri) => runLoop(clients, SECONDS, () => submitOnce(uri)));
      report(`real bare flux job submit x${clients} round ${round_ + 1}`, bare);
      const cli = await submitSeries(fluxUri, "cli", clients);
      report(`real cli submit x${clients} (${cli.level}) round ${round_ + 1}`, cli);
    }
  }
}

/** 1,000 completed jobs, then ListJobs right after a backend starts (cold) and again (warm), on both transports. */
async function benchRealList(fluxUri: string): Promise<void> {
  const inst = await instance(fluxUri);
  try {
    const calls = createNativeFluxCalls({ fluxUri: inst.uri, logger });
    const spec = JSON.stringify(buildJobspec(request, { environment: { PATH: "/usr/bin:/bin" }, defaultCwd: "/tmp" }));
    try {
      const existing = (await calls.list({ allUsers: false, attrs: [] })).length;
      let left = Math.max(0, 1000 - existing);
      await Promise.all(Array.from({ length: 16 }, async () => {
        while (left-- > 0) await calls.submit(spec, { urgency: 16 });
      }));
    } finally {
      await calls.close();
    }
    await fluxRun(inst.uri, ["queue", "drain"], 600_000);
    for (const transport of ["native", "cli", "native", "cli"] as const) {
      const native = transport === "native" ? createNativeFluxCalls({ fluxUri: inst.uri, logger }) : undefined;
      const t0 = performance.now();
      const backend = createFluxBackend({ fluxUri: inst.uri, baseEnvironment: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, logger, calls: native });
      try {
        await backend.start();
        const startMs = performance.now() - t0;
        console.log(`${`real ${transport} backend start()`.padEnd(56)} ${String(round(startMs, 1)).padStart(8)} ms`);
        results[`real ${transport} start ms`] = [...((results[`real ${transport} start ms`] as number[] | undefined) ?? []), round(startMs, 1)];
        await benchList(`real ${transport}`, backend);
      } finally {
        await backend.close();
        await native?.close();
      }
    }
  } finally {
    await inst.stop();
  }
}

async function benchList(label: string, backend: JobBackend): Promise<void> {
  const query = { pageSize: 1000, pageToken: "", orderBy: { column: "t_submit" as const, descending: true } };
  for (const run of ["cold", "warm", "warm"]) {
    const t0 = performance.now();
    const page = await backend.list(query);
    const ms = performance.now() - t0;
    const key = `${label} ListJobs ${page.jobs.length} jobs (${run})`;
    results[key] = [...((results[key] as number[] | undefined) ?? []), round(ms, 1)];
    console.log(`${`${label} list ${page.jobs.length} jobs with details (${run})`.padEnd(56)} ${String(round(ms, 1)).padStart(8)} ms`);
  }
  const t0 = performance.now();
  const filtered = await backend.list({ ...query, stateMask: 64, name: "true" });
  const key = `${label} ListJobs inactive named "true" (${filtered.jobs.length} jobs)`;
  results[key] = [...((results[key] as number[] | undefined) ?? []), round(performance.now() - t0, 1)];
  console.log(`${`${label} list with filters (${filtered.jobs.length} jobs)`.padEnd(56)} ${String(round(performance.now() - t0, 1)).padStart(8)} ms`);
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
        report(`fake native submit x${clients} (${s.level})`, await withCpu(`fake native x${clients}`, () => s.load(clients)));
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

// BENCH_PARTS (default "submit,list,fake"; also "bare") picks the parts to run.
const parts = new Set((process.env.BENCH_PARTS ?? "submit,list,fake").split(","));
const real = process.env.FLUX_URI;
if (real?.startsWith("local://")) {
  if (parts.has("submit")) await benchReal(real);
  if (parts.has("bare")) await benchBare(real);
  if (parts.has("list")) await benchRealList(real);
} else console.log(`real Flux series skipped: ${real ? `FLUX_URI "${real}" is not local://` : "FLUX_URI is not set"}`);
if (parts.has("fake")) await benchFake();
await fs.mkdir("bench/results", { recursive: true });
const settings = { seconds: SECONDS, level: LEVEL, rounds: ROUNDS, freshInstances: FRESH, scheduling: QUEUE, client: CLIENT, machineCpus: os.cpus().length };
await fs.writeFile("bench/results/flux-transport.json", JSON.stringify({ when: new Date().toISOString(), ...settings, results }, null, 2) + "\n");
