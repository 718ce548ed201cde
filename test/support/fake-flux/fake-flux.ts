/**
 * Starts a fake Flux instance for a test: a state directory with a "broker socket"
 * file, and the stand-in `flux` executable next to this file (see README.md).
 *
 * ```ts
 * const fake = await createFakeFlux();
 * const backend = createFluxBackend({ fluxCommand: fake.fluxCommand, fluxUri: fake.uri, baseEnvironment: fake.baseEnvironment, logger });
 * ...
 * await fake.stop(); // kills every job it started and removes the directory
 * ```
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const FAKE_FLUX_COMMAND = fileURLToPath(new URL("./flux", import.meta.url));

export interface FakeNode {
  hostname: string;
  cores: number;
  gpus: number;
}

export interface FakeFluxConfig {
  nodes?: FakeNode[];
  /** Ranks that are down / drained. */
  down?: number[];
  drained?: number[];
  /** Instance uptime folded into job ids; the default (a week) makes ids exceed 2^53. */
  uptimeMs?: number;
  /** Pause between alloc and start of every job. */
  startDelayMs?: number;
  /** What `flux config get` prints (the instance's TOML config as JSON); {} by default. */
  fluxConfig?: Record<string, unknown>;
}

export interface FakeFlux {
  /** The state directory (FAKE_FLUX_STATE_DIR). */
  dir: string;
  /** FLUX_URI of the fake instance: local://<dir>/local. */
  uri: string;
  fluxCommand: string;
  /** An environment allowlist that lets the fake and its jobs run. */
  baseEnvironment: Record<string, string>;
  /** Every argv the fake was called with (its argv.log), oldest first. */
  calls(): string[][];
  /** Environment variables each call saw (FLUX_URI, FLUX_F58_FORCE_ASCII, TERM, FLUX_ATTACH_NONINTERACTIVE). */
  callEnvs(): Record<string, string>[];
  /** Changes the instance (nodes, down/drained ranks...). */
  configure(config: FakeFluxConfig): void;
  /** Pids of job tasks still running. */
  runningTaskPids(): number[];
  /** Kills every runner and task it started, then removes the directory. */
  stop(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function createFakeFlux(config: FakeFluxConfig = {}): Promise<FakeFlux> {
  const dir = mkdtempSync(path.join(tmpdir(), "fake-flux-"));
  writeFileSync(path.join(dir, "local"), "");
  writeFileSync(path.join(dir, "config.json"), JSON.stringify(config));
  const readLog = <T>(name: string): T[] => {
    try {
      return readFileSync(path.join(dir, name), "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as T);
    } catch {
      return [];
    }
  };
  const jobDirs = () => {
    try {
      return readdirSync(path.join(dir, "jobs")).map((d) => path.join(dir, "jobs", d));
    } catch {
      return [];
    }
  };
  const pidsIn = (file: string): number[] => {
    try {
      const v = JSON.parse(readFileSync(file, "utf8")) as unknown;
      return Array.isArray(v) ? (v as number[]) : [Number(v)];
    } catch {
      return [];
    }
  };
  return {
    dir,
    uri: `local://${path.join(dir, "local")}`,
    fluxCommand: FAKE_FLUX_COMMAND,
    baseEnvironment: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: tmpdir(), LANG: "C.UTF-8" },
    calls: () => readLog<string[]>("argv.log"),
    callEnvs: () => readLog<Record<string, string>>("env.log"),
    configure(next) {
      writeFileSync(path.join(dir, "config.json"), JSON.stringify({ ...config, ...next }));
    },
    runningTaskPids: () => jobDirs().flatMap((d) => pidsIn(path.join(d, "tasks.json"))).filter(alive),
    async stop() {
      const runners = jobDirs().flatMap((d) => pidsIn(path.join(d, "runner.pid")));
      const tasks = jobDirs().flatMap((d) => pidsIn(path.join(d, "tasks.json")));
      for (const pid of runners) if (alive(pid)) process.kill(pid, "SIGKILL");
      // Tasks lead their own process groups.
      for (const pid of tasks) {
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      // Until a deadline, not a count of tries: a loaded machine reaps killed processes late.
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && [...runners, ...tasks].some(alive)) await new Promise((r) => setTimeout(r, 20));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
