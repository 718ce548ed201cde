/**
 * AuthService: CreateToken exchanges a name and password, or the legacy payload signed
 * with FLUX_SECRET_KEY, for an access token; WhoAmI describes the caller and the server.
 * Both are public (the auth interceptor lets them through without credentials).
 */
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import type { AuthService } from "../../gen/flux/restful/v1/auth_service_pb.js";
import type { AccessTokens } from "../auth/access-tokens.js";
import { unauthenticated } from "../auth/auth-errors.js";
import type { Authenticator } from "../auth/authenticator.js";
import { toAuthConnectError } from "../auth/interceptor.js";
import { verifyLegacyPayload } from "../auth/legacy-payload.js";
import { kCaller, kPeerAddress, type Caller } from "../context.js";
import type { Logger } from "../logger.js";
import { invalidField } from "./error-mapping.js";

export interface ServerInfoFields {
  version: string;
  backend: string;
  serverMode: string;
  authRequired: boolean;
}

export interface AuthServiceOptions {
  authenticator: Authenticator;
  tokens: AccessTokens;
  /** FLUX_SECRET_KEY; without it signed payloads are refused. */
  secretKey: string | undefined;
  /** The caller with auth off. */
  anonymousCaller: Caller;
  info: ServerInfoFields;
  logger: Logger;
}

export function createAuthService(options: AuthServiceOptions): ServiceImpl<typeof AuthService> {
  const { authenticator, tokens, info, logger } = options;

  async function credentialsOf(req: Parameters<ServiceImpl<typeof AuthService>["createToken"]>[0]) {
    const credentials = req.credentials;
    if (credentials.case === "password") {
      if (credentials.value.username === "") throw invalidField("password.username", "is required");
      return { name: credentials.value.username, password: credentials.value.password };
    }
    if (credentials.case === "signedPayload") {
      if (options.secretKey === undefined) {
        throw new ConnectError("signed payloads need FLUX_SECRET_KEY to be set on the server", Code.FailedPrecondition);
      }
      try {
        const { user, pass } = await verifyLegacyPayload(credentials.value, options.secretKey);
        return { name: user, password: pass };
      } catch (e) {
        logger.warn("authentication failed", { reason: "bad-signed-payload" });
        throw unauthenticated((e as Error).message, { reason: "invalid", cause: e });
      }
    }
    throw invalidField("credentials", "are required: password or signed_payload");
  }

  return {
    async createToken(req, ctx: HandlerContext) {
      const { name, password } = await credentialsOf(req);
      let user;
      try {
        user = await authenticator.checkPassword(name, password, ctx.values.get(kPeerAddress), ctx.signal);
      } catch (e) {
        throw toAuthConnectError(e);
      }
      const { token, expiresAtMs } = await tokens.issue(user);
      logger.info("token issued", { user: user.name, via: req.credentials.case });
      return { accessToken: token, tokenType: "Bearer", expireTime: timestampFromMs(expiresAtMs) };
    },

    async whoAmI(_req, ctx) {
      const caller = ctx.values.get(kCaller) ?? (info.authRequired ? undefined : options.anonymousCaller);
      return {
        authenticated: caller?.authenticated ?? false,
        username: caller?.name ?? "",
        superuser: caller?.superuser ?? false,
        server: info,
      };
    },
  };
}
