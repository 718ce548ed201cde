/**
 * The one place where a failed `flux` command becomes a backend error (CONVENTIONS 20).
 * Each branch names the transcript in ../shared/flux-reference/ (or the flux-core
 * source line, where no transcript exists) whose stderr and exit code it covers.
 * Messages never carry Flux's stderr verbatim except where Flux's own words are the
 * answer to the user (a refused jobspec); the original error stays as `cause`.
 */
import {
  BackendUnavailableError,
  InvalidJobRequestError,
  JobInactiveError,
  JobNotFoundError,
} from "../backend-errors.js";
import { formatJobId } from "../jobid.js";

/** A `flux` child process that failed: spawn error, non-zero exit, signal, or our timeout. */
export class FluxCommandError extends Error {
  override name = "FluxCommandError" as const;
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly details: { signal?: string | null; spawnErrorCode?: string; timedOut?: boolean; stdout?: string } = {},
  ) {
    super(
      details.spawnErrorCode !== undefined
        ? `flux command failed to start (${details.spawnErrorCode}): ${argv.join(" ")}`
        : details.timedOut
          ? `flux command timed out: ${argv.join(" ")}`
          : `flux command exited ${exitCode ?? details.signal}: ${argv.join(" ")}: ${stderr.trim()}`,
    );
  }
}

export const isFluxCommandError = (e: unknown): e is FluxCommandError =>
  typeof e === "object" && e !== null && (e as { name?: unknown }).name === "FluxCommandError";

/** What the failed command was doing, so the mapping can name the job. */
export interface FluxErrorContext {
  operation: "submit" | "get" | "list" | "cancel" | "eventlog" | "output" | "watch" | "attach" | "jobspec" | "resources" | "probe";
  id?: bigint;
  /** The Linux user a submission ran as (multi-user mode). */
  asUser?: string;
}

/** The last line Flux printed, without the "flux-job: " style prefix. */
function fluxMessage(stderr: string): string {
  const lines = stderr.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const last = lines[lines.length - 1] ?? "";
  return last.replace(/^flux(-[a-z-]+)?: (ERROR: )?/, "");
}

/**
 * Maps a FluxCommandError to a backend error, or returns the input unchanged
 * (an internal error: the service answers "internal error" and logs the cause).
 */
export function fluxErrorToBackendError(err: unknown, ctx: FluxErrorContext): unknown {
  if (!isFluxCommandError(err)) return err;
  const jobText = ctx.id === undefined ? "" : formatJobId(ctx.id);
  const stderr = err.stderr;
  const opts = { cause: err };

  // spawn ENOENT/EACCES: no `flux` executable (FLUX_RESTFUL_FLUX_CMD wrong, flux-core not installed).
  if (err.details.spawnErrorCode !== undefined) {
    return new BackendUnavailableError(`the flux command could not be run (${err.details.spawnErrorCode})`, opts);
  }
  // Our own deadline (commandTimeoutMs): a broker that accepts but does not answer.
  if (err.details.timedOut) return new BackendUnavailableError("the flux instance did not answer in time", opts);

  // no-instance.txt, no-instance-no-uri.txt (Python: "Unable to connect to Flux: broker socket ... was not found"),
  // flux-shutdown-no-instance.txt ("error connecting to Flux: No such file or directory"), and for the C
  // commands `log_err_exit ("flux_open")` in src/cmd/job/*.c and src/cmd/flux.c: "flux-job: flux_open: <strerror>".
  if (/flux_open: |Unable to connect to Flux|error connecting to Flux/.test(stderr)) {
    return new BackendUnavailableError("the flux instance is not reachable", opts);
  }
  // sudo -n refusing (multi-user mode): "sudo: a password is required", "sudo: unknown user ...".
  if (/^sudo: /m.test(stderr)) {
    return new BackendUnavailableError(`cannot act as user "${ctx.asUser ?? "?"}": sudo refused (see docs/flux-backend.md)`, opts);
  }

  if (ctx.id !== undefined) {
    // job-raise-unknown.txt: "flux-job: raise ƒ2222222: unknown job id" (exit 1).
    // job-eventlog-unknown.txt: "flux-job: job ƒ2222222 not found" (exit 1; without -F: with -F real Flux waits for the job to appear).
    // job-attach-unknown-id-f58.txt / -dec.txt: "flux-job: Failed to attach to ƒ2222222: No such job" (exit 1).
    // job-info-unknown-job.txt: "flux-job: invalid job id" (exit 1).
    // list.c list_id_continuation, ENOENT from job-list.list-id (python-list-id-unknown.txt shows the errno):
    //   "flux-job: flux job-list.list-d: No such file or directory" (exit 1).
    if (
      /: unknown job id$|^flux-job: job \S+ not found$|Failed to attach to \S+: No such job|^flux-job: invalid job id$|job-list\.list-d?: No such file or directory/m.test(
        stderr,
      )
    ) {
      return new JobNotFoundError(jobText);
    }
    // job-raise-inactive.txt: "flux-job: raise ƒ6FP9YmD: job is inactive" (exit 1).
    if (/: job is inactive$/m.test(stderr)) return new JobInactiveError(jobText);
  }

  if (ctx.operation === "submit") {
    // job-submit-invalid-jobspec.txt: "flux-job: Missing key (tasks)"; job-submit-invalid-json.txt:
    // "flux-job: jobspec: invalid JSON: ..."; job-submit-empty.txt: "flux-job: required jobspec is empty";
    // and whatever job-ingest's validators refuse (e.g. an unsatisfiable request when the feasibility
    // validator is configured, or "urgency range is [0-16] for guest users"). Flux's own words are
    // the useful answer here, so they are kept.
    const message = fluxMessage(stderr);
    if (err.exitCode === 1 && message !== "") {
      return new InvalidJobRequestError(/urgency/i.test(message) ? "urgency" : "jobspec", message);
    }
  }
  return err;
}
