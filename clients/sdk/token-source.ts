/**
 * Holds the caller's access token and exchanges credentials for a new one when the server
 * asks (AuthService.CreateToken): a username and password, or the legacy payload signed with
 * the shared secret when one is given. Concurrent calls that need a token share one exchange.
 */
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { AuthService, type CreateTokenRequestSchema } from "../../gen/flux/restful/v1/auth_service_pb.js";
import { signLegacyPayload } from "./legacy-payload.js";

export interface TokenSourceOptions {
  /** Carries CreateToken; it must not itself do the token dance. */
  transport: Transport;
  /** The user name (FLUX_USER). */
  user?: string;
  /** The user's password or API token (FLUX_TOKEN). */
  token?: string;
  /** FLUX_SECRET_KEY: when set, credentials travel as the legacy signed payload. */
  secretKey?: string;
  /** An access token obtained earlier, sent until the server refuses it. */
  accessToken?: string;
  /** A token this close to its expiry is renewed before it is sent. Defaults to 30000. */
  renewBeforeMs?: number;
  /** Deadline of a CreateToken call. Defaults to 30000. */
  timeoutMs?: number;
  /** The clock, for tests. */
  now?: () => number;
}

export interface TokenSource {
  /** Whether credentials are there to exchange. */
  readonly canRenew: boolean;
  /** The token to send now (renewed first when about to expire), or undefined. */
  current(): Promise<string | undefined>;
  /**
   * Exchanges the credentials for a new token, unless `stale` was already replaced by a
   * concurrent call, in which case that newer token is returned.
   */
  renew(stale: string | undefined): Promise<string>;
  /** Exchanges the credentials for a new token now. */
  exchange(): Promise<string>;
}

export function createTokenSource(options: TokenSourceOptions): TokenSource {
  const auth = createClient(AuthService, options.transport);
  const now = options.now ?? Date.now;
  const renewBeforeMs = options.renewBeforeMs ?? 30_000;
  const { user, token: password, secretKey } = options;
  const canRenew = user !== undefined && user !== "" && password !== undefined && password !== "";
  let accessToken = options.accessToken || undefined;
  let expiresAtMs: number | undefined;
  let inflight: Promise<string> | undefined;

  async function request(): Promise<MessageInitShape<typeof CreateTokenRequestSchema>["credentials"]> {
    if (secretKey) return { case: "signedPayload", value: await signLegacyPayload(user!, password!, secretKey) };
    return { case: "password", value: { username: user!, password: password! } };
  }

  async function requestToken(): Promise<string> {
    try {
      const res = await auth.createToken({ credentials: await request() }, { timeoutMs: options.timeoutMs ?? 30_000 });
      accessToken = res.accessToken;
      expiresAtMs = res.expireTime ? timestampMs(res.expireTime) : undefined;
      return res.accessToken;
    } catch (e) {
      const err = ConnectError.from(e);
      throw new ConnectError(`cannot get a token for user "${user}": ${err.rawMessage}`, err.code, err.metadata, undefined, err);
    }
  }

  const source: TokenSource = {
    canRenew,
    async current() {
      if (accessToken && canRenew && expiresAtMs !== undefined && now() >= expiresAtMs - renewBeforeMs) {
        return source.renew(accessToken);
      }
      return accessToken;
    },
    renew(stale) {
      if (accessToken !== undefined && accessToken !== stale) return Promise.resolve(accessToken);
      return source.exchange();
    },
    exchange() {
      if (!canRenew) return Promise.reject(new ConnectError("no credentials to exchange for a token (a user and a token are needed)", Code.Unauthenticated));
      inflight ??= requestToken().finally(() => {
        inflight = undefined;
      });
      return inflight;
    },
  };
  return source;
}
