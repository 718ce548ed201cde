import { describe, expect, it } from "vitest";
import { FluxCommandError, fluxErrorToBackendError, type FluxErrorContext } from "../../../../server/backends/flux/flux-error.js";
import { formatJobId } from "../../../../server/backends/jobid.js";
import { readTranscript } from "../../../support/fake-flux/transcript.js";

const ID = 199783088128n;

function mapTranscript(name: string, ctx: FluxErrorContext) {
  const t = readTranscript(name);
  const err = new FluxCommandError(t.command.split(" "), t.exitCode, t.stderr);
  const mapped = fluxErrorToBackendError(err, ctx) as Error & { field?: string; cause?: unknown };
  return { t, err, mapped };
}

describe("fluxErrorToBackendError", () => {
  it.each([
    ["job-raise-unknown.txt", "cancel"],
    ["job-eventlog-unknown.txt", "eventlog"],
    ["job-attach-unknown-id-f58.txt", "attach"],
    ["job-attach-unknown-id-dec.txt", "attach"],
    ["job-info-unknown-job.txt", "jobspec"],
  ] as const)("maps %s to JobNotFoundError naming the job in F58", (name, operation) => {
    const { t, mapped } = mapTranscript(name, { operation, id: ID });
    expect(t.exitCode).toBe(1);
    expect(mapped.name).toBe("JobNotFoundError");
    expect(mapped.message).toBe(`job "${formatJobId(ID)}" not found`);
  });

  it("maps list-ids' ENOENT (list.c list_id_continuation) to JobNotFoundError", () => {
    const err = new FluxCommandError(["flux", "job", "list-ids", "123"], 1, "flux-job: flux job-list.list-d: No such file or directory\n");
    expect((fluxErrorToBackendError(err, { operation: "get", id: 123n }) as Error).name).toBe("JobNotFoundError");
  });

  it("maps job-raise-inactive.txt to JobInactiveError", () => {
    const { mapped } = mapTranscript("job-raise-inactive.txt", { operation: "cancel", id: ID });
    expect(mapped.name).toBe("JobInactiveError");
    expect(mapped.message).toBe(`job "${formatJobId(ID)}" is inactive`);
  });

  it.each([
    ["job-submit-invalid-jobspec.txt", "jobspec", "Missing key (tasks)"],
    ["job-submit-invalid-json.txt", "jobspec", "jobspec: invalid JSON: string or '}' expected near 'not'"],
    ["job-submit-empty.txt", "jobspec", "required jobspec is empty"],
  ])("maps %s to InvalidJobRequestError carrying Flux's own message", (name, field, message) => {
    const { mapped } = mapTranscript(name, { operation: "submit" });
    expect(mapped.name).toBe("InvalidJobRequestError");
    expect(mapped.field).toBe(field);
    expect(mapped.message).toBe(message);
  });

  it("names the urgency field when job-ingest refuses an urgency", () => {
    const err = new FluxCommandError(["flux", "job", "submit", "--urgency=20"], 1, "flux-job: urgency range is [0-16] for guest users\n");
    const mapped = fluxErrorToBackendError(err, { operation: "submit" }) as Error & { field: string };
    expect([mapped.name, mapped.field, mapped.message]).toEqual(["InvalidJobRequestError", "urgency", "urgency range is [0-16] for guest users"]);
  });

  it.each(["no-instance.txt", "no-instance-no-uri.txt"])("maps %s (no broker) to BackendUnavailableError", (name) => {
    const { mapped, err } = mapTranscript(name, { operation: "list" });
    expect(mapped.name).toBe("BackendUnavailableError");
    expect(mapped.message).toBe("the flux instance is not reachable");
    expect(mapped.cause).toBe(err);
  });

  it("maps the C commands' flux_open failure, a missing flux binary and a timeout to BackendUnavailableError", () => {
    const open = new FluxCommandError(["flux", "job", "list", "-a"], 1, "flux-job: flux_open: No such file or directory\n");
    const missing = new FluxCommandError(["/nope/flux", "job", "list"], null, "", { spawnErrorCode: "ENOENT" });
    const slow = new FluxCommandError(["flux", "job", "list"], null, "", { timedOut: true, signal: "SIGTERM" });
    for (const e of [open, missing, slow]) expect((fluxErrorToBackendError(e, { operation: "list" }) as Error).name).toBe("BackendUnavailableError");
  });

  it("maps a sudo refusal in multi-user mode to BackendUnavailableError naming the user, not sudo's text", () => {
    const err = new FluxCommandError(["sudo", "-n", "-u", "alice", "flux", "job", "submit"], 1, "sudo: a password is required\n");
    const mapped = fluxErrorToBackendError(err, { operation: "submit", asUser: "alice" }) as Error;
    expect(mapped.name).toBe("BackendUnavailableError");
    expect(mapped.message).toContain('"alice"');
    expect(mapped.message).not.toContain("password");
  });

  it("leaves anything else as is (an internal error), e.g. an unknown key or an unexpected failure", () => {
    const { mapped, err } = mapTranscript("job-info-bad-key.txt", { operation: "jobspec", id: ID });
    expect(mapped).toBe(err);
    const crash = new FluxCommandError(["flux", "job", "list"], null, "", { signal: "SIGSEGV" });
    expect(fluxErrorToBackendError(crash, { operation: "list" })).toBe(crash);
    const notOurs = new TypeError("boom");
    expect(fluxErrorToBackendError(notOurs, { operation: "list" })).toBe(notOurs);
  });
});
