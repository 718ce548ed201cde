/**
 * The one place where a broker error response becomes a backend error (CONVENTIONS 20),
 * like ../flux-error.ts for the CLI. Each branch names the flux-core source that sends
 * the errno and text it covers. Anything unmapped is returned unchanged: an internal
 * error whose cause is logged.
 */
import { BackendUnavailableError, InvalidJobRequestError, JobInactiveError, JobNotFoundError } from "../../backend-errors.js";
import { formatJobId } from "../../jobid.js";
import type { FluxErrorContext } from "../flux-error.js";
import { isFluxRpcError } from "./rpc-error.js";
import { Errno } from "./wire-constants.js";

export function nativeErrorToBackendError(err: unknown, ctx: FluxErrorContext): unknown {
  if (!isFluxRpcError(err)) return err;
  const opts = { cause: err };
  const jobText = ctx.id === undefined ? "" : formatJobId(ctx.id);

  // The broker's router: "No service matching X is registered" (a module not loaded).
  if (err.errnum === Errno.ENOSYS) {
    return new BackendUnavailableError(`the flux instance does not offer "${err.topic}" (a module is not loaded)`, opts);
  }
  // A rank that is down or a service restarting.
  if (err.errnum === Errno.EHOSTUNREACH || err.errnum === Errno.EAGAIN) {
    return new BackendUnavailableError(`the flux instance cannot serve "${err.topic}" now`, opts);
  }

  if (ctx.id !== undefined && err.errnum === Errno.ENOENT) {
    // job-manager/raise.c: ENOENT "job is inactive" for a job in its inactive hash.
    if (ctx.operation === "cancel" && err.errorText === "job is inactive") return new JobInactiveError(jobText);
    // raise.c "unknown job id"; job-list list-id ENOENT (no message); job-info lookup.c
    // "invalid job id"; job-info watch.c ENOENT for an unknown job's eventlog.
    return new JobNotFoundError(jobText);
  }

  if (ctx.operation === "submit" && err.errnum !== Errno.EPERM && err.errorText !== "") {
    // job-ingest's validators and jobspec checks answer EINVAL/EPROTO with their reason
    // ("urgency range is [0-16] for guest users", "Missing key (tasks)"): Flux's own words
    // are the useful answer. EPERM is a signing problem of ours, not the user's.
    return new InvalidJobRequestError(/urgency/i.test(err.errorText) ? "urgency" : "jobspec", err.errorText);
  }
  return err;
}
