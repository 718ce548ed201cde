/**
 * Runs active jobs through Flux's states: every change is an eventlog event, applied to the
 * record (job-state.ts), queued for the store, and pushed to followers, in that order.
 *
 * Event sequences mirror flux-core 0.88 (flux-reference/job-info-*-eventlog.txt):
 *   completed/failed:  submit validate depend priority alloc start finish release free clean
 *   canceled running:  ... start exception(cancel) finish release free clean
 *   timeout:           ... start exception(timeout) finish release free clean
 *   canceled pending:  submit validate depend priority exception(cancel) clean
 */
import type { JobEvent, JobOwner, JobRequest, OutputItem, OutputStreamName } from "../backend.js";
import { JobStateBit } from "../backend.js";
import type { LocalBackendLogger as Logger } from "./local-backend-options.js";
import { applyEvent } from "./job-state.js";
import type { JobStore } from "./job-store.js";
import type { LiveFeed } from "./live-feed.js";
import { createLiveJob, priorityOf, taskEnvironment, type LiveJob, type NodeCapacity } from "./local-job.js";
import { resourceSummary, type Allocation, type Scheduler } from "./scheduler.js";
import { startTaskGroup } from "./task-group.js";
import type { TaskSpawner } from "./task-spawner.js";
import { setLongTimeout } from "./timers.js";
import { attachExitCode } from "./wait-status.js";

export interface JobEngineOptions {
  store: JobStore;
  scheduler: Scheduler;
  outputFeed: LiveFeed<OutputItem>;
  eventFeed: LiveFeed<JobEvent>;
  node: NodeCapacity;
  hostname: string;
  maxOutputBytesPerJob: number;
  killGraceMs: number;
  defaultCwd: string;
  baseEnvironment: Readonly<Record<string, string>>;
  setprivPath?: string;
  spawner: TaskSpawner;
  logger: Logger;
}

const PENDING = JobStateBit.DEPEND | JobStateBit.PRIORITY | JobStateBit.SCHED;
// Spawning is synchronous (fork+exec): start a few jobs per turn so requests keep flowing.
const STARTS_PER_TURN = 8;

/** Seconds since the epoch with sub-millisecond precision, never going backwards. */
export function createClock(): () => number {
  let last = 0;
  return () => {
    const t = (performance.timeOrigin + performance.now()) / 1000;
    last = t > last ? t : last;
    return last;
  };
}

export type JobEngine = ReturnType<typeof createJobEngine>;

