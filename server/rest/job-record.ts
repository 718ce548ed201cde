/**
 * The 0.2 job record (legacy-rest-v1.md section 7.1), built from the API's Job message:
 * flux-core's job-list fields with 0.2's overrides (state and result as names,
 * returncode, runtime, the exception object, "" for what is unknown). The id is a bigint
 * so it is written as an exact JSON integer.
 */
import { JobResult, JobState, type Job } from "../../gen/flux/restful/v1/job_pb.js";
import { parseJobId } from "../backends/jobid.js";
import type { ExactJsonValue } from "./exact-json.js";

export type JobRecordJson = Map<string, ExactJsonValue>;

const TIMESTAMPS = [
  ["t_submit", "tSubmit"],
  ["t_depend", "tDepend"],
  ["t_priority", "tPriority"],
  ["t_sched", "tSched"],
  ["t_run", "tRun"],
  ["t_cleanup", "tCleanup"],
  ["t_inactive", "tInactive"],
] as const;

/** The decimal id of an API job id (F58 on the wire), as a bigint. */
export function decimalIdOf(job: Pick<Job, "id">): bigint {
  return parseJobId(job.id);
}

export function toJobRecord(job: Job): JobRecordJson {
  const inactive = job.state === JobState.INACTIVE;
  const exception = job.exception;
  const occurred = exception?.occurred ?? false;
  const r: JobRecordJson = new Map();
  r.set("id", decimalIdOf(job));
  r.set("userid", job.userid);
  r.set("urgency", job.urgency);
  r.set("priority", job.priority);
  // As in flux-core's job-list: a timestamp is present once the job reached that state.
  for (const [name, field] of TIMESTAMPS) if (job[field] > 0) r.set(name, job[field]);
  r.set("state", JobState[job.state] ?? "UNKNOWN");
  r.set("name", job.name);
  r.set("cwd", job.cwd);
  r.set("queue", job.queue);
  r.set("ntasks", job.ntasks);
  r.set("ncores", job.ncores);
  r.set("duration", job.duration);
  r.set("nnodes", job.nnodes);
  r.set("ranks", job.ranks);
  r.set("nodelist", job.nodelist);
  if (inactive) r.set("success", job.success);
  r.set("exception_occurred", occurred);
  if (occurred && exception) {
    r.set("exception_severity", exception.severity);
    r.set("exception_type", exception.type);
    r.set("exception_note", exception.note);
  }
  r.set("result", inactive && job.result !== JobResult.UNSPECIFIED ? (JobResult[job.result] ?? "") : "");
  r.set("expiration", job.expiration);
  r.set("waitstatus", job.waitstatus ?? "");
  r.set("returncode", job.returncode ?? "");
  r.set("runtime", job.runtime);
  r.set(
    "exception",
    occurred && exception
      ? { occurred: true, severity: exception.severity, type: exception.type, note: exception.note }
      : { occurred: false, severity: "", type: "", note: "" },
  );
  r.set("owner", job.owner);
  r.set("ngpus", job.ngpus);
  return r;
}
