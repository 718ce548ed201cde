/**
 * Starts task processes from a small helper process (spawn-worker.mjs). child_process.spawn()
 * forks the calling process and waits until the child has exec'd. Forking the server itself
 * costs a copy of its page tables per task and, worse, stalls the server's event loop while the
 * fork holds its memory map (even from a worker thread: threads share it), then makes the
 * server's next writes to every page fault. The helper is small and does nothing else, so its
 * forks are cheap and the server's loop, which acknowledges submits and streams output, is never
 * held by them. Output and exits come back as messages, in order.
 *
 * Protocol (messages travel in arrays, one per turn; each carries the task's key):
 *   to the helper:   spawn {file, args, lookup, cwd, env, uid?, gid?} · kill {signal} · mute (drop its output)
 *   from the helper: spawned {pid, startTicks} · unfound {reason} · error {code, message} ·
 *                    data {stream, data} · closed {code, signal} (last: the task exited and its output ended)
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { LocalBackendLogger } from "./local-backend-options.js";

export interface SpawnRequest {
  file: string;
  args: string[];
  /**
   * The command the job asked for (file may be setpriv): when the spawn fails, it is looked up
   * with cwd and env.PATH the way execvp would, to say which of cwd and command is missing.
   */
  lookup: string;
  cwd: string;
  env: Record<string, string>;
  uid?: number;
  gid?: number;
}

export interface SpawnCallbacks {
  onSpawned(pid: number, startTicks: number): void;
  /** The cwd or the command does not exist (`reason` as a shell words it); nothing was started. */
  onUnfound(reason: string): void;
  /** The process could not be started (errno code such as "ENOENT", "EACCES"). */
  onError(code: string, message: string): void;
  onData(stream: "stdout" | "stderr", data: Uint8Array): void;
  /** Last call: code/signal as Node reports them; both null when no process ran. */
  onClosed(code: number | null, signal: NodeJS.Signals | null): void;
}

export interface TaskSpawner {
  /** Starts the helper now, so the first job does not wait for it to boot. */
  warm(): void;
  /** Starts a task; returns its key for kill(). */
  spawn(request: SpawnRequest, callbacks: SpawnCallbacks): number;
  /** Signals the task's process group if it still runs. */
  kill(task: number, signal: NodeJS.Signals): void;
  /** Drops the task's further output in the helper (it is still read, so the task never blocks). */
  mute(task: number): void;
  /** Stops the helper (tasks still running keep running). */
  close(): Promise<void>;
}

type FromWorker =
  | { task: number; op: "spawned"; pid: number; startTicks: number }
  | { task: number; op: "unfound"; reason: string }
  | { task: number; op: "error"; code: string; message: string }
  | { task: number; op: "data"; stream: 0 | 1; data: Uint8Array }
  | { task: number; op: "closed"; code: number | null; signal: NodeJS.Signals | null };

const HELPER_PATH = fileURLToPath(new URL("./spawn-worker.mjs", import.meta.url));

export function createTaskSpawner(logger: LocalBackendLogger): TaskSpawner {
  let helper: ChildProcess | undefined;
  let nextTask = 1;
  const tasks = new Map<number, SpawnCallbacks>();
  // Requests made in one turn go to the helper as one message (one write, one wakeup).
  let outbox: object[] = [];

  function post(message: object): void {
    if (outbox.length === 0) queueMicrotask(flush);
    outbox.push(message);
  }

  function flush(): void {
    const batch = outbox;
    outbox = [];
    if (batch.length > 0 && helper?.connected) helper.send(batch);
  }

  // Idle, the helper must not keep the server alive; busy, it must (tasks are work).
  function setRef(child: ChildProcess, ref: boolean): void {
    if (ref) {
      child.ref();
      child.channel?.ref();
    } else {
      child.unref();
      child.channel?.unref();
    }
  }

  function onMessage(m: FromWorker): void {
    const cb = tasks.get(m.task);
    if (cb === undefined) return;
    switch (m.op) {
      case "spawned":
        return cb.onSpawned(m.pid, m.startTicks);
      case "unfound":
        return cb.onUnfound(m.reason);
      case "error":
        return cb.onError(m.code, m.message);
      case "data":
        return cb.onData(m.stream === 0 ? "stdout" : "stderr", m.data);
      case "closed":
        tasks.delete(m.task);
        if (tasks.size === 0 && helper !== undefined) setRef(helper, false);
        return cb.onClosed(m.code, m.signal);
    }
  }

  function helperProcess(): ChildProcess {
    if (helper !== undefined) return helper;
    // No loader flags (it is plain JS) and no environment: tasks get theirs in each request.
    const child = fork(HELPER_PATH, [], {
      execArgv: [],
      env: {},
      serialization: "advanced",
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    });
    child.on("message", (batch: FromWorker[]) => {
      for (const m of batch) onMessage(m);
    });
    child.on("error", (error) => logger.error("spawn helper failed", { error }));
    child.on("exit", (code, signal) => {
      if (helper === child) helper = undefined;
      if (tasks.size === 0) return;
      // Their exit statuses went with the helper: report the tasks as killed.
      logger.error("spawn helper exited with tasks running", { code, signal, tasks: tasks.size });
      const lost = [...tasks.values()];
      tasks.clear();
      for (const cb of lost) cb.onClosed(null, "SIGKILL");
    });
    helper = child;
    return child;
  }

  return {
    warm() {
      if (tasks.size === 0) setRef(helperProcess(), false);
    },
    spawn(request, callbacks) {
      const task = nextTask++;
      tasks.set(task, callbacks);
      const child = helperProcess();
      setRef(child, true);
      post({ op: "spawn", task, ...request });
      return task;
    },
    kill(task, signal) {
      if (tasks.has(task)) post({ op: "kill", task, signal });
    },
    mute(task) {
      if (tasks.has(task)) post({ op: "mute", task });
    },
    async close() {
      const child = helper;
      helper = undefined;
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      // It exits when its channel closes; a helper that does not is killed (its tasks live on).
      child.disconnect();
      const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
      await exited;
      clearTimeout(timer);
    },
  };
}
