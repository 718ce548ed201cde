/**
 * Starts task processes from a worker thread. child_process.spawn() is synchronous: it returns
 * only once the child has exec'd, which on a busy machine takes milliseconds per task, all of
 * them lost to the event loop that acknowledges submits and streams output. The spawn thread
 * (spawn-worker.mjs) takes that wait; output and exits come back as messages, in order.
 *
 * Protocol (all messages carry the task's key):
 *   to the thread:   spawn {file, args, cwd, env, uid?, gid?} · kill {signal} · mute (drop its output)
 *   from the thread: spawned {pid, startTicks} · error {code, message} · data {stream, data} ·
 *                    closed {code, signal} (last: the task exited and its output ended)
 */
import { Worker } from "node:worker_threads";
import type { LocalBackendLogger } from "./local-backend-options.js";

export interface SpawnRequest {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  uid?: number;
  gid?: number;
}

export interface SpawnCallbacks {
  onSpawned(pid: number, startTicks: number): void;
  /** The process could not be started (errno code such as "ENOENT", "EACCES"). */
  onError(code: string, message: string): void;
  onData(stream: "stdout" | "stderr", data: Uint8Array): void;
  /** Last call: code/signal as Node reports them; both null when no process ran. */
  onClosed(code: number | null, signal: NodeJS.Signals | null): void;
}

export interface TaskSpawner {
  /** Starts the thread now, so the first job does not wait for it to boot. */
  warm(): void;
  /** Starts a task; returns its key for kill(). */
  spawn(request: SpawnRequest, callbacks: SpawnCallbacks): number;
  /** Signals the task's process group if it still runs. */
  kill(task: number, signal: NodeJS.Signals): void;
  /** Drops the task's further output in the thread (it is still read, so the task never blocks). */
  mute(task: number): void;
  /** Stops the thread (tasks still running keep running). */
  close(): Promise<void>;
}

type FromWorker =
  | { task: number; op: "spawned"; pid: number; startTicks: number }
  | { task: number; op: "error"; code: string; message: string }
  | { task: number; op: "data"; stream: 0 | 1; data: Uint8Array }
  | { task: number; op: "closed"; code: number | null; signal: NodeJS.Signals | null };

const WORKER_URL = new URL("./spawn-worker.mjs", import.meta.url);

export function createTaskSpawner(logger: LocalBackendLogger): TaskSpawner {
  let worker: Worker | undefined;
  let nextTask = 1;
  const tasks = new Map<number, SpawnCallbacks>();

  function onMessage(m: FromWorker): void {
    const cb = tasks.get(m.task);
    if (cb === undefined) return;
    switch (m.op) {
      case "spawned":
        return cb.onSpawned(m.pid, m.startTicks);
      case "error":
        return cb.onError(m.code, m.message);
      case "data":
        return cb.onData(m.stream === 0 ? "stdout" : "stderr", m.data);
      case "closed":
        tasks.delete(m.task);
        // Idle, the thread must not keep the process alive; busy, it must (tasks are work).
        if (tasks.size === 0) worker?.unref();
        return cb.onClosed(m.code, m.signal);
    }
  }

  function thread(): Worker {
    if (worker !== undefined) return worker;
    const w = new Worker(WORKER_URL);
    w.on("message", onMessage);
    w.on("error", (error) => logger.error("spawn thread failed", { error }));
    w.on("exit", (code) => {
      if (worker === w) worker = undefined;
      if (tasks.size === 0) return;
      // Their exit statuses went with the thread: report the tasks as killed.
      logger.error("spawn thread exited with tasks running", { code, tasks: tasks.size });
      const lost = [...tasks.values()];
      tasks.clear();
      for (const cb of lost) cb.onClosed(null, "SIGKILL");
    });
    worker = w;
    return w;
  }

  return {
    warm() {
      if (tasks.size === 0) thread().unref();
    },
    spawn(request, callbacks) {
      const task = nextTask++;
      tasks.set(task, callbacks);
      const w = thread();
      w.ref();
      w.postMessage({ op: "spawn", task, ...request });
      return task;
    },
    kill(task, signal) {
      if (tasks.has(task)) worker?.postMessage({ op: "kill", task, signal });
    },
    mute(task) {
      if (tasks.has(task)) worker?.postMessage({ op: "mute", task });
    },
    async close() {
      const w = worker;
      worker = undefined;
      if (w !== undefined) await w.terminate();
    },
  };
}
