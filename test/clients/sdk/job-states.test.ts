import { describe, expect, it } from "vitest";
import { ACTIVE, INACTIVE, JobResult, JobState, PENDING, RUNNING, parseJobFilter, resultName, stateName } from "../../../clients/sdk/index.js";

describe("Flux state names and masks", () => {
  it("has Flux's mask values (flux-jobs(1): pending 14, running 48, active 62)", () => {
    expect([PENDING, RUNNING, ACTIVE, INACTIVE]).toEqual([14, 48, 62, 64]);
  });

  it("names every state and result as Flux does", () => {
    const states = [JobState.NEW, JobState.DEPEND, JobState.PRIORITY, JobState.SCHED, JobState.RUN, JobState.CLEANUP, JobState.INACTIVE];
    expect(states.map(stateName)).toEqual(["NEW", "DEPEND", "PRIORITY", "SCHED", "RUN", "CLEANUP", "INACTIVE"]);
    const results = [JobResult.COMPLETED, JobResult.FAILED, JobResult.CANCELED, JobResult.TIMEOUT];
    expect(results.map(resultName)).toEqual(["COMPLETED", "FAILED", "CANCELED", "TIMEOUT"]);
    expect(stateName(JobState.UNSPECIFIED)).toBe("");
    expect(resultName(JobResult.UNSPECIFIED)).toBe("");
  });

  it.each([
    ["pending", { stateMask: 14, resultMask: 0 }],
    ["RUNNING", { stateMask: 48, resultMask: 0 }],
    ["sched,run", { stateMask: 24, resultMask: 0 }],
    ["active,inactive", { stateMask: 126, resultMask: 0 }],
    ["failed,timeout", { stateMask: 64, resultMask: 10 }],
    ["inactive, cancelled", { stateMask: 64, resultMask: 4 }],
  ])("parses %j as flux jobs -f does", (text, masks) => {
    expect(parseJobFilter(text)).toEqual(masks);
  });

  it("rejects unknown words and results mixed with active states", () => {
    expect(() => parseJobFilter("run,bogus")).toThrow('unknown job state or result "bogus"');
    expect(() => parseJobFilter("running,completed")).toThrow('"running,completed" mixes active states with results');
  });
});
