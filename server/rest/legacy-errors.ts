/**
 * Errors on the legacy routes: a ConnectError from the services, or bad input caught
 * while reading the request, becomes an HTTP status and a 0.2-style body. Bad input is
 * always 4xx `{"Message", "Errors": [...]}`, never 500. Only safe metadata is copied onto
 * the response (never content-*, connect-* or grpc-* headers of the in-memory call).
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { ExactJsonValue } from "./exact-json.js";

/** Bad input found by the REST layer itself (before any service was called). */
export class RestInputError extends Error {
  override name = "RestInputError" as const;
  /** One message per problem, each naming its field. */
  readonly errors: string[];
  constructor(
    errors: string | string[],
    /** 400, or e.g. 413 for a body that is too large. */
    readonly status = 400,
    /** The Message, when it should not be the route's usual one. */
    readonly summary?: string,
  ) {
    const list = typeof errors === "string" ? [errors] : errors;
    super(list.join("; "));
    this.errors = list;
  }
}

export const isRestInputError = (e: unknown): e is RestInputError =>
  typeof e === "object" && e !== null && (e as { name?: unknown }).name === "RestInputError";

/** Connect codes as HTTP statuses. FailedPrecondition is 409 (e.g. cancelling an INACTIVE job). */
const STATUS: Partial<Record<Code, number>> = {
  [Code.InvalidArgument]: 400,
  [Code.OutOfRange]: 400,
  [Code.Unauthenticated]: 401,
  [Code.PermissionDenied]: 403,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.Aborted]: 409,
  [Code.FailedPrecondition]: 409,
  [Code.ResourceExhausted]: 429,
  [Code.Canceled]: 499,
  [Code.Unimplemented]: 501,
  [Code.Unavailable]: 503,
  [Code.DeadlineExceeded]: 504,
};

/** Response headers a service may set that are safe and useful on a REST answer. */
const SAFE_METADATA = ["www-authenticate", "retry-after"];

export interface ErrorAnswer {
  status: number;
  body: { [key: string]: ExactJsonValue };
  headers: Record<string, string>;
}

/** How a route words its errors. */
export interface ErrorShape {
  /** Message for bad input (the Errors list holds the details), e.g. 0.2's "Invalid submit request". */
  invalidMessage?: string;
  /** Put before the message of other errors, e.g. "Job cannot be cancelled: ". */
  messagePrefix?: string;
  /** Added to every error body, e.g. the job id on cancel. */
  extra?: { [key: string]: ExactJsonValue };
}

export function httpStatusOf(code: Code): number {
  return STATUS[code] ?? 500;
}

/** The status, body and headers answering a failed request. */
export function toErrorAnswer(e: unknown, shape: ErrorShape = {}): ErrorAnswer {
  const extra = shape.extra ?? {};
  if (isRestInputError(e)) {
    return {
      status: e.status,
      body: { Message: e.summary ?? shape.invalidMessage ?? e.errors[0]!, Errors: e.errors, ...extra },
      headers: {},
    };
  }
  const err = ConnectError.from(e);
  const status = httpStatusOf(err.code);
  const headers: Record<string, string> = {};
  for (const name of SAFE_METADATA) {
    const value = err.metadata.get(name);
    if (value !== null) headers[name] = value;
  }
  if (status === 500) return { status, body: { Message: "internal error", ...extra }, headers };
  const message = err.rawMessage;
  if (err.code === Code.InvalidArgument || err.code === Code.OutOfRange) {
    return { status, body: { Message: shape.invalidMessage ?? message, Errors: [message], ...extra }, headers };
  }
  const body: ErrorAnswer["body"] = { Message: `${shape.messagePrefix ?? ""}${message}`, ...extra };
  // 0.2's auth dependency answered {"detail": "Not authenticated"}; scripts check for it.
  if (err.code === Code.Unauthenticated) body.detail = "Not authenticated";
  return { status, body, headers };
}
