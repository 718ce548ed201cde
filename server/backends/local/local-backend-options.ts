/**
 * Options of the local backend, and their defaults.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Logger } from "../../logger.js";

/** The logging the backend needs (server/logger.ts Logger fits). */
export type LocalBackendLogger = Pick<Logger, "debug" | "info" | "warn" | "error">;

export interface LocalBackendOptions {
  /** Directory of the job database (jobs.sqlite); created when missing. */
  dataDir: string;
  /** Cores jobs may use. Defaults to os.availableParallelism(). */
  cores?: number;
  /** GPUs jobs may request. Defaults to 0. */
  gpus?: number;
  /** The node's name in records and nodes(). Defaults to os.hostname(). */
  hostname?: string;
  /** Output kept per job; the rest is dropped and the job marked truncated. Defaults to 16 MiB. */
  maxOutputBytesPerJob?: number;
  /** How long tasks get after SIGTERM (cancel) or SIGALRM (time limit) before SIGKILL. Defaults to 5000. */
  killGraceMs?: number;
  /** Working directory of jobs that name none. Defaults to process.cwd(). */
  defaultCwd?: string;
  /**
   * The FLUID epoch (ms since 1970) job ids count from. Defaults to the one stored in the
   * database, which is the time of the first start.
   */
  idEpochMs?: number;
  logger: LocalBackendLogger;
  /**
   * The server variables jobs may see (a small allowlist such as PATH, LANG, TZ); never the
   * server's whole environment. Jobs add their owner's login variables and their own.
   */
  baseEnvironment: Readonly<Record<string, string>>;
  /**
   * setpriv(1) (util-linux), used in multi-user mode to run a job as its owner with the owner's
   * supplementary groups. Defaults to the first of /usr/bin/setpriv, /bin/setpriv that exists;
   * null disables it, and jobs then run with the owner's uid and gid only (Node's spawn drops
   * supplementary groups).
   */
  setprivPath?: string | null;
}

export interface ResolvedOptions {
  dataDir: string;
  cores: number;
  gpus: number;
  hostname: string;
  maxOutputBytesPerJob: number;
  killGraceMs: number;
  defaultCwd: string;
  idEpochMs?: number;
  logger: LocalBackendLogger;
  baseEnvironment: Readonly<Record<string, string>>;
  setprivPath?: string;
}

const SETPRIV_PATHS = ["/usr/bin/setpriv", "/bin/setpriv"];

function check(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`local backend option ${name} must be an integer of at least ${min} (got "${value}")`);
  }
  return value;
}

export function resolveOptions(options: LocalBackendOptions): ResolvedOptions {
  const setprivPath =
    options.setprivPath === null
      ? undefined
      : (options.setprivPath ?? SETPRIV_PATHS.find((p) => fs.existsSync(p)));
  return {
    dataDir: path.resolve(options.dataDir),
    cores: check("cores", options.cores ?? os.availableParallelism(), 1),
    gpus: check("gpus", options.gpus ?? 0, 0),
    hostname: options.hostname ?? os.hostname(),
    maxOutputBytesPerJob: check("maxOutputBytesPerJob", options.maxOutputBytesPerJob ?? 16 * 1024 * 1024, 0),
    killGraceMs: check("killGraceMs", options.killGraceMs ?? 5000, 0),
    defaultCwd: options.defaultCwd ?? process.cwd(),
    idEpochMs: options.idEpochMs,
    logger: options.logger,
    baseEnvironment: { ...options.baseEnvironment },
    setprivPath,
  };
}
