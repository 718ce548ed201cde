import { SignJWT, UnsecuredJWT } from "jose";
import { describe, expect, it } from "vitest";
import { verifyLegacyPayload } from "../../../server/auth/legacy-payload.js";

const secret = "a-long-enough-shared-secret-for-tests";
const sign = (claims: Record<string, unknown>, key = secret, alg = "HS256") =>
  new SignJWT(claims).setProtectedHeader({ alg, typ: "JWT" }).sign(new TextEncoder().encode(key));

describe("legacy signed payload", () => {
  it("accepts what flux-restful-api 0.2 clients send: HS256 {user, pass, scope} with no exp", async () => {
    const payload = await sign({ user: "fluxuser", pass: "12345-token", scope: "token" });
    expect(await verifyLegacyPayload(payload, secret)).toEqual({ user: "fluxuser", pass: "12345-token" });
    expect(await verifyLegacyPayload(` ${payload}\n`, secret)).toEqual({ user: "fluxuser", pass: "12345-token" });
  });

  it("refuses another key, another algorithm, alg none and other shapes", async () => {
    const refused = (p: Promise<unknown>) => p.then(() => "accepted", (e: Error) => e.name);
    const claims = { user: "fluxuser", pass: "pw", scope: "token" };
    expect(await refused(verifyLegacyPayload(await sign(claims, "another-secret-of-some-length!!"), secret))).toBe(
      "LegacyPayloadError",
    );
    expect(await refused(verifyLegacyPayload(await sign(claims, secret + secret, "HS512"), secret))).toBe(
      "LegacyPayloadError",
    );
    expect(await refused(verifyLegacyPayload(new UnsecuredJWT(claims).encode(), secret))).toBe("LegacyPayloadError");
    expect(await refused(verifyLegacyPayload(await sign({ ...claims, scope: "admin" }), secret))).toBe(
      "LegacyPayloadError",
    );
    expect(await refused(verifyLegacyPayload(await sign({ user: "fluxuser", scope: "token" }), secret))).toBe(
      "LegacyPayloadError",
    );
    expect(await refused(verifyLegacyPayload(await sign({ sub: "1", exp: 9999999999 }), secret))).toBe(
      "LegacyPayloadError",
    );
    expect(await refused(verifyLegacyPayload("not-a-jwt", secret))).toBe("LegacyPayloadError");
  });

  it("says why without echoing the payload", async () => {
    const payload = await sign({ user: "fluxuser", pass: "hunter2", scope: "token" }, "wrong-key-wrong-key-wrong-key!!");
    const err = await verifyLegacyPayload(payload, secret).catch((e: Error) => e);
    expect((err as Error).message).toBe("signed payload does not verify with FLUX_SECRET_KEY");
    expect((err as Error).message).not.toContain("hunter2");
  });
});
