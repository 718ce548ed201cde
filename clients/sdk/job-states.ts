/**
 * Flux's job state and result names and the state masks, so callers can filter and print
 * jobs in Flux's words without knowing the bit values.
 */
import { JobResult, JobState } from "../../gen/flux/restful/v1/job_pb.js";

/** The states a job waits in before it runs (DEPEND | PRIORITY | SCHED), as in flux-jobs(1). */
export const PENDING = JobState.DEPEND | JobState.PRIORITY | JobState.SCHED;
/** The states of a job holding resources (RUN | CLEANUP). */
export const RUNNING = JobState.RUN | JobState.CLEANUP;
/** Every state but INACTIVE. */
export const ACTIVE = PENDING | RUNNING;
/** The captive end state, as a mask. */
export const INACTIVE = JobState.INACTIVE as number;

/** A state's Flux name: "NEW", "DEPEND", "PRIORITY", "SCHED", "RUN", "CLEANUP" or "INACTIVE". */
export const STATE_NAMES: Readonly<Record<number, string>> = {
  [JobState.NEW]: "NEW",
  [JobState.DEPEND]: "DEPEND",
  [JobState.PRIORITY]: "PRIORITY",
  [JobState.SCHED]: "SCHED",
  [JobState.RUN]: "RUN",
  [JobState.CLEANUP]: "CLEANUP",
  [JobState.INACTIVE]: "INACTIVE",
};

/** A result's Flux name: "COMPLETED", "FAILED", "CANCELED" or "TIMEOUT". */
export const RESULT_NAMES: Readonly<Record<number, string>> = {
  [JobResult.COMPLETED]: "COMPLETED",
  [JobResult.FAILED]: "FAILED",
  [JobResult.CANCELED]: "CANCELED",
  [JobResult.TIMEOUT]: "TIMEOUT",
};

/** The Flux name of a state; "" for UNSPECIFIED or an unknown value. */
export function stateName(state: JobState): string {
  return STATE_NAMES[state] ?? "";
}

/** The Flux name of a result; "" while the job is active. */
export function resultName(result: JobResult): string {
  return RESULT_NAMES[result] ?? "";
}

/** A filter for ListJobs: the two masks it takes. */
export interface JobFilterMasks {
  stateMask: number;
  resultMask: number;
}

const STATE_WORDS: Readonly<Record<string, number>> = {
  new: JobState.NEW,
  depend: JobState.DEPEND,
  priority: JobState.PRIORITY,
  sched: JobState.SCHED,
  run: JobState.RUN,
  cleanup: JobState.CLEANUP,
  inactive: JobState.INACTIVE,
  pending: PENDING,
  running: RUNNING,
  active: ACTIVE,
};

const RESULT_WORDS: Readonly<Record<string, number>> = {
  completed: JobResult.COMPLETED,
  failed: JobResult.FAILED,
  canceled: JobResult.CANCELED,
  cancelled: JobResult.CANCELED,
  timeout: JobResult.TIMEOUT,
};

/**
 * Parses a comma-separated list of state and result words, as `flux jobs -f` takes them
 * (e.g. "pending,run" or "failed,timeout"), into ListJobs masks. Case does not matter.
 * A result word selects INACTIVE jobs with that result, so it cannot be mixed with an active
 * state: the API combines the two masks with AND.
 *
 * ```ts
 * parseJobFilter("running") // { stateMask: 48, resultMask: 0 }
 * ```
 */
export function parseJobFilter(text: string): JobFilterMasks {
  let stateMask = 0;
  let resultMask = 0;
  for (const raw of text.split(",")) {
    const word = raw.trim().toLowerCase();
    if (word === "") continue;
    const state = STATE_WORDS[word];
    const result = RESULT_WORDS[word];
    if (state !== undefined) stateMask |= state;
    else if (result !== undefined) resultMask |= result;
    else {
      const known = [...Object.keys(STATE_WORDS), ...Object.keys(RESULT_WORDS)].join(", ");
      throw new RangeError(`unknown job state or result "${raw.trim()}" (expected one of ${known})`);
    }
  }
  if (resultMask !== 0) {
    if (stateMask & ACTIVE) {
      throw new RangeError(`"${text}" mixes active states with results, which only inactive jobs have`);
    }
    stateMask = INACTIVE;
  }
  return { stateMask, resultMask };
}
