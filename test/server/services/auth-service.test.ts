import fs from "node:fs";
import path from "node:path";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { decodeJwt, jwtVerify, SignJWT } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { createAuthHarness, SECRET_KEY, type AuthHarness } from "../auth/auth-harness.js";

const legacyPayload = (user: string, pass: string, key = SECRET_KEY) =>
  new SignJWT({ user, pass, scope: "token" }).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(new TextEncoder().encode(key));
const codeOf = (p: Promise<unknown>) => p.then(() => "ok", (e: unknown) => Code[ConnectError.from(e).code]);

describe("AuthService", () => {
  let h: AuthHarness;
  afterEach(() => h?.close());

  const authOn = () =>
    createAuthHarness({ FLUX_REQUIRE_AUTH: "true", FLUX_SECRET_KEY: SECRET_KEY, FLUX_USER: "fluxuser", FLUX_TOKEN: "flux-pw" });

  it("CreateToken exchanges a name and password for an expiring bearer token", async () => {
    h = await authOn();
    const before = Date.now();
    const res = await h.clients().auth.createToken({ credentials: { case: "password", value: { username: "fluxuser", password: "flux-pw" } } });
    expect(res.tokenType).toBe("Bearer");
    const expires = timestampDate(res.expireTime!).getTime();
    expect(expires).toBeGreaterThanOrEqual(before + 600 * 60_000 - 1000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 600 * 60_000);
    expect(decodeJwt(res.accessToken)).toMatchObject({ sub: "fluxuser", exp: Math.floor(expires / 1000) });
    const who = await h.clients(`Bearer ${res.accessToken}`).auth.whoAmI({});
    expect(who).toMatchObject({ authenticated: true, username: "fluxuser", superuser: true });
  });

  it("CreateToken accepts the legacy signed payload exactly as 0.2 clients send it", async () => {
    h = await authOn();
    const res = await h.clients().auth.createToken({ credentials: { case: "signedPayload", value: await legacyPayload("fluxuser", "flux-pw") } });
    expect(decodeJwt(res.accessToken).sub).toBe("fluxuser");
  });

  it("signs access tokens with the server-only key, never FLUX_SECRET_KEY", async () => {
    h = await authOn();
    const { accessToken } = await h.clients().auth.createToken({ credentials: { case: "password", value: { username: "fluxuser", password: "flux-pw" } } });
    await expect(jwtVerify(accessToken, new TextEncoder().encode(SECRET_KEY))).rejects.toThrow();
    const stored = Buffer.from(fs.readFileSync(path.join(h.dataDir, "token.key"), "utf8").trim(), "base64url");
    expect((await jwtVerify(accessToken, stored)).payload.sub).toBe("fluxuser");
  });

  it("CreateToken refuses wrong passwords, unknown users, inactive users and bad payloads with Unauthenticated", async () => {
    h = await authOn();
    const { auth } = h.clients();
    const password = (username: string, pw: string) => auth.createToken({ credentials: { case: "password", value: { username, password: pw } } });
    const payload = async (p: Promise<string>) => auth.createToken({ credentials: { case: "signedPayload", value: await p } });
    expect(await codeOf(password("fluxuser", "wrong"))).toBe("Unauthenticated");
    expect(await codeOf(password("nobody", "flux-pw"))).toBe("Unauthenticated");
    expect(await codeOf(payload(legacyPayload("fluxuser", "flux-pw", "another-key-of-decent-length-xx")))).toBe("Unauthenticated");
    expect(await codeOf(payload(legacyPayload("fluxuser", "wrong")))).toBe("Unauthenticated");
    expect(await codeOf(payload(Promise.resolve("garbage")))).toBe("Unauthenticated");
    h.auth.users.setActive("fluxuser", false);
    expect(await codeOf(password("fluxuser", "flux-pw"))).toBe("Unauthenticated");
    const err = await password("nobody", "x").catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).metadata.get("www-authenticate")).toMatch(/^Bearer realm="flux-restful"/);
  });

  it("CreateToken wants credentials: InvalidArgument without them or without a name", async () => {
    h = await authOn();
    const { auth } = h.clients();
    expect(await codeOf(auth.createToken({}))).toBe("InvalidArgument");
    expect(await codeOf(auth.createToken({ credentials: { case: "password", value: { username: "", password: "x" } } }))).toBe(
      "InvalidArgument",
    );
  });

  it("CreateToken refuses signed payloads when the server has no FLUX_SECRET_KEY", async () => {
    h = await createAuthHarness({ FLUX_USER: "fluxuser", FLUX_TOKEN: "flux-pw" });
    const res = h.clients().auth.createToken({ credentials: { case: "signedPayload", value: await legacyPayload("fluxuser", "flux-pw") } });
    expect(await codeOf(res)).toBe("FailedPrecondition");
  });

  it("WhoAmI without credentials: anonymous with auth on, the server's user (a superuser) with auth off", async () => {
    h = await authOn();
    expect(await h.clients().auth.whoAmI({})).toMatchObject({
      authenticated: false,
      username: "",
      superuser: false,
      server: { version: "test", serverMode: "single-user", authRequired: true },
    });
    h.close();
    h = await createAuthHarness({ FLUX_SERVER_MODE: "multi-user" });
    expect(await h.clients("Bearer garbage").auth.whoAmI({})).toMatchObject({
      authenticated: false,
      username: h.anonymousCaller.name,
      superuser: true,
      server: { serverMode: "multi-user", authRequired: false },
    });
  });

  it("WhoAmI with bad credentials says Unauthenticated, so a client can test its token", async () => {
    h = await authOn();
    expect(await codeOf(h.clients("Bearer garbage").auth.whoAmI({}))).toBe("Unauthenticated");
  });

  it("logs the issued token's user, never the password, payload or token", async () => {
    h = await authOn();
    const payload = await legacyPayload("fluxuser", "flux-pw");
    const { accessToken } = await h.clients().auth.createToken({ credentials: { case: "signedPayload", value: payload } });
    await codeOf(h.clients().auth.createToken({ credentials: { case: "password", value: { username: "fluxuser", password: "bad-guess-77" } } }));
    expect(h.logs.some((l) => l.msg === "token issued" && l.user === "fluxuser" && l.via === "signedPayload")).toBe(true);
    const text = JSON.stringify(h.logs);
    for (const secret of ["flux-pw", "bad-guess-77", payload, accessToken, SECRET_KEY]) expect(text).not.toContain(secret);
  });
});
