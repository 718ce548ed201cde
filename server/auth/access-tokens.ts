/**
 * Access tokens: compact HS256 JWTs signed with the server-only token key, carrying
 * sub (user name), iat, exp, iss, jti (unique id) and ver (the user's token version,
 * so a password change, deactivation or delete revokes them at once).
 */
import { randomUUID } from "node:crypto";
import { errors, jwtVerify, SignJWT } from "jose";

export const TOKEN_ISSUER = "flux-restful";
/** RFC 9068's type for access tokens: a login payload or any other JWT is not one. */
const TOKEN_TYPE = "at+jwt";

/**
 * Why a token was refused:
 * - "expired": well formed and signed by us, but past exp (the client should get a new one);
 * - "invalid": anything else (garbage, wrong key or algorithm, wrong claims).
 */
export type TokenErrorReason = "expired" | "invalid";

export class TokenError extends Error {
  override name = "TokenError" as const;
  constructor(
    readonly reason: TokenErrorReason,
    options?: { cause?: unknown },
  ) {
    super(reason === "expired" ? "token expired" : "invalid token", options);
  }
}

export interface AccessTokenOptions {
  key: Uint8Array;
  /** Lifetime; FLUX_ACCESS_TOKEN_EXPIRES_MINUTES, default 600. */
  expiresMinutes: number;
}

export interface VerifiedToken {
  name: string;
  tokenVersion: string;
}

export interface AccessTokens {
  issue(user: { name: string; tokenVersion: string }): Promise<{ token: string; expiresAtMs: number }>;
  /** Checks signature, algorithm, type, issuer and expiry; throws TokenError. */
  verify(token: string): Promise<VerifiedToken>;
}

export function createAccessTokens(options: AccessTokenOptions): AccessTokens {
  const { key } = options;
  return {
    async issue(user) {
      const nowS = Math.floor(Date.now() / 1000);
      const expS = nowS + Math.round(options.expiresMinutes * 60);
      const token = await new SignJWT({ ver: user.tokenVersion })
        .setProtectedHeader({ alg: "HS256", typ: TOKEN_TYPE })
        .setSubject(user.name)
        .setIssuer(TOKEN_ISSUER)
        .setIssuedAt(nowS)
        .setExpirationTime(expS)
        .setJti(randomUUID())
        .sign(key);
      return { token, expiresAtMs: expS * 1000 };
    },

    async verify(token) {
      let payload;
      try {
        ({ payload } = await jwtVerify(token, key, {
          algorithms: ["HS256"],
          issuer: TOKEN_ISSUER,
          typ: TOKEN_TYPE,
          requiredClaims: ["sub", "iat", "exp", "jti"],
        }));
      } catch (e) {
        throw new TokenError(e instanceof errors.JWTExpired ? "expired" : "invalid", { cause: e });
      }
      if (typeof payload.sub !== "string" || typeof payload.ver !== "string") throw new TokenError("invalid");
      return { name: payload.sub, tokenVersion: payload.ver };
    },
  };
}
