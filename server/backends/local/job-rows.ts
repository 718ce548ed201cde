/**
 * JobRecord <-> jobs row. The row also carries what only the local backend needs: the text
 * list() searches, whether output was truncated, the chunk count, the attach exit code and
 * the task processes (so a restart can find a dead server's orphans).
 */
import { JobResultBit, JobStateBit, type JobRecord } from "../backend.js";
import { formatJobId } from "../jobid.js";
import { fromDbId, toDbId } from "./schema.js";

/** A task process as recorded: pid (= its process group) and its start time in clock ticks. */
export interface TaskProcess {
  pid: number;
  startTicks: number;
}

/** What the jobs row holds besides the record. */
export interface JobRowExtras {
  chunkCount: number;
  exitCode?: number;
  procs: TaskProcess[];
}

export const JOB_COLUMNS = [
  "id", "owner", "userid", "name", "queue", "state", "result", "status", "urgency", "priority",
  "t_submit", "t_depend", "t_priority", "t_sched", "t_run", "t_cleanup", "t_inactive",
  "returncode", "waitstatus", "exc_occurred", "exc_type", "exc_severity", "exc_note",
  "ntasks", "ncores", "ngpus", "nnodes", "nodelist", "ranks", "duration", "expiration",
  "cwd", "command", "search_key", "truncated", "chunk_count", "exit_code", "procs",
] as const;

/**
 * The columns a job's life changes after submit; the others (owner, name, t_submit, ...) are
 * written once. Updates set only these, so SQLite leaves the indexes on the fixed columns alone
 * (jobs_by_submit, jobs_by_owner, jobs_by_name) and rewrites only jobs_by_state.
 */
export const CHANGING_COLUMNS = [
  "state", "result", "status", "priority",
  "t_depend", "t_priority", "t_sched", "t_run", "t_cleanup", "t_inactive",
  "returncode", "waitstatus", "exc_occurred", "exc_type", "exc_severity", "exc_note",
  "ncores", "ngpus", "nnodes", "nodelist", "ranks", "expiration",
  "truncated", "chunk_count", "exit_code", "procs",
] as const satisfies readonly (typeof JOB_COLUMNS)[number][];

const STATE_NAMES = new Map<number, string>(Object.entries(JobStateBit).map(([k, v]) => [v, k]));
const RESULT_NAMES = new Map<number, string>(Object.entries(JobResultBit).map(([k, v]) => [v, k]));

/** flux-jobs(1) status: the result once inactive, else the state. */
export function statusOf(record: Pick<JobRecord, "state" | "result">): string {
  return record.state === JobStateBit.INACTIVE
    ? (RESULT_NAMES.get(record.result) ?? "")
    : (STATE_NAMES.get(record.state) ?? "");
}

/** Lowercased text list() searches (status is kept apart: it changes). */
export function searchKeyOf(record: JobRecord): string {
  return [formatJobId(record.id), formatJobId(record.id, "f58plain"), record.id.toString(), record.name, record.owner, record.command.join(" "), record.queue]
    .join("\n")
    .toLowerCase();
}

/** Named parameters for the insert/update statements. */
export function toRow(record: JobRecord, extras: JobRowExtras, searchKey: string): Record<string, unknown> {
  return {
    id: toDbId(record.id),
    owner: record.owner,
    userid: record.userid,
    name: record.name,
    queue: record.queue,
    state: record.state,
    result: record.result,
    status: statusOf(record).toLowerCase(),
    urgency: record.urgency,
    priority: record.priority,
    t_submit: record.t_submit,
    t_depend: record.t_depend,
    t_priority: record.t_priority,
    t_sched: record.t_sched,
    t_run: record.t_run,
    t_cleanup: record.t_cleanup,
    t_inactive: record.t_inactive,
    returncode: record.returncode ?? null,
    waitstatus: record.waitstatus ?? null,
    exc_occurred: record.exception.occurred ? 1 : 0,
    exc_type: record.exception.type,
    exc_severity: record.exception.severity,
    exc_note: record.exception.note,
    ntasks: record.ntasks,
    ncores: record.ncores,
    ngpus: record.ngpus,
    nnodes: record.nnodes,
    nodelist: record.nodelist,
    ranks: record.ranks,
    duration: record.duration,
    expiration: record.expiration,
    cwd: record.cwd,
    command: JSON.stringify(record.command),
    search_key: searchKey,
    truncated: record.outputTruncated ? 1 : 0,
    chunk_count: extras.chunkCount,
    exit_code: extras.exitCode ?? null,
    procs: JSON.stringify(extras.procs.map((p) => [p.pid, p.startTicks])),
  };
}

/** A row read with safeIntegers: integers arrive as bigint. */
export type JobRow = Record<(typeof JOB_COLUMNS)[number], unknown>;

const n = (v: unknown): number => (typeof v === "bigint" ? Number(v) : typeof v === "number" ? v : 0);
const s = (v: unknown): string => (typeof v === "string" ? v : "");

export function fromRow(row: JobRow): { record: JobRecord; extras: JobRowExtras } {
  const record: JobRecord = {
    id: fromDbId(row.id as bigint),
    name: s(row.name),
    owner: s(row.owner),
    userid: n(row.userid),
    state: n(row.state) as JobRecord["state"],
    result: n(row.result),
    urgency: n(row.urgency),
    priority: n(row.priority),
    t_submit: n(row.t_submit),
    t_depend: n(row.t_depend),
    t_priority: n(row.t_priority),
    t_sched: n(row.t_sched),
    t_run: n(row.t_run),
    t_cleanup: n(row.t_cleanup),
    t_inactive: n(row.t_inactive),
    exception: {
      occurred: n(row.exc_occurred) !== 0,
      type: s(row.exc_type),
      severity: n(row.exc_severity),
      note: s(row.exc_note),
    },
    ntasks: n(row.ntasks),
    ncores: n(row.ncores),
    ngpus: n(row.ngpus),
    nnodes: n(row.nnodes),
    nodelist: s(row.nodelist),
    ranks: s(row.ranks),
    duration: n(row.duration),
    expiration: n(row.expiration),
    cwd: s(row.cwd),
    queue: s(row.queue),
    command: JSON.parse(s(row.command) || "[]") as string[],
    outputTruncated: n(row.truncated) !== 0,
  };
  if (row.returncode !== null && row.returncode !== undefined) record.returncode = n(row.returncode);
  if (row.waitstatus !== null && row.waitstatus !== undefined) record.waitstatus = n(row.waitstatus);
  const procs = (JSON.parse(s(row.procs) || "[]") as [number, number][]).map(([pid, startTicks]) => ({ pid, startTicks }));
  const extras: JobRowExtras = { chunkCount: n(row.chunk_count), procs };
  if (row.exit_code !== null && row.exit_code !== undefined) extras.exitCode = n(row.exit_code);
  return { record, extras };
}

/** A copy the caller may keep or change without touching ours. */
export function copyRecord(record: JobRecord): JobRecord {
  return { ...record, exception: { ...record.exception }, command: [...record.command] };
}
