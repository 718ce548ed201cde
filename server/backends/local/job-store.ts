/**
 * The local backend's SQLite store with group commit: writes are queued and committed in one
 * transaction per event-loop turn (or sooner when a lot of output is waiting), so a burst of
 * submits or a chatty job costs one commit, not one per row. Every read commits what is queued
 * first, so reads always see every write made before them.
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import type { JobEvent, JobRecord, OutputChunk } from "../backend.js";
import { BackendStorageError } from "../backend-errors.js";
import { CHANGING_COLUMNS, JOB_COLUMNS, fromRow, searchKeyOf, toRow, type JobRow, type JobRowExtras } from "./job-rows.js";
import { fromDbId, getMeta, openSchema, setMeta, toDbId } from "./schema.js";

export interface JobStoreOptions {
  /** Directory of the database file; created when missing. */
  dataDir: string;
  /** Called after each commit (the backend schedules newly committed jobs from here). */
  afterCommit?: () => void;
  /** Called when a commit fails; the batch stays queued and is retried (see commit()). */
  onCommitError?: (error: unknown) => void;
}

export interface StoredJob {
  record: JobRecord;
  extras: JobRowExtras;
}

/** Queued output bytes that trigger a commit without waiting for the next turn. */
const COMMIT_BYTES = 4 * 1024 * 1024;
/** After a failed commit (a full disk), the next try waits this long, doubling up to RETRY_MAX_MS. */
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 5000;
export const DB_FILE = "jobs.sqlite";

const STREAMS = ["stdout", "stderr"] as const;

type Waiter = { resolve: () => void; reject: (e: unknown) => void };
/** A job row to write: read from the record at commit time, so later changes are included. */
type PendingJob = { insert: boolean; record: JobRecord; extras: () => JobRowExtras; searchKey: string };

const rowOf = (job: PendingJob) => toRow(job.record, job.extras(), job.searchKey);

export type JobStore = ReturnType<typeof createJobStore>;

