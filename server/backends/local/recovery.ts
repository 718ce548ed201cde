/**
 * What start() does about jobs a dead server left active: their processes (if still alive,
 * and really theirs) are killed, and each job gets a fatal exception and the rest of its
 * eventlog, so it ends INACTIVE (FAILED) instead of being silently forgotten.
 */
import type { JobEvent } from "../backend.js";
import type { LocalBackendLogger as Logger } from "./local-backend-options.js";
import { applyEvent } from "./job-state.js";
import type { JobStore } from "./job-store.js";
import { isSameProcessGroup } from "./proc-stat.js";

/** The exception type and note of a job that was active when the server died. */
export const RESTART_EXCEPTION = { type: "restart", note: "server restarted while the job was active" } as const;

export interface RecoveryOptions {
  store: JobStore;
  clock: () => number;
  logger: Logger;
}

/** Finishes every job the store still has active; returns how many. */
export function recoverActiveJobs(options: RecoveryOptions): number {
  const { store, clock, logger } = options;
  const jobs = store.activeJobs();
  for (const { record, extras } of jobs) {
    for (const proc of extras.procs) {
      if (!isSameProcessGroup(proc.pid, proc.startTicks)) continue;
      try {
        process.kill(-proc.pid, "SIGKILL");
        logger.warn("killed a task left by the previous server", { jobid: record.id.toString(), pid: proc.pid });
      } catch {
        // gone meanwhile
      }
    }
    let seq = store.readEvents(record.id).length;
    const emit = (name: string, context?: Record<string, unknown>): void => {
      const event: JobEvent = context === undefined ? { timestamp: clock(), name } : { timestamp: clock(), name, context };
      applyEvent(record, event);
      store.appendEvent(record.id, seq++, event);
    };
    emit("exception", { type: RESTART_EXCEPTION.type, severity: 0, note: RESTART_EXCEPTION.note, userid: record.userid });
    if (record.t_run > 0) {
      emit("release", { ranks: "all", final: true });
      emit("free");
    }
    emit("clean");
    const chunkCount = store.countChunks(record.id);
    store.saveJob(record, () => ({ chunkCount, exitCode: 1, procs: [] }));
  }
  store.commit();
  if (jobs.length > 0) logger.warn("finished jobs left active by the previous server", { count: jobs.length });
  return jobs.length;
}
