/**
 * The real server as its own process (`node --import tsx server/main.ts`, as bench/support.ts
 * starts it) on a data dir the caller owns, so a test can SIGKILL or SIGTERM it, restart it on
 * the same data, and read every log line it wrote. Nothing here removes the data dir.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface ServerProcessOptions {
  dataDir: string;
  /** Extra environment (FLUX_RESTFUL_* settings). */
  env?: Record<string, string>;
  /** Port to listen on; 0 (default) picks a free one. A restart passes the port of the first start. */
  port?: number;
  /** How long startup may take before it counts as a failure. Defaults to 60 s (a busy CI machine). */
  startTimeoutMs?: number;
}

export interface ServerProcess {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Every JSON log line so far (stderr), parsed; other lines as { msg: "<raw>", raw: true }. */
  readonly logs: Record<string, unknown>[];
  /** Resolves with the exit code and signal once the process is gone. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  isRunning(): boolean;
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after killAfterMs; resolves when the process is gone. */
  stop(killAfterMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  rssBytes(): Promise<number>;
  openFds(): Promise<number>;
}

/** Every running server process started here, so a failed test can still kill them all. */
const running = new Set<ChildProcess>();

export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      LANG: "C.UTF-8",
      HOST: "127.0.0.1",
      PORT: String(options.port ?? 0),
      FLUX_RESTFUL_DATA_DIR: options.dataDir,
      FLUX_RESTFUL_BACKEND: "local",
      FLUX_RESTFUL_LOG_LEVEL: "info",
      ...options.env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  running.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  const logs: Record<string, unknown>[] = [];
  const lines = readline.createInterface({ input: child.stderr! });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("server did not start in time")), options.startTimeoutMs ?? 60_000);
    lines.on("line", (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        entry = { msg: line, raw: true };
      }
      logs.push(entry);
      if (entry.msg === "listening" && typeof entry.url === "string") {
        clearTimeout(timer);
        resolve(entry.url);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      const said = logs.map((l) => String(l.msg)).join("\n");
      reject(new Error(`server exited during startup (code ${code}, signal ${signal}):\n${said}`));
    });
  });
  const pid = child.pid!;
  return {
    url,
    port: Number(new URL(url).port),
    pid,
    logs,
    exited,
    isRunning: () => child.exitCode === null && child.signalCode === null,
    kill: (signal) => void child.kill(signal),
    async stop(killAfterMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
        const result = await exited;
        clearTimeout(timer);
        return result;
      }
      return exited;
    },
    async rssBytes() {
      const status = await fs.readFile(`/proc/${pid}/status`, "utf8");
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
    },
    async openFds() {
      return (await fs.readdir(`/proc/${pid}/fd`)).length;
    },
  };
}

/** Kills every server process still running (afterAll of a failed test). */
export async function killAllServerProcesses(): Promise<void> {
  const all = [...running];
  for (const child of all) child.kill("SIGKILL");
  await Promise.all(all.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once("exit", r)) : undefined)));
}

/** Log lines at error level, or saying the process hit something it did not handle. */
export function troubleIn(logs: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  return logs.filter((l) => l.level === "error" || l.level === "fatal" || /uncaught|unhandled/i.test(String(l.msg)));
}
