/**
 * The auth layer, assembled from config: users store, token key and tokens, the
 * authenticator, the RPC interceptor, the helper for plain HTTP routes, and the
 * multi-user aware owner of submitted jobs. app.ts creates one per server.
 *
 * ```ts
 * const auth = await createAuth({ config, logger, anonymousCaller });
 * const interceptors = [loggingInterceptor, auth.interceptor];
 * const caller = await auth.authenticateHttpRequest(req.headers, req.socket.remoteAddress ?? "");
 * ```
 */
import path from "node:path";
import type { Interceptor } from "@connectrpc/connect";
import type { JobOwner } from "../backends/backend.js";
import type { Config } from "../config.js";
import type { Caller } from "../context.js";
import type { Logger } from "../logger.js";
import { createAccessTokens, type AccessTokens } from "./access-tokens.js";
import { createAttemptLimiter, type AttemptLimiterOptions } from "./attempt-limiter.js";
import { checkAuthSettings } from "./auth-settings.js";
import { createAuthenticator, type Authenticator } from "./authenticator.js";
import { createBasicCache, type BasicCacheOptions } from "./basic-cache.js";
import { createAuthInterceptor, toAuthConnectError } from "./interceptor.js";
import { createOwnerResolver, type ServerMode } from "./job-owner.js";
import { createAccountLookup, type AccountLookup } from "./linux-accounts.js";
import type { ScryptCost } from "./password-hash.js";
import { loadTokenKey } from "./token-key.js";
import { createUserStore, type UserStore } from "./user-store.js";

export { AuthFailure, isAuthFailure, unauthenticated, type AuthFailureReason } from "./auth-errors.js";
export { checkAuthSettings } from "./auth-settings.js";
export { isPublicProcedure, toAuthConnectError } from "./interceptor.js";
export type { Authenticator } from "./authenticator.js";
export type { UserRecord, UserStore } from "./user-store.js";
export type { ServerMode } from "./job-owner.js";

/** The users database, under the data dir. */
export const USERS_DB_FILE = "users.db";

/** Request headers as Node's http/http2 servers or the fetch API give them. */
export type HttpHeadersLike = Headers | Readonly<Record<string, string | string[] | undefined>>;

/**
 * Authenticates a plain HTTP request (web UI pages) exactly as the interceptor does an
 * RPC: the caller, or a ConnectError (Unauthenticated with WWW-Authenticate offering Basic
 * and Bearer, or ResourceExhausted while slowed down). With auth off: the anonymous caller.
 */
export type AuthenticateHttpRequest = (headers: HttpHeadersLike, peer: string) => Promise<Caller>;

/** Knobs for tests; production uses the defaults. */
export interface AuthTuning {
  scryptCost?: ScryptCost;
  limiter?: AttemptLimiterOptions;
  basicCache?: BasicCacheOptions;
  accounts?: AccountLookup;
  /** Defaults to process.getuid(). */
  serverUid?: number;
}

export interface AuthOptions {
  config: Pick<
    Config,
    | "dataDir"
    | "requireAuth"
    | "serverMode"
    | "fluxUser"
    | "fluxToken"
    | "secretKey"
    | "tokenKey"
    | "accessTokenExpiresMinutes"
  >;
  logger: Logger;
  /** Who calls when auth is off: the server's user, a superuser. */
  anonymousCaller: Caller;
  tuning?: AuthTuning;
}

export interface Auth {
  readonly requireAuth: boolean;
  readonly serverMode: ServerMode;
  readonly users: UserStore;
  readonly tokens: AccessTokens;
  readonly authenticator: Authenticator;
  /** Goes after the logging interceptor, so the log line names the caller. */
  readonly interceptor: Interceptor;
  readonly authenticateHttpRequest: AuthenticateHttpRequest;
  /** JobServiceOptions.ownerFor: the Linux account in multi-user mode. */
  ownerFor(caller: Caller): Promise<JobOwner>;
  close(): void;
}

function headerOf(headers: HttpHeadersLike, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Builds the auth layer; throws ConfigError for settings that must not start. */
export async function createAuth(options: AuthOptions): Promise<Auth> {
  const { config, logger, tuning = {} } = options;
  const serverUid = tuning.serverUid ?? process.getuid?.() ?? -1;
  for (const warning of checkAuthSettings(config, serverUid)) logger.warn(warning);

  const users = createUserStore({ file: path.join(config.dataDir, USERS_DB_FILE), scryptCost: tuning.scryptCost });
  try {
    const { key, source } = loadTokenKey({ configured: config.tokenKey, secretKey: config.secretKey, dataDir: config.dataDir });
    const tokens = createAccessTokens({ key, expiresMinutes: config.accessTokenExpiresMinutes });
    let superuser: string | undefined;
    if (config.fluxUser !== undefined && config.fluxToken !== undefined) {
      superuser = await users.ensureSuperuser(config.fluxUser, config.fluxToken);
    }
    const userCount = users.list().length;
    logger.info("auth", {
      requireAuth: config.requireAuth,
      serverMode: config.serverMode,
      tokenKey: source,
      users: userCount,
      ...(superuser ? { fluxUser: superuser } : {}),
    });
    if (config.requireAuth && userCount === 0) {
      logger.warn("auth is on but there are no users: set FLUX_USER and FLUX_TOKEN, or run `flux-restful-server users add`");
    }

    const authenticator = createAuthenticator({
      users,
      tokens,
      limiter: createAttemptLimiter(tuning.limiter),
      basicCache: createBasicCache(tuning.basicCache),
      logger,
    });
    const interceptor = createAuthInterceptor({
      requireAuth: config.requireAuth,
      authenticator,
      anonymousCaller: options.anonymousCaller,
    });
    const authenticateHttpRequest: AuthenticateHttpRequest = async (headers, peer) => {
      if (!config.requireAuth) return options.anonymousCaller;
      try {
        return await authenticator.authenticate(headerOf(headers, "authorization"), peer);
      } catch (e) {
        throw toAuthConnectError(e, "basic-and-bearer");
      }
    };
    return {
      requireAuth: config.requireAuth,
      serverMode: config.serverMode,
      users,
      tokens,
      authenticator,
      interceptor,
      authenticateHttpRequest,
      ownerFor: createOwnerResolver({
        serverMode: config.serverMode,
        accounts: tuning.accounts ?? createAccountLookup(),
        serverUid,
      }),
      close: () => users.close(),
    };
  } catch (e) {
    users.close();
    throw e;
  }
}
