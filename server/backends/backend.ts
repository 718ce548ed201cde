/**
 * The seam between the API and whatever runs jobs. Services depend on this file only;
 * app.ts picks the concrete backend (local or flux) from config.
 *
 * Everything here speaks Flux's vocabulary (RFC 21 states, results, eventlogs, urgency)
 * and uses plain objects, so backends are testable without Connect.
 */

/** Flux job state bits (RFC 21, libjob/job.h). A set of states is a mask. */
export const JobStateBit = {
  NEW: 1,
  DEPEND: 2,
  PRIORITY: 4,
  SCHED: 8,
  RUN: 16,
  CLEANUP: 32,
  INACTIVE: 64,
} as const;
export type JobStateBit = (typeof JobStateBit)[keyof typeof JobStateBit];

/** Virtual states: PENDING = DEPEND|PRIORITY|SCHED, RUNNING = RUN|CLEANUP, ACTIVE = all but INACTIVE. */
export const PENDING_MASK = 14;
export const RUNNING_MASK = 48;
export const ACTIVE_MASK = 62;

/** Flux job result bits (flux_job_result_t); 0 while the job is active. */
export const JobResultBit = {
  COMPLETED: 1,
  FAILED: 2,
  CANCELED: 4,
  TIMEOUT: 8,
} as const;
export type JobResultBit = (typeof JobResultBit)[keyof typeof JobResultBit];

/** Who a job belongs to and, in multi-user mode, which Linux account runs it. */
export interface JobOwner {
  /** The API user's name; also the Linux account name in multi-user mode. */
  name: string;
  /** Linux uid the job runs as; undefined means the server's own user. */
  uid?: number;
  /** Linux gid the job runs as (with uid). */
  gid?: number;
  /** Supplementary groups (with uid). */
  groups?: number[];
  /** HOME, USER, LOGNAME and SHELL for the job, from the passwd database (multi-user mode). */
  loginEnv?: Record<string, string>;
}

/** A validated submit request, with defaults applied. */
export interface JobRequest {
  /** argv, run as is (no implicit shell). */
  command: string[];
  numTasks: number;
  coresPerTask: number;
  gpusPerTask: number;
  /** Undefined when the request did not ask for a node count. */
  numNodes?: number;
  exclusive: boolean;
  /** Working directory; empty means the backend's default. */
  cwd: string;
  /** The job's own variables; backends add their small default set, never the server's environment. */
  environment: Record<string, string>;
  /** Time limit in seconds; 0 means none. */
  duration: number;
  name: string;
  urgency: number;
  queue: string;
  shellOptions: Record<string, string>;
  isLauncher: boolean;
}

/** The most severe exception raised on a job. */
export interface JobExceptionInfo {
  occurred: boolean;
  type: string;
  severity: number;
  note: string;
}

/** One job's record, as `flux jobs --json` describes it (times are float epoch seconds, 0 if not yet). */
export interface JobRecord {
  id: bigint;
  name: string;
  owner: string;
  userid: number;
  state: JobStateBit;
  /** 0 while active. */
  result: number;
  urgency: number;
  priority: number;
  t_submit: number;
  t_depend: number;
  t_priority: number;
  t_sched: number;
  t_run: number;
  t_cleanup: number;
  t_inactive: number;
  /** Unset while active. */
  returncode?: number;
  /** Unset until the job's tasks finished. */
  waitstatus?: number;
  exception: JobExceptionInfo;
  ntasks: number;
  ncores: number;
  ngpus: number;
  nnodes: number;
  nodelist: string;
  ranks: string;
  duration: number;
  expiration: number;
  cwd: string;
  queue: string;
  command: string[];
  outputTruncated: boolean;
}

/** One eventlog entry (RFC 18). */
export interface JobEvent {
  timestamp: number;
  name: string;
  context?: Record<string, unknown>;
}

export type OutputStreamName = "stdout" | "stderr";

/** A piece of output from one task, with its position in the job's output log. */
export interface OutputChunk {
  offset: number;
  stream: OutputStreamName;
  rank: number;
  data: Uint8Array;
  timestamp: number;
}

/** A snapshot of a job's output from an offset. */
export interface OutputPage {
  chunks: OutputChunk[];
  nextOffset: number;
  /** The job's output has ended and nothing after nextOffset remains. */
  complete: boolean;
  truncated: boolean;
}

/** An item of a followed output stream; `end` is always last. */
export type OutputItem =
  | { kind: "chunk"; chunk: OutputChunk }
  | { kind: "status"; text: string }
  | { kind: "end"; exitCode: number; truncated: boolean };

/** Filters and paging for list(). Filters combine with AND; unset means no filter. */
export interface ListQuery {
  /** Only this owner's jobs. */
  owner?: string;
  stateMask?: number;
  resultMask?: number;
  name?: string;
  /** Submitted at or after (epoch seconds). */
  since?: number;
  /** Case-insensitive substring of id (F58 or decimal), name, owner, command, status or queue. */
  search?: string;
  /** Column and direction, already validated: see ORDER_COLUMNS. */
  orderBy: { column: OrderColumn; descending: boolean };
  pageSize: number;
  /** Opaque token from a previous ListResult with the same query; "" for the first page. */
  pageToken: string;
}

export const ORDER_COLUMNS = ["t_submit", "id", "name", "owner", "state", "result", "returncode", "runtime"] as const;
export type OrderColumn = (typeof ORDER_COLUMNS)[number];

export interface ListResult {
  jobs: JobRecord[];
  nextPageToken: string;
  totalSize: number;
}

export type NodeStateName = "up" | "down" | "drained";

export interface NodeInfo {
  rank: number;
  hostname: string;
  state: NodeStateName;
  cores: number;
  coresAllocated: number;
  gpus: number;
  gpusAllocated: number;
}

export interface Readiness {
  ready: boolean;
  /** Why not, when not ready. */
  reason?: string;
}

/**
 * JobBackend runs jobs with Flux semantics. Methods throw the errors of
 * backend-errors.ts (JobNotFoundError, InvalidJobRequestError, JobInactiveError,
 * BackendUnavailableError); anything else is an internal error.
 */
export interface JobBackend {
  /** "local" or "flux". */
  readonly name: string;
  /** Opens stores, recovers state; called once before serving. */
  start(): Promise<void>;
  /** Stops following, kills children, closes stores. Idempotent. */
  close(): Promise<void>;
  /** Whether the backend can take work now (e.g. the Flux instance answers). */
  ready(): Promise<Readiness>;
  /** Checks what only the backend knows (capacity, queues) and submits. Returns the new id. */
  submit(request: JobRequest, owner: JobOwner): Promise<bigint>;
  get(id: bigint): Promise<JobRecord>;
  list(query: ListQuery): Promise<ListResult>;
  /** Raises a fatal cancel exception; JobInactiveError when already inactive. */
  cancel(id: bigint, note: string): Promise<void>;
  output(id: bigint, offset: number, limit: number): Promise<OutputPage>;
  /** Replays from offset, then follows until the job's output ends or the signal aborts. */
  followOutput(id: bigint, offset: number, signal: AbortSignal): AsyncIterable<OutputItem>;
  /** Replays the main eventlog, then follows until the job's final event or the signal aborts. */
  followEvents(id: bigint, signal: AbortSignal): AsyncIterable<JobEvent>;
  nodes(): Promise<NodeInfo[]>;
}
