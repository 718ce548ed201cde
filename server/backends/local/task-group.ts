/**
 * The processes of one job: one per task (rank), each the leader of its own process group so
 * a signal reaches everything the task started. The argv runs as is (no implicit shell).
 * A task whose command cannot be started ends like a shell reports it: exit status 127 (not
 * found) or 126 (not executable), with the reason on the task's stderr.
 */
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

  // Methods here and below, not named arrow functions or function declarations: under tsx
  // (esbuild keepNames) each of those costs an Object.defineProperty every time a job starts.
  const ranks = {
    finish(rank: number, status: number): void {
      statuses[rank] = status;
      if (--remaining === 0) options.onDone(statuses);
    },
    reportFailure(rank: number, reason: string): void {
      const message = `task ${rank} (host ${options.hostname}): start failed: ${reason}`;
      options.onOutput(rank, "stderr", Buffer.from(`${message}\n`));
      options.onStartFailure(rank, message);
    },
  };

  const { file, args, ids } = spawnArgs(options);
  for (let rank = 0; rank < options.numTasks; rank++) {
    const env = options.environment(rank);
    let spawnError: { code: string; message: string } | undefined;
    let notFound: string | undefined;
    const key = spawner.spawn(
      { file, args, lookup: options.command[0]!, cwd: options.cwd, env, ...ids },
      {
        onSpawned(pid, startTicks) {
          processes.push({ pid, startTicks });
          options.onSpawned?.();
        },
        onUnfound(reason) {
          notFound = reason;
        },
        onError(code, message) {
          spawnError ??= { code, message };
        },
        onData(stream, data) {
          options.onOutput(rank, stream, data);
        },
        onClosed(code, signal) {
          live.delete(key);
          if (notFound !== undefined) {
            ranks.reportFailure(rank, notFound);
            ranks.finish(rank, exitedStatus(127));
            return;
          }
          if (code === null && signal === null) {
            // spawn failed (e.g. EACCES): no process ran
            const errno = spawnError?.code;
            const reason = errno === "ENOENT" ? "No such file or directory" : errno === "EACCES" ? "Permission denied" : (spawnError?.message ?? "unknown error");
            ranks.reportFailure(rank, `${options.command[0]}: ${reason}`);
            ranks.finish(rank, exitedStatus(errno === "ENOENT" ? 127 : 126));
            return;
          }
          ranks.finish(rank, waitStatusOf(code, signal));
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
