import fs from "node:fs";
import path from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { SignJWT, UnsecuredJWT } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { isPublicProcedure } from "../../../server/auth/interceptor.js";
import { basicHeader, createAuthHarness, SECRET_KEY, type AuthHarness } from "./auth-harness.js";

const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => ConnectError.from(e));

describe("auth interceptor", () => {
  let h: AuthHarness;
  afterEach(() => h?.close());

  const authOn = async () => {
    h = await createAuthHarness({ FLUX_REQUIRE_AUTH: "yes", FLUX_SECRET_KEY: SECRET_KEY, FLUX_USER: "boss", FLUX_TOKEN: "boss-pw" });
  };
  const serverKey = () => Buffer.from(fs.readFileSync(path.join(h.dataDir, "token.key"), "utf8").trim(), "base64url");
  const claims = (expS: number) =>
    new SignJWT({ ver: h.auth.users.get("boss")!.tokenVersion })
      .setProtectedHeader({ alg: "HS256", typ: "at+jwt" })
      .setSubject("boss")
      .setIssuer("flux-restful")
      .setIssuedAt(expS - 60)
      .setExpirationTime(expS)
      .setJti("t");

  it("answers a call without credentials with Unauthenticated and a Bearer challenge", async () => {
    await authOn();
    const err = await errorOf(h.clients().admin.listUsers({}));
    expect(err?.code).toBe(Code.Unauthenticated);
    expect(err?.rawMessage).toBe("missing credentials");
    expect(err?.metadata.get("www-authenticate")).toBe('Bearer realm="flux-restful"');
  });

  it("refuses each forged or stale token with Unauthenticated and error=invalid_token", async () => {
    await authOn();
    const now = Math.floor(Date.now() / 1000);
    const attacks: Record<string, string> = {
      garbage: "garbage",
      "wrong signature": await claims(now + 600).sign(new TextEncoder().encode("x".repeat(40))),
      "signed with FLUX_SECRET_KEY": await claims(now + 600).sign(new TextEncoder().encode(SECRET_KEY)),
      "alg none": new UnsecuredJWT({ ver: "x" }).setSubject("boss").setIssuer("flux-restful").setIssuedAt().setExpirationTime("1h").setJti("t").encode(),
      expired: await claims(now - 10).sign(serverKey()),
    };
    for (const [name, token] of Object.entries(attacks)) {
      const err = await errorOf(h.clients(`Bearer ${token}`).admin.listUsers({}));
      expect([name, err?.code]).toEqual([name, Code.Unauthenticated]);
      expect(err?.metadata.get("www-authenticate")).toBe('Bearer realm="flux-restful", error="invalid_token"');
    }
    // The same claims with the server's key and a future exp pass: the attacks failed for their flaw alone.
    expect((await h.clients(`Bearer ${await claims(now + 600).sign(serverKey())}`).admin.listUsers({})).users).toHaveLength(1);
  });

  it("tells an expired token by its message", async () => {
    await authOn();
    const err = await errorOf(h.clients(`Bearer ${await claims(Math.floor(Date.now() / 1000) - 10).sign(serverKey())}`).admin.listUsers({}));
    expect(err?.rawMessage).toBe("token expired");
  });

  it("refuses Basic with a wrong password, then slows a burst down to ResourceExhausted", async () => {
    await authOn();
    const wrong = await errorOf(h.clients(basicHeader("boss", "nope")).admin.listUsers({}));
    expect(wrong?.code).toBe(Code.Unauthenticated);
    expect(wrong?.rawMessage).toBe("incorrect user name or password");
    for (let i = 0; i < 3; i++) await errorOf(h.clients(basicHeader("boss", `nope${i}`)).admin.listUsers({}));
    const burst = await Promise.all(Array.from({ length: 6 }, (_, i) => errorOf(h.clients(basicHeader("boss", `burst${i}`)).admin.listUsers({}))));
    const codes = burst.map((e) => Code[e!.code]);
    expect(codes).toContain("ResourceExhausted");
    expect(codes.every((c) => c === "ResourceExhausted" || c === "Unauthenticated")).toBe(true);
  });

  it("lets CreateToken and WhoAmI through without credentials, and nothing else", async () => {
    await authOn();
    expect(isPublicProcedure("flux.restful.v1.AuthService/CreateToken")).toBe(true);
    expect(isPublicProcedure("flux.restful.v1.AuthService/WhoAmI")).toBe(true);
    expect(isPublicProcedure("grpc.health.v1.Health/Check")).toBe(true);
    expect(isPublicProcedure("grpc.health.v1.Health/Watch")).toBe(true);
    expect(isPublicProcedure("grpc.reflection.v1.ServerReflection/ServerReflectionInfo")).toBe(true);
    expect(isPublicProcedure("grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo")).toBe(true);
    expect(isPublicProcedure("flux.restful.v1.JobService/ListJobs")).toBe(false);
    expect(isPublicProcedure("flux.restful.v1.AdminService/StopService")).toBe(false);
    expect(isPublicProcedure("grpc.health.v1.HealthX/Check")).toBe(false);
    const { auth } = h.clients("Bearer garbage");
    // CreateToken ignores a stale Authorization header: the 0.2 client keeps sending one.
    const res = await auth.createToken({ credentials: { case: "password", value: { username: "boss", password: "boss-pw" } } });
    expect(res.accessToken).not.toBe("");
  });

  it("with auth off, runs every call as the anonymous caller and ignores credentials", async () => {
    h = await createAuthHarness({});
    expect(await h.clients("Bearer garbage").auth.whoAmI({})).toMatchObject({ authenticated: false, superuser: true });
    expect((await h.clients(basicHeader("x", "y")).admin.listUsers({})).users).toEqual([]);
  });
});

describe("authenticateHttpRequest", () => {
  let h: AuthHarness;
  afterEach(() => h?.close());

  it("authenticates Node-style and fetch-style headers like the interceptor", async () => {
    h = await createAuthHarness({ FLUX_REQUIRE_AUTH: "true", FLUX_SECRET_KEY: SECRET_KEY, FLUX_USER: "boss", FLUX_TOKEN: "boss-pw" });
    expect(await h.auth.authenticateHttpRequest({ authorization: basicHeader("boss", "boss-pw") }, "127.0.0.1")).toEqual({
      name: "boss",
      superuser: true,
      authenticated: true,
    });
    const { accessToken } = await h.clients().auth.createToken({ credentials: { case: "password", value: { username: "boss", password: "boss-pw" } } });
    const headers = new Headers({ Authorization: `Bearer ${accessToken}` });
    expect((await h.auth.authenticateHttpRequest(headers, "127.0.0.1")).name).toBe("boss");
  });

  it("throws Unauthenticated offering Basic (for the browser's login prompt) and Bearer", async () => {
    h = await createAuthHarness({ FLUX_REQUIRE_AUTH: "true", FLUX_SECRET_KEY: SECRET_KEY });
    const err = await errorOf(h.auth.authenticateHttpRequest({}, "127.0.0.1"));
    expect(err?.code).toBe(Code.Unauthenticated);
    expect(err?.metadata.get("www-authenticate")).toBe('Basic realm="flux-restful", charset="UTF-8", Bearer realm="flux-restful"');
  });

  it("returns the anonymous caller when auth is off", async () => {
    h = await createAuthHarness({});
    expect(await h.auth.authenticateHttpRequest({ authorization: "Bearer junk" }, "")).toEqual(h.anonymousCaller);
  });
});
