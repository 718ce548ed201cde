import { randomBytes } from "node:crypto";
import { decodeJwt, decodeProtectedHeader, SignJWT, UnsecuredJWT } from "jose";
import { describe, expect, it } from "vitest";
import { createAccessTokens, TOKEN_ISSUER, type TokenError } from "../../../server/auth/access-tokens.js";

const key = randomBytes(32);
const tokens = createAccessTokens({ key, expiresMinutes: 600 });
const user = { name: "alice", tokenVersion: "v1" };

async function reasonOf(token: string): Promise<string> {
  return tokens.verify(token).then(
    () => "accepted",
    (e: TokenError) => e.reason,
  );
}

/** A token with our claims, signed however the attacker likes. */
function forged(overrides: { alg?: string; key?: Uint8Array; exp?: number; typ?: string; iss?: string } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ver: "v1" })
    .setProtectedHeader({ alg: overrides.alg ?? "HS256", typ: overrides.typ ?? "at+jwt" })
    .setSubject("alice")
    .setIssuer(overrides.iss ?? TOKEN_ISSUER)
    .setIssuedAt(now)
    .setExpirationTime(overrides.exp ?? now + 60)
    .setJti("x")
    .sign(overrides.key ?? key);
}

describe("access tokens", () => {
  it("carry sub, iat, exp, iss, a unique jti and the user's token version", async () => {
    const before = Math.floor(Date.now() / 1000);
    const a = await tokens.issue(user);
    const b = await tokens.issue(user);
    const claims = decodeJwt(a.token);
    expect(decodeProtectedHeader(a.token)).toEqual({ alg: "HS256", typ: "at+jwt" });
    expect(claims).toMatchObject({ sub: "alice", iss: TOKEN_ISSUER, ver: "v1" });
    expect(claims.iat).toBeGreaterThanOrEqual(before);
    expect(claims.exp).toBe(claims.iat! + 600 * 60);
    expect(a.expiresAtMs).toBe(claims.exp! * 1000);
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(decodeJwt(b.token).jti).not.toBe(claims.jti);
    expect(await tokens.verify(a.token)).toEqual({ name: "alice", tokenVersion: "v1" });
  });

  it("refuses garbage, truncation and a flipped signature as invalid", async () => {
    const { token } = await tokens.issue(user);
    expect(await reasonOf("garbage")).toBe("invalid");
    expect(await reasonOf("")).toBe("invalid");
    expect(await reasonOf(token.slice(0, -3))).toBe("invalid");
    const last = token.at(-2) === "A" ? "B" : "A";
    expect(await reasonOf(token.slice(0, -2) + last + token.at(-1))).toBe("invalid");
  });

  it("refuses a token signed with another key (such as FLUX_SECRET_KEY)", async () => {
    expect(await reasonOf(await forged({ key: new TextEncoder().encode("the-shared-secret-key-clients-hold!!") }))).toBe(
      "invalid",
    );
  });

  it("refuses alg none and algorithms other than HS256", async () => {
    const now = Math.floor(Date.now() / 1000);
    const none = new UnsecuredJWT({ ver: "v1" }).setSubject("alice").setIssuer(TOKEN_ISSUER).setIssuedAt(now).setExpirationTime(now + 60).setJti("x").encode();
    expect(await reasonOf(none)).toBe("invalid");
    expect(await reasonOf(await forged({ alg: "HS512", key: randomBytes(64) }))).toBe("invalid");
    expect(await reasonOf(await forged({ alg: "HS512", key }))).toBe("invalid");
  });

  it("refuses a token without our type or issuer", async () => {
    expect(await reasonOf(await forged({ typ: "JWT" }))).toBe("invalid");
    expect(await reasonOf(await forged({ iss: "someone-else" }))).toBe("invalid");
  });

  it("tells an expired token apart, so clients know to get a new one", async () => {
    expect(await reasonOf(await forged({ exp: Math.floor(Date.now() / 1000) - 5 }))).toBe("expired");
  });

  it("refuses the legacy login payload and 0.2 access tokens even when signed with our key", async () => {
    const legacy = await new SignJWT({ user: "alice", pass: "pw", scope: "token" }).setProtectedHeader({ alg: "HS256" }).sign(key);
    expect(await reasonOf(legacy)).toBe("invalid");
    const old = await new SignJWT({ sub: "1", exp: Math.floor(Date.now() / 1000) + 60 }).setProtectedHeader({ alg: "HS256" }).sign(key);
    expect(await reasonOf(old)).toBe("invalid");
  });
});
