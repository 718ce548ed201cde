/**
 * The sequence flux-restful-api 0.2's Python client makes, replayed over HTTP against a
 * real server: a request without a token gets 401 with www-authenticate; POST /v1/token
 * with the payload signed with FLUX_SECRET_KEY; the retry with the bearer token succeeds;
 * an expired token gets 401 again, and a new exchange succeeds.
 */
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/start-test-server.js";
import { CHEAP_TUNING } from "./auth-harness.js";

const SECRET_KEY = "legacy-flow-shared-secret-0123456789abc";
const TOKEN_KEY = "legacy-flow-server-only-token-key-0123456789";

/** As the 0.2 client's get_encoded_auth: HS256 {user, pass, scope}, no exp, iat or nonce. */
const signedPayload = (user: string, pass: string, key = SECRET_KEY) =>
  new SignJWT({ user, pass, scope: "token" }).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(new TextEncoder().encode(key));

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    env: {
      FLUX_REQUIRE_AUTH: "true",
      FLUX_SECRET_KEY: SECRET_KEY,
      FLUX_RESTFUL_TOKEN_KEY: TOKEN_KEY,
      FLUX_USER: "fluxuser",
      FLUX_TOKEN: "fluxuser-token",
    },
    deps: { authTuning: CHEAP_TUNING },
  });
});
afterAll(async () => server?.close());

const get = (path: string, authorization?: string) =>
  fetch(`${server.url}${path}`, { headers: authorization ? { authorization } : {} });
const exchange = async (payload: string) =>
  fetch(`${server.url}/v1/token`, { method: "POST", headers: { Authorization: `Bearer ${payload}` } });

describe("the 0.2 Python client's token dance, over HTTP", () => {
  it("401 with www-authenticate, token exchange, retry succeeds; expired token 401, new exchange succeeds", async () => {
    const first = await get("/v1/jobs");
    expect(first.status).toBe(401);
    expect(first.headers.get("www-authenticate")).toMatch(/^Bearer/);

    const tokenRes = await exchange(await signedPayload("fluxuser", "fluxuser-token"));
    expect(tokenRes.status).toBe(200);
    const body = (await tokenRes.json()) as { access_token: string; token_type: string };
    expect(body.token_type).toBe("Bearer");
    expect(Object.keys(body).sort()).toEqual(["access_token", "token_type"]);

    const retry = await get("/v1/jobs", `Bearer ${body.access_token}`);
    expect(retry.status).toBe(200);
    expect(await retry.json()).toHaveProperty("jobs");

    // The same user's token, signed by this server, an hour past its exp.
    const nowS = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ ver: server.server.auth.users.get("fluxuser")!.tokenVersion })
      .setProtectedHeader({ alg: "HS256", typ: "at+jwt" })
      .setSubject("fluxuser")
      .setIssuer("flux-restful")
      .setIssuedAt(nowS - 7200)
      .setExpirationTime(nowS - 3600)
      .setJti("expired-one")
      .sign(new TextEncoder().encode(TOKEN_KEY));
    const stale = await get("/v1/jobs", `Bearer ${expired}`);
    expect(stale.status).toBe(401);
    expect(stale.headers.get("www-authenticate")).toContain('error="invalid_token"');

    const again = await exchange(await signedPayload("fluxuser", "fluxuser-token"));
    expect(again.status).toBe(200);
    const fresh = ((await again.json()) as { access_token: string }).access_token;
    expect((await get("/v1/jobs", `Bearer ${fresh}`)).status).toBe(200);
  });

  it("refuses a payload signed with another key or carrying a wrong password, without a 401", async () => {
    for (const payload of [await signedPayload("fluxuser", "fluxuser-token", "some-other-key-0123456789abcdef"), await signedPayload("fluxuser", "wrong")]) {
      const res = await exchange(payload);
      expect(res.status).toBe(400);
    }
  });

  it("refuses an access token signed with FLUX_SECRET_KEY (what 0.2 issued, and any client could forge)", async () => {
    const forged = await new SignJWT({ sub: "1", exp: Math.floor(Date.now() / 1000) + 600 })
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode(SECRET_KEY));
    expect((await get("/v1/jobs", `Bearer ${forged}`)).status).toBe(401);
  });

  it("keeps the stream route behind auth too (0.2 left it open)", async () => {
    expect((await get("/v1/jobs/1/output/stream")).status).toBe(401);
  });
});