/** Opens (or creates) the job database in options.dataDir. */
export function createJobStore(options: JobStoreOptions) {
  fs.mkdirSync(options.dataDir, { recursive: true });
  const db = new Database(path.join(options.dataDir, DB_FILE));
  openSchema(db);

  // A job's row is inserted once, then only its changing columns are updated (see CHANGING_COLUMNS).
  const insertJob = db.prepare(`INSERT INTO jobs (${JOB_COLUMNS.join(", ")}) VALUES (${JOB_COLUMNS.map((c) => `@${c}`).join(", ")})`);
  const updateJob = db.prepare(`UPDATE jobs SET ${CHANGING_COLUMNS.map((c) => `${c} = @${c}`).join(", ")} WHERE id = @id`);
  const insertEvent = db.prepare("INSERT INTO events (job_id, seq, timestamp, name, context) VALUES (?, ?, ?, ?, ?)");
  const insertChunk = db.prepare(
    "INSERT INTO output (job_id, seq, stream, rank, timestamp, data) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const selectJob = db.prepare(`SELECT ${JOB_COLUMNS.join(", ")} FROM jobs WHERE id = ?`).safeIntegers(true);
  const selectActive = db
    .prepare(`SELECT ${JOB_COLUMNS.join(", ")} FROM jobs WHERE state != 64 ORDER BY id`)
    .safeIntegers(true);
  const selectEvents = db.prepare("SELECT timestamp, name, context FROM events WHERE job_id = ? ORDER BY seq");
  const selectChunks = db.prepare(
    "SELECT seq, stream, rank, timestamp, data FROM output WHERE job_id = ? AND seq >= ? ORDER BY seq LIMIT ?",
  );
  const selectMaxSeq = db.prepare("SELECT max(seq) AS seq FROM output WHERE job_id = ?");
  const selectMaxId = db.prepare("SELECT max(id) AS id FROM jobs").safeIntegers(true);

  // Pending writes, committed together. A job row is written once per batch, from its latest
  // state: inserted if the job is new in this batch, else updated.
  let pendingJobs = new Map<bigint, PendingJob>();
  let pendingEvents: unknown[][] = [];
  let pendingChunks: unknown[][] = [];
  let pendingBytes = 0;
  let waiters: Waiter[] = [];
  let scheduled = false;
  let closed = false;
  /** Set while commits fail: the error waiters get, and when to try again. */
  let failing: { error: BackendStorageError; retryAtMs: number; delayMs: number } | undefined;
  let retryTimer: NodeJS.Timeout | undefined;

  const commitBatch = db.transaction(
    (jobs: PendingJob[], events: unknown[][], chunks: unknown[][]) => {
      for (const job of jobs) {
        (job.insert ? insertJob : updateJob).run(rowOf(job));
      }
      for (const e of events) insertEvent.run(e);
      for (const c of chunks) insertChunk.run(c);
    },
  );

  function schedule(): void {
    if (scheduled || closed) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      commit();
    });
  }

  /**
   * Commits every queued write now. When SQLite refuses (a full disk, a read-only file), the
   * writes stay queued, in order, and are tried again with backoff: a job that ends while the
   * disk is full still ends in the database once there is room. Meanwhile whoever waits for a
   * commit (a submit) is refused at once with BackendStorageError.
   */
  function commit(): void {
    if (closed) return;
    if (failing !== undefined && Date.now() < failing.retryAtMs) {
      settle(waiters, failing.error);
      waiters = [];
      return;
    }
    if (pendingJobs.size === 0 && pendingEvents.length === 0 && pendingChunks.length === 0) {
      failing = undefined;
      settle(waiters, undefined);
      waiters = [];
      return;
    }
    const batchWaiters = waiters;
    waiters = [];
    try {
      commitBatch([...pendingJobs.values()], pendingEvents, pendingChunks);
    } catch (e) {
      const delayMs = failing === undefined ? RETRY_FIRST_MS : Math.min(failing.delayMs * 2, RETRY_MAX_MS);
      const error = new BackendStorageError("the job database refused a write (is the data dir's disk full?); try again later", { cause: e });
      failing = { error, retryAtMs: Date.now() + delayMs, delayMs };
      clearTimeout(retryTimer);
      retryTimer = setTimeout(() => {
        retryTimer = undefined;
        commit();
      }, delayMs);
      retryTimer.unref();
      settle(batchWaiters, error);
      options.onCommitError?.(error);
      return;
    }
    pendingJobs = new Map();
    pendingEvents = [];
    pendingChunks = [];
    pendingBytes = 0;
    failing = undefined;
    settle(batchWaiters, undefined);
    options.afterCommit?.();
  }

  /** Queued (not yet committed) events and chunks of one job: reads include them while commits fail. */
  const pendingOf = (rows: unknown[][], id: bigint) => {
    const key = toDbId(id);
    return rows.filter((r) => r[0] === key);
  };

  function settle(list: Waiter[], error: unknown): void {
    for (const w of list) error === undefined ? w.resolve() : w.reject(error);
  }

  return {
    db,

    /** Queues a new job's row; it is read at commit time, so later changes are included. */
    insertJob(record: JobRecord, extras: () => JobRowExtras, searchKey = searchKeyOf(record)): void {
      pendingJobs.set(record.id, { insert: true, record, extras, searchKey });
      schedule();
    },

    /** Queues the changes of a job inserted before (see CHANGING_COLUMNS); read at commit time. */
    saveJob(record: JobRecord, extras: () => JobRowExtras, searchKey = searchKeyOf(record)): void {
      // No closure per call: under tsx (esbuild keepNames) each named one costs an Object.defineProperty.
      const pending = pendingJobs.get(record.id);
      if (pending !== undefined) {
        pending.record = record;
        pending.extras = extras;
        pending.searchKey = searchKey;
      } else pendingJobs.set(record.id, { insert: false, record, extras, searchKey });
      schedule();
    },

    appendEvent(id: bigint, seq: number, event: JobEvent): void {
      const context = event.context === undefined ? null : JSON.stringify(event.context);
      pendingEvents.push([toDbId(id), seq, event.timestamp, event.name, context]);
      schedule();
    },

    appendChunk(id: bigint, chunk: OutputChunk): void {
      pendingChunks.push([toDbId(id), chunk.offset, STREAMS.indexOf(chunk.stream), chunk.rank, chunk.timestamp, chunk.data]);
      pendingBytes += chunk.data.byteLength;
      if (pendingBytes >= COMMIT_BYTES) commit();
      else schedule();
    },

    /** Resolves once everything queued so far is committed; rejects with BackendStorageError. */
    committed(): Promise<void> {
      return new Promise((resolve, reject) => {
        if (closed) return reject(new BackendStorageError("the job database is closed"));
        waiters.push({ resolve, reject });
        schedule();
      });
    },

    commit,

    /** Drops a job's queued writes: its creation was refused, so it must not appear later. */
    forget(id: bigint): void {
      const key = toDbId(id);
      pendingJobs.delete(id);
      pendingEvents = pendingEvents.filter((e) => e[0] !== key);
      pendingChunks = pendingChunks.filter((c) => c[0] !== key);
    },

    getJob(id: bigint): StoredJob | undefined {
      commit();
      const queued = pendingJobs.get(id);
      if (queued !== undefined) return fromRow(rowOf(queued) as JobRow);
      const row = selectJob.get(toDbId(id)) as JobRow | undefined;
      return row === undefined ? undefined : fromRow(row);
    },

    /** Jobs not INACTIVE, in id order (for recovery at start). */
    activeJobs(): StoredJob[] {
      commit();
      return (selectActive.all() as JobRow[]).map(fromRow);
    },

    readEvents(id: bigint): JobEvent[] {
      commit();
      const rows = selectEvents.all(toDbId(id)) as { timestamp: number; name: string; context: string | null }[];
      for (const [, seq, timestamp, name, context] of pendingOf(pendingEvents, id)) {
        if ((seq as number) >= rows.length) rows.push({ timestamp: timestamp as number, name: name as string, context: context as string | null });
      }
      return rows.map((r) => {
        const event: JobEvent = { timestamp: r.timestamp, name: r.name };
        if (r.context !== null) event.context = JSON.parse(r.context) as Record<string, unknown>;
        return event;
      });
    },

    /** Chunks from offset, at most `limit` of them and about `maxBytes` (always at least one). */
    readChunks(id: bigint, offset: number, limit: number, maxBytes: number): OutputChunk[] {
      commit();
      const out: OutputChunk[] = [];
      let bytes = 0;
      for (const r of selectChunks.iterate(toDbId(id), offset, limit) as Iterable<{
        seq: number;
        stream: number;
        rank: number;
        timestamp: number;
        data: Buffer;
      }>) {
        if (out.length > 0 && bytes + r.data.byteLength > maxBytes) break;
        bytes += r.data.byteLength;
        out.push({ offset: r.seq, stream: STREAMS[r.stream] ?? "stdout", rank: r.rank, timestamp: r.timestamp, data: r.data });
      }
      // Chunks still queued follow the stored ones (the store holds a prefix of every job's output).
      let next = out.length > 0 ? out[out.length - 1]!.offset + 1 : offset;
      for (const [, seq, stream, rank, timestamp, data] of pendingOf(pendingChunks, id)) {
        if (seq !== next || out.length >= limit) continue;
        const chunk = data as Uint8Array;
        if (out.length > 0 && bytes + chunk.byteLength > maxBytes) break;
        bytes += chunk.byteLength;
        out.push({ offset: next++, stream: STREAMS[stream as number] ?? "stdout", rank: rank as number, timestamp: timestamp as number, data: chunk });
      }
      return out;
    },

    /** Chunks stored for a job, counted from the table (recovery: the row may lag). */
    countChunks(id: bigint): number {
      commit();
      const row = selectMaxSeq.get(toDbId(id)) as { seq: number | null };
      return row.seq === null ? 0 : row.seq + 1;
    },

    maxId(): bigint | undefined {
      commit();
      const row = selectMaxId.get() as { id: bigint | null };
      return row.id === null ? undefined : fromDbId(row.id);
    },

    getMeta: (key: string) => getMeta(db, key),
    setMeta: (key: string, value: string) => setMeta(db, key, value),

    /** Commits what is queued and closes the database. Idempotent. */
    close(): void {
      if (closed) return;
      clearTimeout(retryTimer);
      try {
        commit();
      } finally {
        closed = true;
        settle(waiters, new BackendStorageError("the job database is closed"));
        waiters = [];
        db.close();
      }
    },
  };
}
