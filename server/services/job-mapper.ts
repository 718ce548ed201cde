/**
 * Domain records (backend.ts) to API messages (gen/), in one place.
 */
import { create, type JsonObject } from "@bufbuild/protobuf";
import {
  JobEventSchema,
  JobSchema,
  NodeSchema,
  NodeState,
  OutputChunkSchema,
  OutputStream,
  type Job,
  type JobEvent,
  type Node,
  type OutputChunk,
} from "../../gen/flux/restful/v1/job_pb.js";
import {
  JobResultBit,
  JobStateBit,
  type JobEvent as DomainEvent,
  type JobRecord,
  type NodeInfo,
  type OutputChunk as DomainChunk,
} from "../backends/backend.js";
import { formatJobId } from "../backends/jobid.js";

const STATE_NAMES = new Map<number, string>(Object.entries(JobStateBit).map(([k, v]) => [v, k]));
const RESULT_NAMES = new Map<number, string>(Object.entries(JobResultBit).map(([k, v]) => [v, k]));

/** Flux's name for a state bit, e.g. 16 -> "RUN". */
export function stateName(state: number): string {
  return STATE_NAMES.get(state) ?? "UNKNOWN";
}

/** Flux's name for a result bit, e.g. 4 -> "CANCELED"; "" while active. */
export function resultName(result: number): string {
  return RESULT_NAMES.get(result) ?? "";
}

/** flux-jobs(1) "status": the result once inactive, else the state. */
export function statusName(job: Pick<JobRecord, "state" | "result">): string {
  return job.state === JobStateBit.INACTIVE ? resultName(job.result) : stateName(job.state);
}

/** Seconds the job has run: until cleanup, or until now while it runs. */
export function runtimeOf(job: Pick<JobRecord, "t_run" | "t_cleanup">, now = Date.now() / 1000): number {
  if (job.t_run <= 0) return 0;
  const end = job.t_cleanup > 0 ? job.t_cleanup : now;
  return Math.max(0, end - job.t_run);
}

export function toJob(r: JobRecord): Job {
  return create(JobSchema, {
    id: formatJobId(r.id),
    name: r.name,
    owner: r.owner,
    userid: r.userid,
    state: r.state,
    result: r.result,
    status: statusName(r),
    urgency: r.urgency,
    priority: r.priority,
    tSubmit: r.t_submit,
    tDepend: r.t_depend,
    tPriority: r.t_priority,
    tSched: r.t_sched,
    tRun: r.t_run,
    tCleanup: r.t_cleanup,
    tInactive: r.t_inactive,
    returncode: r.returncode,
    waitstatus: r.waitstatus,
    success: r.state === JobStateBit.INACTIVE && r.result === JobResultBit.COMPLETED,
    exception: { ...r.exception },
    ntasks: r.ntasks,
    ncores: r.ncores,
    ngpus: r.ngpus,
    nnodes: r.nnodes,
    nodelist: r.nodelist,
    ranks: r.ranks,
    duration: r.duration,
    expiration: r.expiration,
    runtime: runtimeOf(r),
    cwd: r.cwd,
    queue: r.queue,
    command: r.command,
    outputTruncated: r.outputTruncated,
  });
}

export function toOutputChunk(c: DomainChunk): OutputChunk {
  return create(OutputChunkSchema, {
    offset: BigInt(c.offset),
    stream: c.stream === "stderr" ? OutputStream.STDERR : OutputStream.STDOUT,
    rank: c.rank,
    data: c.data,
    timestamp: c.timestamp,
  });
}

export function toJobEvent(e: DomainEvent): JobEvent {
  return create(JobEventSchema, {
    timestamp: e.timestamp,
    name: e.name,
    context: e.context as JsonObject | undefined,
  });
}

const NODE_STATES = { up: NodeState.UP, down: NodeState.DOWN, drained: NodeState.DRAINED } as const;

export function toNode(n: NodeInfo): Node {
  return create(NodeSchema, {
    rank: n.rank,
    hostname: n.hostname,
    state: NODE_STATES[n.state],
    cores: n.cores,
    coresAllocated: n.coresAllocated,
    gpus: n.gpus,
    gpusAllocated: n.gpusAllocated,
  });
}
