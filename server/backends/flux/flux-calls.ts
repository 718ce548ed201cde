/**
 * FluxCalls is every request the flux backend makes to a Flux instance, except the
 * output stream (`flux job attach` in a pty, flux-attach.ts). Two implementations
 * are meant to satisfy it: flux-cli.ts spawns the C subcommands (`flux job ...`),
 * and a later native one speaks the broker's local:// socket (reference/flux-wire.md)
 * with the same RPCs those commands send. Shapes are therefore the RPC payloads, not
 * CLI text: job-list records, RFC 18 eventlog entries, RFC 20 R objects.
 *
 * Every method throws the errors of ../backend-errors.ts for the cases Flux reports
 * (unknown job, inactive job, refused jobspec, unreachable instance); anything else
 * is an internal error.
 */
import type { ExactJson } from "./exact-json.js";

/** A job-list record (`flux job list`, job-list.list / list-id with attrs ["all"]); `id` is exact. */
export type JobListRecord = { id: bigint } & { [key: string]: ExactJson };

/** An RFC 18 eventlog entry as Flux stores it; big integers in context stay exact. */
export interface RawEvent {
  timestamp: number;
  name: string;
  context?: { [key: string]: ExactJson };
}

/** Resources by state, each an RFC 20 R object (what resource.sched-status answers), plus drained ranks. */
export interface ResourceSnapshot {
  all: ExactJson;
  allocated: ExactJson;
  down: ExactJson;
  /** Ranks drained or draining (resource.status "drain"), as an idset string. */
  drained: string;
}

export interface SubmitOptions {
  urgency: number;
  /** Linux account to submit as (multi-user mode), so Flux signs the job with its credentials. */
  asUser?: string;
}

/**
 * What a jobspec feed delivers: each job's jobspec (without its environment), first for
 * every job the job manager holds, then for each job as it is submitted; "caught-up"
 * marks the end of the first part.
 */
export type JobspecNotice = { kind: "jobspec"; id: bigint; jobspec: ExactJson } | { kind: "caught-up" };

/**
 * Which jobs a listing wants. Besides allUsers, each field is a filter a transport may apply in
 * Flux itself (job-list constraints, RFC 31) to send fewer records; the backend applies every
 * filter again, so a transport that cannot may ignore them.
 */
export interface JobListOptions {
  /** Every user's jobs, not only the server's user's. */
  allUsers: boolean;
  /** Only this user's jobs (multi-user mode). */
  userid?: number;
  /** RFC 21 state bits. */
  states?: number;
  /** Result bits (COMPLETED 1, FAILED 2, CANCELED 4, TIMEOUT 8): inactive jobs only. */
  results?: number;
  /** The exact job name. */
  name?: string;
  /** Submitted at or after this epoch time (seconds). */
  submittedSince?: number;
}

export interface FluxCalls {
  /** Whether an instance answers, and who owns it (broker attribute security.owner). */
  ping(): Promise<{ ownerUid: number }>;
  /**
   * The instance's configuration (config.get: the TOML config as JSON; {} when none), for the
   * multi-user startup checks. Optional: without it only the instance owner is checked.
   */
  config?(): Promise<ExactJson>;
  /** Submits a jobspec (JSON text) and returns the new job id. */
  submit(jobspec: string, options: SubmitOptions): Promise<bigint>;
  /** One job's job-list record; JobNotFoundError when Flux does not know it. */
  get(id: bigint): Promise<JobListRecord>;
  /** The jobs of this user (or of all users), active and inactive, in one call; see JobListOptions for filters. */
  list(options: JobListOptions): Promise<JobListRecord[]>;
  /** The jobspec as Flux stored it (job-info; the environment is not included). */
  jobspec(id: bigint): Promise<ExactJson>;
  /**
   * The jobspecs of many jobs in one call (ids Flux does not know are left out). Optional:
   * without it they are read one jobspec() at a time.
   */
  jobspecs?(ids: readonly bigint[]): Promise<Map<bigint, ExactJson>>;
  /**
   * Follows the job manager's journal (job-manager.events-journal): every job's jobspec, then
   * each new one, until aborted or the connection is lost. Optional: without it jobspecs are
   * read when a job is first listed.
   */
  followJobspecs?(signal: AbortSignal): AsyncIterable<JobspecNotice>;
  /** Raises a fatal "cancel" exception; JobInactiveError when the job is already inactive. */
  cancel(id: bigint, note: string): Promise<void>;
  /**
   * The entries of one of the job's eventlogs: "eventlog" (main) or "output" (guest.output).
   * Resolves to undefined when that eventlog does not exist (yet): a job that never ran has no output.
   */
  eventlog(id: bigint, path: "eventlog" | "output"): Promise<RawEvent[] | undefined>;
  /** Replays the main eventlog, then follows it through the final event ("clean"), or until aborted. */
  watchEvents(id: bigint, signal: AbortSignal): AsyncIterable<RawEvent>;
  /** The instance's resources by state. */
  resources(): Promise<ResourceSnapshot>;
}
