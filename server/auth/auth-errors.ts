/**
 * The errors the auth layer answers with. Unauthenticated always carries
 * WWW-Authenticate (a header for Connect and HTTP, a trailer for gRPC): the 0.2 Python
 * client only fetches a new token when it sees one, and 0.2's 403 left it stuck.
 */
import { Code, ConnectError } from "@connectrpc/connect";

export const REALM = "flux-restful";

/**
 * Why credentials were refused:
 * - "missing": no Authorization header;
 * - "malformed": not `Bearer <token>` or `Basic <base64 user:password>`;
 * - "invalid": a token that is not ours or not intact (garbage, wrong key or algorithm);
 * - "expired": a token past its exp;
 * - "revoked": a token of a deleted user or one whose password changed since;
 * - "inactive": a deactivated user;
 * - "bad-password": wrong user name or password.
 */
export type AuthFailureReason = "missing" | "malformed" | "invalid" | "expired" | "revoked" | "inactive" | "bad-password";

export class AuthFailure extends Error {
  override name = "AuthFailure" as const;
  constructor(
    readonly reason: AuthFailureReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isAuthFailure = (e: unknown): e is AuthFailure =>
  typeof e === "object" && e !== null && (e as { name?: unknown }).name === "AuthFailure";

/** Which challenges to offer: API clients get Bearer; browsers also get Basic, which prompts for a login. */
export type ChallengeSchemes = "bearer" | "basic-and-bearer";

function bearerChallenge(reason: AuthFailureReason | undefined): string {
  // RFC 6750 section 3: error="invalid_token" tells the client to get a new token.
  const tokenProblem = reason === "invalid" || reason === "expired" || reason === "revoked";
  return tokenProblem ? `Bearer realm="${REALM}", error="invalid_token"` : `Bearer realm="${REALM}"`;
}

/** An Unauthenticated ConnectError with the WWW-Authenticate challenge(s). */
export function unauthenticated(
  message: string,
  options: { reason?: AuthFailureReason; schemes?: ChallengeSchemes; cause?: unknown } = {},
): ConnectError {
  const err = new ConnectError(message, Code.Unauthenticated, undefined, undefined, options.cause);
  if (options.schemes === "basic-and-bearer") err.metadata.append("www-authenticate", `Basic realm="${REALM}", charset="UTF-8"`);
  err.metadata.append("www-authenticate", bearerChallenge(options.reason));
  return err;
}
