/**
 * The one place where backend errors become Connect codes (CONVENTIONS 18-21).
 * Anything unrecognised is rethrown as is, so Connect answers "internal error"
 * and the logging interceptor logs the cause; no internal text reaches the client.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import {
  isBackendStorageError,
  isBackendUnavailableError,
  isInvalidJobRequestError,
  isJobInactiveError,
  isJobNotFoundError,
} from "../backends/backend-errors.js";

export function toConnectError(e: unknown): unknown {
  if (e instanceof ConnectError) return e;
  if (isJobNotFoundError(e)) return new ConnectError(e.message, Code.NotFound, undefined, undefined, e);
  if (isJobInactiveError(e)) return new ConnectError(e.message, Code.FailedPrecondition, undefined, undefined, e);
  if (isInvalidJobRequestError(e)) {
    return new ConnectError(`${e.field}: ${e.message}`, Code.InvalidArgument, undefined, undefined, e);
  }
  if (isBackendUnavailableError(e)) return new ConnectError(e.message, Code.Unavailable, undefined, undefined, e);
  // A full disk or a read-only store: the request may succeed later, reads still work.
  if (isBackendStorageError(e)) return new ConnectError(e.message, Code.ResourceExhausted, undefined, undefined, e);
  return e;
}

/** Runs fn and maps what it throws. */
export async function mapErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toConnectError(e);
  }
}

/** An InvalidArgument naming the field, e.g. `num_tasks: must be at least 1 (got 0)`. */
export function invalidField(field: string, message: string): ConnectError {
  return new ConnectError(`${field}: ${message}`, Code.InvalidArgument);
}

/** Input as quoted in a message: at most `max` characters, so a hostile value cannot flood answers and logs. */
export function quoted(text: string, max = 64): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max).join("")}…`;
}
