/**
 * wait(2) statuses and the numbers Flux derives from them, for tasks that the local backend
 * runs directly (there is no job shell in between, so a killed task's status is the signal).
 */
import os from "node:os";
import { JobResultBit } from "../backend.js";

/** The wait status of a process that exited with `code` (WEXITSTATUS << 8). */
export function exitedStatus(code: number): number {
  return (code & 0xff) << 8;
}

/** The wait status of a process killed by signal number `signal` (WTERMSIG, no core dump bit). */
export function signaledStatus(signal: number): number {
  return signal & 0x7f;
}

/** The signal number of a Node signal name such as "SIGTERM"; 0 when unknown. */
export function signalNumber(name: NodeJS.Signals | string): number {
  return (os.constants.signals as Record<string, number | undefined>)[name] ?? 0;
}

/** The wait status Node reports as (code, signal) on a child's exit. */
export function waitStatusOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal !== null) return signaledStatus(signalNumber(signal));
  return exitedStatus(code ?? 0);
}

function termSignal(status: number): number {
  const signal = status & 0x7f;
  return signal !== 0 && signal !== 0x7f ? signal : 0;
}

/**
 * flux.job.info JobInfo.returncode: the exit code, the negative signal for a killed task,
 * -128 for a job canceled before it ran, 1 for one that failed before it ran; undefined while
 * the job is active and has no status.
 */
export function returncodeOf(waitstatus: number | undefined, result: number): number | undefined {
  if (waitstatus === undefined) {
    if (result === JobResultBit.CANCELED) return -128;
    if (result !== 0) return 1;
    return undefined;
  }
  const signal = termSignal(waitstatus);
  return signal !== 0 ? -signal : (waitstatus >> 8) & 0xff;
}

/**
 * The exit code `flux job attach` gives for these task statuses: the largest task exit code,
 * 128+signal for a killed task; 1 when no task ran.
 */
export function attachExitCode(statuses: readonly number[]): number {
  if (statuses.length === 0) return 1;
  let code = 0;
  for (const s of statuses) {
    const signal = termSignal(s);
    code = Math.max(code, signal !== 0 ? 128 + signal : (s >> 8) & 0xff);
  }
  return code;
}

/**
 * libjob/result.c as CONVENTIONS 2.2 states it: a job that ran and whose status is 0 is
 * COMPLETED; otherwise a `cancel` exception means CANCELED and `timeout` TIMEOUT (flux-core
 * raises "timeout", not RFC 21's "timelimit"); everything else FAILED.
 */
export function deriveResult(job: { t_run: number; waitstatus?: number; exceptionType?: string }): number {
  if (job.t_run > 0 && job.waitstatus === 0) return JobResultBit.COMPLETED;
  if (job.exceptionType === "cancel") return JobResultBit.CANCELED;
  if (job.exceptionType === "timeout") return JobResultBit.TIMEOUT;
  return JobResultBit.FAILED;
}
