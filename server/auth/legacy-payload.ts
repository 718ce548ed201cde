/**
 * The login payload flux-restful-api 0.2 clients send to POST /v1/token:
 * an HS256 JWT {"user", "pass", "scope": "token"} signed with FLUX_SECRET_KEY, with no
 * exp, iat or nonce (so it can be replayed; kept only because existing clients send it).
 * Only that shape is accepted: other algorithms, `alg: none`, another key, another scope
 * or an access token are refused.
 */
import { jwtVerify } from "jose";

export class LegacyPayloadError extends Error {
  override name = "LegacyPayloadError" as const;
}

export interface LegacyCredentials {
  user: string;
  pass: string;
}

export async function verifyLegacyPayload(payload: string, secretKey: string): Promise<LegacyCredentials> {
  let claims;
  try {
    ({ payload: claims } = await jwtVerify(payload.trim(), new TextEncoder().encode(secretKey), {
      algorithms: ["HS256"],
    }));
  } catch (e) {
    throw new LegacyPayloadError("signed payload does not verify with FLUX_SECRET_KEY", { cause: e });
  }
  const { user, pass, scope } = claims as Record<string, unknown>;
  if (scope !== "token" || typeof user !== "string" || typeof pass !== "string") {
    throw new LegacyPayloadError('signed payload must be {"user", "pass", "scope": "token"}');
  }
  return { user, pass };
}
