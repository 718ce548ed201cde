/**
 * The auth interceptor: the single place that decides whether an RPC may run and as whom.
 * Connect, gRPC and gRPC-Web requests pass through it, and so do the legacy REST routes
 * (they call the same routes through a router transport with the Authorization header).
 *
 * With auth off every call runs as the anonymous caller (the server's user, a superuser)
 * and credentials are ignored. With auth on, every procedure but the public ones needs
 * a valid bearer token or HTTP Basic credentials; WhoAmI checks credentials when some
 * are sent (so a client can test its token) and answers anonymously otherwise.
 */
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { kCaller, kPeerAddress, type Caller } from "../context.js";
import { isTooManyAttemptsError } from "./attempt-limiter.js";
import { isAuthFailure, unauthenticated, type ChallengeSchemes } from "./auth-errors.js";
import type { Authenticator } from "./authenticator.js";

/** Services anyone may call: health checks and reflection. */
const PUBLIC_SERVICES = new Set([
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
]);
const CREATE_TOKEN = "flux.restful.v1.AuthService/CreateToken";
const WHO_AM_I = "flux.restful.v1.AuthService/WhoAmI";

export interface AuthInterceptorOptions {
  requireAuth: boolean;
  authenticator: Authenticator;
  /** The caller when auth is off. */
  anonymousCaller: Caller;
}

/** Maps what the authenticator throws to the ConnectError a client sees. */
export function toAuthConnectError(e: unknown, schemes: ChallengeSchemes = "bearer"): unknown {
  if (isAuthFailure(e)) return unauthenticated(e.message, { reason: e.reason, schemes, cause: e });
  if (isTooManyAttemptsError(e)) return new ConnectError(e.message, Code.ResourceExhausted);
  return e;
}

/** True for procedures that need no credentials ("package.Service/Method"). */
export function isPublicProcedure(procedure: string): boolean {
  if (procedure === CREATE_TOKEN || procedure === WHO_AM_I) return true;
  return PUBLIC_SERVICES.has(procedure.slice(0, procedure.lastIndexOf("/")));
}

export function createAuthInterceptor(options: AuthInterceptorOptions): Interceptor {
  const { authenticator } = options;
  return (next) => async (req) => {
    if (!options.requireAuth) {
      req.contextValues.set(kCaller, options.anonymousCaller);
      return next(req);
    }
    const procedure = `${req.service.typeName}/${req.method.name}`;
    const authorization = req.header.get("authorization");
    // CreateToken takes its credentials in the message; for the rest, headers are not even parsed.
    if (isPublicProcedure(procedure) && !(procedure === WHO_AM_I && authorization)) return next(req);
    try {
      const peer = req.contextValues.get(kPeerAddress);
      req.contextValues.set(kCaller, await authenticator.authenticate(authorization, peer, req.signal));
    } catch (e) {
      throw toAuthConnectError(e);
    }
    return next(req);
  };
}
