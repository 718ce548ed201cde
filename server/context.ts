/**
 * Typed per-request values, filled by the adapter and interceptors and read by handlers.
 */
import { createContextKey } from "@connectrpc/connect";

/** The caller as the auth layer established it. */
export interface Caller {
  /** User name; with auth off, the name jobs are recorded under. */
  name: string;
  /** May see every job and manage users. */
  superuser: boolean;
  /** True when credentials were checked (false with auth off). */
  authenticated: boolean;
}

/** Set by the auth interceptor; the default is the anonymous caller used when auth is off. */
export const kCaller = createContextKey<Caller | undefined>(undefined, { description: "caller" });

/** Request id: from the x-request-id header, or generated. */
export const kRequestId = createContextKey<string>("", { description: "request id" });

/** The peer's address, for rate limiting and logs. */
export const kPeerAddress = createContextKey<string>("", { description: "peer address" });
