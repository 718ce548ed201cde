/**
 * Wait statuses and what Flux derives from them, checked against flux-reference values.
 */
import { describe, expect, it } from "vitest";
import { JobResultBit } from "../../../../server/backends/backend.js";
import {
  attachExitCode,
  deriveResult,
  exitedStatus,
  returncodeOf,
  signaledStatus,
  waitStatusOf,
} from "../../../../server/backends/local/wait-status.js";

describe("wait statuses", () => {
  it("encodes exits and signals as wait(2) does", () => {
    expect(exitedStatus(3)).toBe(768); // job-info-failed-eventlog.txt: finish status=768
    expect(exitedStatus(143)).toBe(36608); // job-info-cancelled-eventlog.txt
    expect(signaledStatus(9)).toBe(9);
    expect(waitStatusOf(0, null)).toBe(0);
    expect(waitStatusOf(null, "SIGALRM")).toBe(14);
  });

  it("derives returncode as flux.job.info does", () => {
    expect(returncodeOf(0, JobResultBit.COMPLETED)).toBe(0);
    expect(returncodeOf(768, JobResultBit.FAILED)).toBe(3);
    expect(returncodeOf(35072, JobResultBit.FAILED)).toBe(137); // a shell's exit 128+9
    expect(returncodeOf(9, JobResultBit.FAILED)).toBe(-9); // the task itself killed
    expect(returncodeOf(undefined, JobResultBit.CANCELED)).toBe(-128);
    expect(returncodeOf(undefined, JobResultBit.FAILED)).toBe(1);
    expect(returncodeOf(undefined, 0)).toBeUndefined();
  });

  it("gives flux job attach's exit code: largest exit, 128+signal, 1 when nothing ran", () => {
    expect(attachExitCode([0, 768])).toBe(3);
    expect(attachExitCode([768, 9])).toBe(137);
    expect(attachExitCode([14])).toBe(142);
    expect(attachExitCode([])).toBe(1);
  });

  it("derives the result as libjob/result.c", () => {
    expect(deriveResult({ t_run: 1, waitstatus: 0 })).toBe(JobResultBit.COMPLETED);
    expect(deriveResult({ t_run: 1, waitstatus: 15, exceptionType: "cancel" })).toBe(JobResultBit.CANCELED);
    expect(deriveResult({ t_run: 0, exceptionType: "cancel" })).toBe(JobResultBit.CANCELED);
    expect(deriveResult({ t_run: 1, waitstatus: 14, exceptionType: "timeout" })).toBe(JobResultBit.TIMEOUT);
    expect(deriveResult({ t_run: 1, waitstatus: 768 })).toBe(JobResultBit.FAILED);
    expect(deriveResult({ t_run: 0, exceptionType: "restart" })).toBe(JobResultBit.FAILED);
  });
});
