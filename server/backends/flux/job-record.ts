/**
 * A job-list record (what `flux job list` / `list-ids` print) to a JobRecord, deriving
 * returncode as flux-core's python JobInfo does (CONVENTIONS 2.2) and taking what
 * job-list does not know (owner name, command, gpus) from the job's facts.
 */
import { JobResultBit, JobStateBit, type JobRecord } from "../backend.js";
import type { ExactJson } from "./exact-json.js";
import type { JobListRecord } from "./flux-calls.js";
import type { JobFacts } from "./job-facts.js";

const num = (v: ExactJson | undefined, fallback = 0): number =>
  typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : fallback;
const str = (v: ExactJson | undefined): string => (typeof v === "string" ? v : "");

/**
 * flux.job.info.JobInfo.returncode: the exit code of the job shells, the negative
 * signal when a shell was killed, -128 for a job canceled before it ran, 1 for one
 * that failed before it ran; undefined while the job has neither a waitstatus nor a result.
 */
export function returncodeOf(waitstatus: number | undefined, result: number): number | undefined {
  if (waitstatus === undefined) {
    if (result === JobResultBit.CANCELED) return -128;
    if (result === JobResultBit.FAILED) return 1;
    return undefined;
  }
  const signal = waitstatus & 0x7f;
  if (signal !== 0 && signal !== 0x7f) return -signal; // WIFSIGNALED
  return (waitstatus >> 8) & 0xff; // WEXITSTATUS
}

/**
 * libjob/result.c, for a record that lacks `result` (older job-list): COMPLETED when it ran
 * and exited 0, CANCELED/TIMEOUT by exception type, otherwise FAILED.
 */
export function resultOf(r: JobListRecord): number {
  if (typeof r.result === "number") return r.result;
  if (num(r.state) !== JobStateBit.INACTIVE) return 0;
  if (num(r.t_run) > 0 && r.waitstatus === 0) return JobResultBit.COMPLETED;
  if (r.exception_occurred === true) {
    if (r.exception_type === "cancel") return JobResultBit.CANCELED;
    // flux-core raises "timeout", not RFC 21's "timelimit" (job-exec.c)
    if (r.exception_type === "timeout") return JobResultBit.TIMEOUT;
  }
  return JobResultBit.FAILED;
}

export function toJobRecord(r: JobListRecord, facts: JobFacts, owner: string): JobRecord {
  const result = resultOf(r);
  const waitstatus = typeof r.waitstatus === "number" ? r.waitstatus : undefined;
  const record: JobRecord = {
    id: r.id,
    name: str(r.name),
    owner,
    userid: num(r.userid),
    state: num(r.state) as JobRecord["state"],
    result,
    urgency: num(r.urgency, 16),
    priority: num(r.priority),
    t_submit: num(r.t_submit),
    t_depend: num(r.t_depend),
    t_priority: num(r.t_priority),
    t_sched: num(r.t_sched),
    t_run: num(r.t_run),
    t_cleanup: num(r.t_cleanup),
    t_inactive: num(r.t_inactive),
    exception: {
      occurred: r.exception_occurred === true,
      type: str(r.exception_type),
      severity: num(r.exception_severity),
      note: str(r.exception_note),
    },
    ntasks: num(r.ntasks),
    ncores: num(r.ncores),
    ngpus: facts.ngpus,
    nnodes: num(r.nnodes),
    nodelist: str(r.nodelist),
    ranks: str(r.ranks),
    duration: num(r.duration),
    expiration: num(r.expiration),
    cwd: str(r.cwd),
    queue: str(r.queue),
    command: [...facts.command],
    outputTruncated: false,
  };
  const returncode = returncodeOf(waitstatus, result);
  if (returncode !== undefined) record.returncode = returncode;
  if (waitstatus !== undefined) record.waitstatus = waitstatus;
  return record;
}
