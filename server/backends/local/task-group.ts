/**
 * The processes of one job: one per task (rank), each the leader of its own process group so
 * a signal reaches everything the task started. The argv runs as is (no implicit shell).
 * A task whose command cannot be started ends like a shell reports it: exit status 127 (not
 * found) or 126 (not executable), with the reason on the task's stderr.
 */
import fs from "node:fs";
import path from "node:path";
import type { OutputStreamName } from "../backend.js";
import type { TaskProcess } from "./job-rows.js";
import type { TaskSpawner } from "./task-spawner.js";
import { exitedStatus, waitStatusOf } from "./wait-status.js";

/** The Linux account a job runs as (multi-user mode). */
export interface RunAs {
  uid: number;
  gid: number;
  /** Supplementary groups; undefined means the account's own (initgroups). */
  groups?: number[];
}

export interface TaskGroupOptions {
  command: string[];
  cwd: string;
  numTasks: number;
  /** The environment of task `rank`. */
  environment(rank: number): Record<string, string>;
  hostname: string;
  runAs?: RunAs;
  /** setpriv(1) from util-linux, to keep supplementary groups with runAs; undefined: Node's uid/gid only. */
  setprivPath?: string;
  onOutput(rank: number, stream: OutputStreamName, data: Uint8Array): void;
  /** A task could not be started; `message` is also written to its stderr through onOutput. */
  onStartFailure(rank: number, message: string): void;
  /** A task's process started (its pid is now in `processes`). */
  onSpawned?(): void;
  /** Every task exited and its output was read to the end: one wait status per rank. */
  onDone(statuses: number[]): void;
}

export interface TaskGroup {
  /** The started tasks (pids are process group ids). */
  readonly processes: TaskProcess[];
  /** Signals every task's process group that is still running. */
  kill(signal: NodeJS.Signals): void;
  /** Stops passing the tasks' output on (they keep running; their output is drained). */
  mute(): void;
  /** Whether any task is still running. */
  readonly running: boolean;
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Why argv0 cannot be found the way execvp would look for it, or undefined when it can. */
function lookupFailure(argv0: string, cwd: string, pathVar: string | undefined): string | undefined {
  try {
    if (!fs.statSync(cwd).isDirectory()) return `chdir ${cwd}: Not a directory`;
  } catch {
    return `chdir ${cwd}: No such file or directory`;
  }
  if (argv0.includes("/")) return isFile(path.resolve(cwd, argv0)) ? undefined : `${argv0}: No such file or directory`;
  const dirs = (pathVar ?? "/usr/local/bin:/usr/bin:/bin").split(":");
  return dirs.some((d) => isFile(path.resolve(cwd, d || ".", argv0))) ? undefined : `${argv0}: No such file or directory`;
}

function spawnArgs(options: TaskGroupOptions): { file: string; args: string[]; ids: { uid?: number; gid?: number } } {
  const [file, ...args] = options.command as [string, ...string[]];
  const runAs = options.runAs;
  if (runAs === undefined) return { file, args, ids: {} };
  if (options.setprivPath === undefined) return { file, args, ids: { uid: runAs.uid, gid: runAs.gid } };
  const groups = runAs.groups === undefined ? ["--init-groups"] : runAs.groups.length > 0 ? [`--groups=${runAs.groups.join(",")}`] : ["--clear-groups"];
  return {
    file: options.setprivPath,
    args: [`--reuid=${runAs.uid}`, `--regid=${runAs.gid}`, ...groups, "--", file, ...args],
    ids: {},
  };
}

/** Starts every task of a job now (through the spawn thread). */
export function startTaskGroup(spawner: TaskSpawner, options: TaskGroupOptions): TaskGroup {
  const statuses = new Array<number>(options.numTasks).fill(0);
  const live = new Set<number>();
  const processes: TaskProcess[] = [];
  let remaining = options.numTasks;

  const finishRank = (rank: number, status: number): void => {
    statuses[rank] = status;
    if (--remaining === 0) options.onDone(statuses);
  };

  const reportFailure = (rank: number, reason: string): void => {
    const message = `task ${rank} (host ${options.hostname}): start failed: ${reason}`;
    options.onOutput(rank, "stderr", Buffer.from(`${message}\n`));
    options.onStartFailure(rank, message);
  };

  const { file, args, ids } = spawnArgs(options);
  const environments = Array.from({ length: options.numTasks }, (_, rank) => options.environment(rank));
  // Every task has the same command, cwd and PATH: look once.
  const failure = lookupFailure(options.command[0]!, options.cwd, environments[0]?.PATH);
  for (let rank = 0; rank < options.numTasks; rank++) {
    const env = environments[rank]!;
    if (failure !== undefined) {
      // Reported on the next turn, like a real exit, so callers see the start first.
      setImmediate(() => {
        reportFailure(rank, failure);
        finishRank(rank, exitedStatus(127));
      });
      continue;
    }
    let spawnError: { code: string; message: string } | undefined;
    const key = spawner.spawn(
      { file, args, cwd: options.cwd, env, ...ids },
      {
        onSpawned: (pid, startTicks) => {
          processes.push({ pid, startTicks });
          options.onSpawned?.();
        },
        onError: (code, message) => {
          spawnError ??= { code, message };
        },
        onData: (stream, data) => options.onOutput(rank, stream, data),
        onClosed: (code, signal) => {
          live.delete(key);
          if (code === null && signal === null) {
            // spawn failed (e.g. EACCES): no process ran
            const errno = spawnError?.code;
            const reason = errno === "ENOENT" ? "No such file or directory" : errno === "EACCES" ? "Permission denied" : (spawnError?.message ?? "unknown error");
            reportFailure(rank, `${options.command[0]}: ${reason}`);
            finishRank(rank, exitedStatus(errno === "ENOENT" ? 127 : 126));
            return;
          }
          finishRank(rank, waitStatusOf(code, signal));
        },
      },
    );
    live.add(key);
  }

  return {
    processes,
    kill(signal) {
      for (const key of live) spawner.kill(key, signal);
    },
    mute() {
      for (const key of live) spawner.mute(key);
    },
    get running() {
      return remaining > 0;
    },
  };
}
