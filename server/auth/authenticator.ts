/**
 * Turns credentials into a Caller: a bearer access token, HTTP Basic, or (for
 * CreateToken) a name and password. The one place credentials are checked; the RPC
 * interceptor, the web UI's helper and AuthService all call it.
 */
import type { Caller } from "../context.js";
import type { Logger } from "../logger.js";
import type { AccessTokens } from "./access-tokens.js";
import { isTooManyAttemptsError, type AttemptLimiter } from "./attempt-limiter.js";
import { AuthFailure } from "./auth-errors.js";
import type { BasicCache } from "./basic-cache.js";
import type { UserRecord, UserStore } from "./user-store.js";

export interface AuthenticatorOptions {
  users: UserStore;
  tokens: AccessTokens;
  limiter: AttemptLimiter;
  basicCache: BasicCache;
  /** Failures are logged with the reason, the user name tried and the peer; never a password or token. */
  logger: Logger;
}

export interface Authenticator {
  /**
   * The caller an Authorization header value proves. Throws AuthFailure, or
   * TooManyAttemptsError while the user or address is being slowed down.
   */
  authenticate(authorization: string | null | undefined, peer: string, signal?: AbortSignal): Promise<Caller>;
  /** Checks a name and password (slowed down after failures); the active user, or throws as above. */
  checkPassword(name: string, password: string, peer: string, signal?: AbortSignal): Promise<UserRecord>;
}

const callerOf = (user: UserRecord): Caller => ({ name: user.name, superuser: user.superuser, authenticated: true });

/** Splits `Basic <base64 user:password>`; undefined when it is not that. */
function parseBasic(encoded: string): { name: string; password: string } | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return undefined;
  const text = Buffer.from(encoded, "base64").toString("utf8");
  const colon = text.indexOf(":");
  if (colon <= 0) return undefined;
  return { name: text.slice(0, colon), password: text.slice(colon + 1) };
}

export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const { users, tokens, limiter, basicCache, logger } = options;

  const refuse = (failure: AuthFailure, fields: Record<string, unknown>): never => {
    const level = failure.reason === "bad-password" ? "warn" : "debug";
    logger[level]("authentication failed", { reason: failure.reason, ...fields });
    throw failure;
  };

  const activeUser = (name: string, peer: string, scheme: string): UserRecord => {
    const user = users.get(name);
    if (!user) return refuse(new AuthFailure("revoked", "token revoked"), { user: name, peer, scheme });
    if (!user.active) return refuse(new AuthFailure("inactive", `user "${name}" is inactive`), { user: name, peer, scheme });
    return user;
  };

  async function checkPassword(name: string, password: string, peer: string, signal?: AbortSignal) {
    const userKey = `user:${name}`;
    const keys = peer ? [userKey, `addr:${peer}`] : [userKey];
    let release: () => void;
    try {
      release = await limiter.enter(keys, signal);
    } catch (e) {
      if (isTooManyAttemptsError(e)) logger.warn("authentication throttled", { user: name, peer });
      throw e;
    }
    try {
      const user = await users.verify(name, password);
      if (!user) {
        limiter.fail(keys);
        return refuse(new AuthFailure("bad-password", "incorrect user name or password"), { user: name, peer });
      }
      limiter.succeed([userKey]);
      if (!user.active) return refuse(new AuthFailure("inactive", `user "${name}" is inactive`), { user: name, peer });
      return user;
    } finally {
      release();
    }
  }

  async function bearer(token: string, peer: string): Promise<Caller> {
    let verified;
    try {
      verified = await tokens.verify(token);
    } catch (e) {
      const expired = (e as { reason?: string }).reason === "expired";
      return refuse(
        new AuthFailure(expired ? "expired" : "invalid", expired ? "token expired" : "invalid token", { cause: e }),
        { peer, scheme: "bearer" },
      );
    }
    const user = activeUser(verified.name, peer, "bearer");
    if (user.tokenVersion !== verified.tokenVersion) {
      return refuse(new AuthFailure("revoked", "token revoked"), { user: verified.name, peer, scheme: "bearer" });
    }
    return callerOf(user);
  }

  async function basic(name: string, password: string, peer: string, signal?: AbortSignal): Promise<Caller> {
    const cachedVersion = basicCache.get(name, password);
    if (cachedVersion !== undefined) {
      const user = users.get(name);
      if (user?.active && user.tokenVersion === cachedVersion) return callerOf(user);
    }
    const user = await checkPassword(name, password, peer, signal);
    basicCache.set(name, password, user.tokenVersion);
    return callerOf(user);
  }

  return {
    checkPassword,
    async authenticate(authorization, peer, signal) {
      if (!authorization) return refuse(new AuthFailure("missing", "missing credentials"), { peer });
      const match = /^\s*(\S+)\s+(\S+)\s*$/.exec(authorization);
      const scheme = match?.[1]!.toLowerCase();
      if (match && scheme === "bearer") return bearer(match[2]!, peer);
      const credentials = match && scheme === "basic" ? parseBasic(match[2]!) : undefined;
      if (credentials) return basic(credentials.name, credentials.password, peer, signal);
      return refuse(
        new AuthFailure("malformed", 'malformed authorization header: expected "Bearer <token>" or "Basic <credentials>"'),
        { peer },
      );
    },
  };
}
