/**
 * Benchmark plumbing: a real server in its own process (so its RSS is its own), timing,
 * percentiles and a bounded concurrent loop.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import net from "node:net";
import { cpuTicks, parseStat, TICKS_PER_SECOND } from "./proc-cpu.js";

export interface ServerProcess {
  url: string;
  pid: number;
  dataDir: string;
  /** Resident memory of the server process alone. */
  rssBytes(): Promise<number>;
  /** Resident memory of the server's helper processes (the local backend's spawn helper). */
  helperRssBytes(): Promise<number>;
  /**
   * CPU seconds (user + system) used so far by the server and its helper processes (the local
   * backend starts tasks from one), from /proc/PID/stat; the tasks' own CPU is not included.
   */
  cpuSeconds(): Promise<number>;
  openFds(): Promise<number>;
  stop(): Promise<void>;
}

/** utime + stime of a process in seconds, or 0 when it is gone. */
async function processCpuSeconds(pid: number): Promise<number> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, "latin1").catch(() => "");
  if (stat === "") return 0;
  return cpuTicks(parseStat(stat).fields) / TICKS_PER_SECOND;
}

async function rssOf(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

/** The server's child processes that are Node processes (its helpers, not flux CLI calls). */
async function helperPids(pid: number): Promise<number[]> {
  const list = await fs.readFile(`/proc/${pid}/task/${pid}/children`, "latin1").catch(() => "");
  const pids = list.trim().split(/\s+/).filter(Boolean).map(Number);
  const comms = await Promise.all(pids.map((p) => fs.readFile(`/proc/${p}/comm`, "latin1").catch(() => "")));
  return pids.filter((_, i) => comms[i]!.trim() === "node");
}

/** A free TCP port on 127.0.0.1 (closed again before the server binds it). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts `server/main.ts` with a fresh data dir and waits until /healthz answers.
 * Logging stays at "warn" so per-request log lines do not take CPU from the measurement.
 * nodeArgs go to node before the script (e.g. --cpu-prof --cpu-prof-dir=DIR to profile the server).
 */
export async function startServerProcess(env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<ServerProcess> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "flux-restful-bench-"));
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, "--import", "tsx", "server/main.ts"], {
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      LANG: "C.UTF-8",
      PORT: String(port),
      FLUX_RESTFUL_DATA_DIR: dataDir,
      FLUX_RESTFUL_BACKEND: "local",
      FLUX_RESTFUL_LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  // A server that does not come up leaves neither a process nor its data dir behind.
  const giveUp = async (message: string): Promise<never> => {
    child.kill("SIGKILL");
    await fs.rm(dataDir, { recursive: true, force: true });
    throw new Error(message);
  };
  for (;;) {
    if (child.exitCode !== null) await giveUp(`server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) await giveUp("server did not start within 30 s");
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = child.pid!;
  return {
    url,
    pid,
    dataDir,
    rssBytes: () => rssOf(pid),
    async helperRssBytes() {
      const sizes = await Promise.all((await helperPids(pid)).map(rssOf));
      return sizes.reduce((a, b) => a + b, 0);
    },
    async cpuSeconds() {
      const seconds = await Promise.all([pid, ...(await helperPids(pid))].map(processCpuSeconds));
      return seconds.reduce((a, b) => a + b, 0);
    },
    async openFds() {
      return (await fs.readdir(`/proc/${pid}/fd`)).length;
    },
    async stop() {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 8000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export interface LoopResult {
  count: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  firstError?: string;
}

/** Runs `op` from `concurrency` workers for `seconds`, timing each call. */
export async function runLoop(concurrency: number, seconds: number, op: () => Promise<unknown>): Promise<LoopResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        try {
          await op();
          latencies.push(performance.now() - t0);
        } catch (e) {
          errors++;
          firstError ??= String(e);
        }
      }
    }),
  );
  return summarizeLoop(latencies, errors, started, firstError);
}

/** A LoopResult from the latencies (ms) of the calls that succeeded since `startedMs` (performance.now()). */
export function summarizeLoop(latencies: number[], errors: number, startedMs: number, firstError?: string): LoopResult {
  return loopResult(latencies, errors, (performance.now() - startedMs) / 1000, firstError);
}

/** A LoopResult from the latencies (ms) of the calls that succeeded in `elapsed` seconds. */
export function loopResult(latencies: number[], errors: number, elapsed: number, firstError?: string): LoopResult {
  latencies.sort((a, b) => a - b);
  return {
    count: latencies.length,
    errors,
    seconds: elapsed,
    perSecond: latencies.length / elapsed,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    firstError,
  };
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
