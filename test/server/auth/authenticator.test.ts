import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createAccessTokens } from "../../../server/auth/access-tokens.js";
import { createAttemptLimiter } from "../../../server/auth/attempt-limiter.js";
import { createAuthenticator, type Authenticator } from "../../../server/auth/authenticator.js";
import { createBasicCache } from "../../../server/auth/basic-cache.js";
import { createUserStore, type UserStore } from "../../../server/auth/user-store.js";
import { createJsonLogger } from "../../../server/logger.js";

const basic = (name: string, password: string) => `Basic ${Buffer.from(`${name}:${password}`).toString("base64")}`;

describe("authenticator", () => {
  let dir: string;
  let users: UserStore;
  let auth: Authenticator;
  let logs: Record<string, unknown>[];
  const tokens = createAccessTokens({ key: randomBytes(32), expiresMinutes: 5 });

  const reasonOf = (p: Promise<unknown>) => p.then(() => "accepted", (e: { reason?: string; name: string }) => e.reason ?? e.name);

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "flux-authn-"));
    users = createUserStore({ file: path.join(dir, "users.db"), scryptCost: { log2N: 10, r: 8, p: 1 } });
    logs = [];
    auth = createAuthenticator({
      users,
      tokens,
      limiter: createAttemptLimiter({ freeAttempts: 3, baseDelayMs: 80, maxDelayMs: 400, maxWaiting: 2 }),
      basicCache: createBasicCache(),
      logger: createJsonLogger({ level: "debug", write: (line) => logs.push(JSON.parse(line)) }),
    });
    await users.create({ name: "alice", password: "alice-pw", superuser: false });
    await users.create({ name: "root_op", password: "op-pw", superuser: true });
  });
  afterEach(() => {
    users.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("accepts a bearer token and Basic credentials, with the user's flags", async () => {
    const { token } = await tokens.issue(users.get("alice")!);
    expect(await auth.authenticate(`Bearer ${token}`, "10.0.0.1")).toEqual({ name: "alice", superuser: false, authenticated: true });
    expect(await auth.authenticate(`bearer   ${token} `, "10.0.0.1")).toMatchObject({ name: "alice" });
    expect(await auth.authenticate(basic("root_op", "op-pw"), "10.0.0.1")).toEqual({ name: "root_op", superuser: true, authenticated: true });
  });

  it("refuses missing and malformed headers", async () => {
    expect(await reasonOf(auth.authenticate(undefined, ""))).toBe("missing");
    expect(await reasonOf(auth.authenticate("", ""))).toBe("missing");
    expect(await reasonOf(auth.authenticate("Bearer", ""))).toBe("malformed");
    expect(await reasonOf(auth.authenticate("Token abc", ""))).toBe("malformed");
    expect(await reasonOf(auth.authenticate("Basic !!!", ""))).toBe("malformed");
    expect(await reasonOf(auth.authenticate(`Basic ${Buffer.from("no-colon").toString("base64")}`, ""))).toBe("malformed");
    expect(await reasonOf(auth.authenticate("Bearer a b", ""))).toBe("malformed");
  });

  it("refuses a garbage token as invalid", async () => {
    expect(await reasonOf(auth.authenticate("Bearer not.a.token", ""))).toBe("invalid");
  });

  it("revokes tokens of a deleted user, also when the name is created again", async () => {
    const { token } = await tokens.issue(users.get("alice")!);
    users.remove("alice");
    expect(await reasonOf(auth.authenticate(`Bearer ${token}`, ""))).toBe("revoked");
    await users.create({ name: "alice", password: "alice-pw", superuser: true });
    expect(await reasonOf(auth.authenticate(`Bearer ${token}`, ""))).toBe("revoked");
  });

  it("refuses a deactivated user's token and Basic credentials", async () => {
    const { token } = await tokens.issue(users.get("alice")!);
    expect(await auth.authenticate(basic("alice", "alice-pw"), "")).toMatchObject({ name: "alice" });
    users.setActive("alice", false);
    expect(await reasonOf(auth.authenticate(`Bearer ${token}`, ""))).toBe("inactive");
    expect(await reasonOf(auth.authenticate(basic("alice", "alice-pw"), ""))).toBe("inactive");
  });

  it("revokes tokens and cached Basic credentials when the password changes", async () => {
    const { token } = await tokens.issue(users.get("alice")!);
    expect(await auth.authenticate(basic("alice", "alice-pw"), "")).toMatchObject({ name: "alice" });
    await users.setPassword("alice", "new-pw");
    expect(await reasonOf(auth.authenticate(`Bearer ${token}`, ""))).toBe("revoked");
    expect(await reasonOf(auth.authenticate(basic("alice", "alice-pw"), ""))).toBe("bad-password");
    expect(await auth.authenticate(basic("alice", "new-pw"), "")).toMatchObject({ name: "alice" });
  });

  it("reads the superuser flag from the store on every request, not from the token", async () => {
    const { token } = await tokens.issue(users.get("root_op")!);
    expect((await auth.authenticate(`Bearer ${token}`, "")).superuser).toBe(true);
    await users.ensureSuperuser("alice", "alice-pw");
    const { token: aliceToken } = await tokens.issue(users.get("alice")!);
    expect((await auth.authenticate(`Bearer ${aliceToken}`, "")).superuser).toBe(true);
  });

  it("caches verified Basic credentials, so a request loop does not pay the KDF each time", async () => {
    // Counts the password checks (each one runs the KDF) rather than timing them: a timed
    // comparison fails whenever a busy machine stalls the loop of cached checks.
    const slowDir = fs.mkdtempSync(path.join(os.tmpdir(), "flux-authn-slow-"));
    const slowUsers = createUserStore({ file: path.join(slowDir, "users.db"), scryptCost: { log2N: 10, r: 8, p: 1 } });
    try {
      await slowUsers.create({ name: "carol", password: "carol-pw", superuser: false });
      const verify = vi.spyOn(slowUsers, "verify");
      const slow = createAuthenticator({ users: slowUsers, tokens, limiter: createAttemptLimiter(), basicCache: createBasicCache(), logger: createJsonLogger({ write: () => {} }) });
      expect(await slow.authenticate(basic("carol", "carol-pw"), "")).toMatchObject({ name: "carol" });
      expect(verify).toHaveBeenCalledTimes(1);
      for (let i = 0; i < 20; i++) expect(await slow.authenticate(basic("carol", "carol-pw"), "")).toMatchObject({ name: "carol" });
      expect(verify).toHaveBeenCalledTimes(1);
      // Another password for the same name is checked, not served from the cache.
      expect(await reasonOf(slow.authenticate(basic("carol", "not-carols-pw"), ""))).toBe("bad-password");
      expect(verify).toHaveBeenCalledTimes(2);
    } finally {
      slowUsers.close();
      fs.rmSync(slowDir, { recursive: true, force: true });
    }
  });

  it("slows down a burst of wrong passwords, and refuses a parallel one", async () => {
    const times: number[] = [];
    for (let i = 0; i < 6; i++) {
      const start = performance.now();
      expect(await reasonOf(auth.authenticate(basic("alice", `guess-${i}`), "10.0.0.9"))).toBe("bad-password");
      times.push(performance.now() - start);
    }
    // Three free failures, then 80, 160, 320 ms before the password is even checked.
    expect(times[3]).toBeGreaterThanOrEqual(75);
    expect(times[5]).toBeGreaterThanOrEqual(300);
    const burst = await Promise.all(Array.from({ length: 5 }, (_, i) => reasonOf(auth.checkPassword("alice", `p${i}`, "10.0.0.9"))));
    expect(burst.filter((r) => r === "TooManyAttemptsError").length).toBeGreaterThanOrEqual(3);
    // The right password is slowed down too (else the delay tells a guess apart), but succeeds.
    const start = performance.now();
    expect(await auth.authenticate(basic("alice", "alice-pw"), "10.0.0.9")).toMatchObject({ name: "alice" });
    expect(performance.now() - start).toBeGreaterThanOrEqual(300);
  });

  it("logs failures with the user name tried, never the password or token", async () => {
    const { token } = await tokens.issue(users.get("alice")!);
    users.remove("alice");
    await reasonOf(auth.authenticate(`Bearer ${token}`, "10.0.0.3"));
    await reasonOf(auth.authenticate(basic("root_op", "wrong-secret-guess"), "10.0.0.3"));
    const text = JSON.stringify(logs);
    expect(logs.some((l) => l.msg === "authentication failed" && l.reason === "bad-password" && l.user === "root_op")).toBe(true);
    expect(logs.some((l) => l.reason === "revoked" && l.user === "alice")).toBe(true);
    expect(text).not.toContain("wrong-secret-guess");
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.split(".")[2]);
  });
});
