/**
 * One job of the local backend while it is active: its record (the fold of its eventlog), the
 * request it was submitted with, and what running it needs (allocation, processes, timers).
 */
import { JobStateBit, type JobEvent, type JobOwner, type JobRecord, type JobRequest } from "../backend.js";
import { InvalidJobRequestError } from "../backend-errors.js";
import { formatJobId } from "../jobid.js";
import type { TaskProcess } from "./job-rows.js";
import { searchKeyOf } from "./job-rows.js";
import type { Allocation } from "./scheduler.js";
import type { TaskGroup } from "./task-group.js";

export interface LiveJob {
  record: JobRecord;
  request: JobRequest;
  owner: JobOwner;
  searchKey: string;
  /** The eventlog so far (also in the store). */
  events: JobEvent[];
  /** Output chunks stored so far; the next chunk's offset. */
  chunkCount: number;
  outputBytes: number;
  /** Set when the output is complete: the exit code `flux job attach` would give. */
  exitCode?: number;
  procs: TaskProcess[];
  alloc?: Allocation;
  tasks?: TaskGroup;
  /** Cancels pending timers (time limit, SIGKILL escalation). */
  timers: (() => void)[];
}

/** What the node has, for the submit-time capacity check. */
export interface NodeCapacity {
  cores: number;
  gpus: number;
}

/** Flux's default priority plugin: urgency is the priority, except hold (0) and expedite (31). */
export function priorityOf(urgency: number): number {
  if (urgency >= 31) return 4294967295;
  return Math.max(0, urgency);
}

/**
 * Rejects a request this node can never run, naming the field, with sched-simple's wording
 * (it raises these as alloc exceptions; here they are refused at submit instead).
 */
export function checkCapacity(request: JobRequest, node: NodeCapacity): void {
  const nodes = request.numNodes ?? 1;
  if (nodes > 1) {
    throw new InvalidJobRequestError("num_nodes", `unsatisfiable request: need ${nodes} node(s), only 1 available`);
  }
  const { numTasks, coresPerTask, gpusPerTask } = request;
  if (coresPerTask > node.cores) {
    throw new InvalidJobRequestError(
      "cores_per_task",
      `unsatisfiable request: need ${coresPerTask} core(s) per task, only ${node.cores} available (total cores: ${node.cores})`,
    );
  }
  if (numTasks * coresPerTask > node.cores) {
    throw new InvalidJobRequestError(
      "num_tasks",
      `unsatisfiable request: need ${numTasks} slot(s) of ${coresPerTask} core(s), only ${Math.floor(node.cores / coresPerTask)} such slot(s) available (total cores: ${node.cores})`,
    );
  }
  if (gpusPerTask > node.gpus) {
    throw new InvalidJobRequestError(
      "gpus_per_task",
      `unsatisfiable request: need 1 slot(s) with ${gpusPerTask} GPU(s) each, only ${node.gpus} available (total GPUs: ${node.gpus})`,
    );
  }
  if (numTasks * gpusPerTask > node.gpus) {
    throw new InvalidJobRequestError(
      "num_tasks",
      `unsatisfiable request: need ${numTasks} slot(s) with ${gpusPerTask} GPU(s) each, only ${Math.floor(node.gpus / gpusPerTask)} such slot(s) available (total GPUs: ${node.gpus})`,
    );
  }
}

/** The cores and gpus a job takes: all of the node when exclusive. */
export function resourcesOf(request: JobRequest, node: NodeCapacity): { cores: number; gpus: number } {
  if (request.exclusive) return { cores: node.cores, gpus: node.gpus };
  return { cores: request.numTasks * request.coresPerTask, gpus: request.numTasks * request.gpusPerTask };
}

export interface NewJobContext {
  id: bigint;
  userid: number;
  defaultCwd: string;
  node: NodeCapacity;
}

export function createLiveJob(request: JobRequest, owner: JobOwner, ctx: NewJobContext): LiveJob {
  const resources = resourcesOf(request, ctx.node);
  const record: JobRecord = {
    id: ctx.id,
    name: request.name,
    owner: owner.name,
    userid: ctx.userid,
    state: JobStateBit.NEW,
    result: 0,
    urgency: request.urgency,
    priority: 0,
    t_submit: 0,
    t_depend: 0,
    t_priority: 0,
    t_sched: 0,
    t_run: 0,
    t_cleanup: 0,
    t_inactive: 0,
    exception: { occurred: false, type: "", severity: 0, note: "" },
    ntasks: request.numTasks,
    ncores: resources.cores,
    ngpus: resources.gpus,
    nnodes: request.numNodes ?? 0,
    nodelist: "",
    ranks: "",
    duration: request.duration,
    expiration: 0,
    cwd: request.cwd !== "" ? request.cwd : ctx.defaultCwd,
    queue: request.queue,
    command: [...request.command],
    outputTruncated: false,
  };
  return {
    record,
    request,
    owner,
    searchKey: searchKeyOf(record),
    events: [],
    chunkCount: 0,
    outputBytes: 0,
    procs: [],
    timers: [],
  };
}

/**
 * A task's environment: the server's small allowlist, the owner's login variables, the job's
 * own variables, then what the Flux job shell sets for each task.
 */
export function taskEnvironment(
  job: LiveJob,
  rank: number,
  baseEnvironment: Readonly<Record<string, string>>,
): Record<string, string> {
  return {
    ...baseEnvironment,
    ...job.owner.loginEnv,
    ...job.request.environment,
    FLUX_JOB_ID: formatJobId(job.record.id),
    FLUX_JOB_SIZE: String(job.request.numTasks),
    FLUX_JOB_NNODES: "1",
    FLUX_TASK_RANK: String(rank),
    FLUX_TASK_LOCAL_ID: String(rank),
  };
}