export function createJobEngine(options: JobEngineOptions) {
  const { store, scheduler, logger } = options;
  const active = new Map<bigint, LiveJob>();
  const now = createClock();
  let schedulePending = false;
  let onIdle: (() => void) | undefined;

  const extrasOf = (job: LiveJob) => () => ({ chunkCount: job.chunkCount, exitCode: job.exitCode, procs: job.procs });

  function emit(job: LiveJob, name: string, context?: Record<string, unknown>): void {
    const event: JobEvent = context === undefined ? { timestamp: now(), name } : { timestamp: now(), name, context };
    applyEvent(job.record, event);
    store.appendEvent(job.record.id, job.events.length, event);
    job.events.push(event);
    store.saveJob(job.record, extrasOf(job), job.searchKey);
    options.eventFeed.publish(job.record.id, event);
  }

  /** Emits clean, ends the output, forgets the job. */
  function retire(job: LiveJob, statuses: number[]): void {
    for (const cancel of job.timers) cancel();
    job.timers = [];
    job.exitCode = attachExitCode(statuses);
    emit(job, "clean");
    active.delete(job.record.id);
    options.outputFeed.publish(job.record.id, { kind: "end", exitCode: job.exitCode, truncated: job.record.outputTruncated });
    if (active.size === 0) onIdle?.();
  }

  function requestSchedule(): void {
    if (schedulePending) return;
    schedulePending = true;
    setImmediate(schedulePass);
  }

  function schedulePass(): void {
    schedulePending = false;
    for (let started = 0; started < STARTS_PER_TURN; started++) {
      const next = scheduler.next();
      if (next === undefined) return;
      const job = active.get(next.request.id);
      if (job === undefined || job.record.state !== JobStateBit.SCHED) {
        scheduler.release(next.alloc);
        continue;
      }
      start(job, next.alloc);
    }
    requestSchedule();
  }

  function start(job: LiveJob, alloc: Allocation): void {
    const record = job.record;
    job.alloc = alloc;
    record.ncores = alloc.cores.length;
    record.ngpus = alloc.gpus.length;
    record.nnodes = 1;
    record.ranks = "0";
    record.nodelist = options.hostname;
    emit(job, "alloc", { annotations: { sched: { resource_summary: resourceSummary(alloc) } } });
    if (record.duration > 0) record.expiration = record.t_run + record.duration;
    const { uid, gid, groups } = job.owner;
    try {
      job.tasks = startTaskGroup(options.spawner, {
        command: job.request.command,
        cwd: record.cwd,
        numTasks: job.request.numTasks,
        // Methods, not named arrow functions: under tsx (esbuild keepNames) each of those costs
        // an Object.defineProperty per job.
        environment(rank) {
          return taskEnvironment(job, rank, options.baseEnvironment);
        },
        hostname: options.hostname,
        runAs: uid === undefined ? undefined : { uid, gid: gid ?? uid, groups },
        setprivPath: options.setprivPath,
        onOutput(rank, stream, data) {
          capture(job, rank, stream, data);
        },
        onStartFailure(_rank, message) {
          raise(job, "exec", 0, message);
        },
        // Record the pids at once: a restart after a crash kills what they left running.
        onSpawned() {
          store.saveJob(job.record, extrasOf(job), job.searchKey);
        },
        onDone(statuses) {
          finish(job, statuses);
        },
      });
    } catch (e) {
      logger.error("job start failed", { jobid: record.id.toString(), error: e });
      emit(job, "start");
      raise(job, "exec", 0, `start failed: ${e instanceof Error ? e.message : String(e)}`);
      finish(job, []);
      return;
    }
    job.procs = job.tasks.processes;
    emit(job, "start");
    if (record.duration > 0) {
      // flux-core raises "timeout" with this note when the allocation expires (job-exec.c)
      job.timers.push(setLongTimeout(() => raise(job, "timeout", 0, "resource allocation expired"), record.duration * 1000));
    }
  }

  function capture(job: LiveJob, rank: number, stream: OutputStreamName, data: Uint8Array): void {
    const record = job.record;
    if (record.outputTruncated) return;
    const room = options.maxOutputBytesPerJob - job.outputBytes;
    if (data.byteLength > room) {
      data = data.subarray(0, room);
      record.outputTruncated = true;
      store.saveJob(record, extrasOf(job), job.searchKey);
      job.tasks?.mute();
    }
    if (data.byteLength === 0) return;
    const chunk = { offset: job.chunkCount++, stream, rank, data, timestamp: now() };
    job.outputBytes += data.byteLength;
    store.appendChunk(record.id, chunk);
    options.outputFeed.publish(record.id, { kind: "chunk", chunk });
  }

  function finish(job: LiveJob, statuses: number[]): void {
    if (statuses.length > 0) emit(job, "finish", { status: Math.max(...statuses) });
    if (job.alloc !== undefined) {
      scheduler.release(job.alloc);
      job.alloc = undefined;
      emit(job, "release", { ranks: "all", final: true });
      emit(job, "free");
      requestSchedule();
    }
    job.tasks = undefined;
    retire(job, statuses);
  }

  /**
   * Raises an exception (RFC 21). A fatal one ends a pending job at once and signals a running
   * job's tasks: SIGALRM for a timeout (as job-exec), SIGTERM otherwise, SIGKILL after the grace.
   */
  function raise(job: LiveJob, type: string, severity: number, note: string): void {
    const before = job.record.state;
    if (before === JobStateBit.INACTIVE) return;
    emit(job, "exception", { type, severity, note, userid: job.record.userid });
    if (severity !== 0) return;
    if ((before & PENDING) !== 0 || before === JobStateBit.NEW) {
      scheduler.remove(job.record.id);
      retire(job, []);
      return;
    }
    const tasks = job.tasks;
    if (before !== JobStateBit.RUN || tasks === undefined) return;
    tasks.kill(type === "timeout" ? "SIGALRM" : "SIGTERM");
    const escalate = setTimeout(() => {
      if (tasks.running) tasks.kill("SIGKILL");
    }, options.killGraceMs);
    job.timers.push(() => clearTimeout(escalate));
  }

  return {
    active,
    clock: now,

    /** Creates the job and logs it to SCHED; schedule() once its row is committed. */
    create(id: bigint, request: JobRequest, owner: JobOwner, userid: number): LiveJob {
      const job = createLiveJob(request, owner, { id, userid, defaultCwd: options.defaultCwd, node: options.node });
      active.set(id, job);
      store.insertJob(job.record, extrasOf(job), job.searchKey);
      emit(job, "submit", { userid, urgency: request.urgency, flags: 0, version: 1 });
      emit(job, "validate");
      emit(job, "depend");
      emit(job, "priority", { priority: priorityOf(request.urgency) });
      return job;
    },

    /** Hands a committed job to the scheduler (held jobs, priority 0, stay in SCHED). */
    schedule(job: LiveJob, resources: { cores: number; gpus: number }): void {
      if (job.record.state !== JobStateBit.SCHED || !active.has(job.record.id)) return;
      scheduler.enqueue({ id: job.record.id, priority: job.record.priority, ...resources });
      requestSchedule();
    },

    /** Forgets a job whose row could not be committed, queued writes included (they are retried). */
    discard(job: LiveJob): void {
      scheduler.remove(job.record.id);
      active.delete(job.record.id);
      store.forget(job.record.id);
    },

    raise,

    coresAllocated: () => scheduler.coresAllocated,
    gpusAllocated: () => scheduler.gpusAllocated,

    /** Cancels every active job and resolves when none is left (tasks get SIGTERM, then SIGKILL). */
    async cancelAll(note: string): Promise<void> {
      for (const job of [...active.values()]) raise(job, "cancel", 0, note);
      if (active.size === 0) return;
      await new Promise<void>((resolve) => {
        onIdle = resolve;
      });
      onIdle = undefined;
    },
  };
}
