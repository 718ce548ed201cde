import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { basicHeader, createAuthHarness, SECRET_KEY, type AuthHarness } from "../auth/auth-harness.js";

const codeOf = (p: Promise<unknown>) => p.then(() => "ok", (e: unknown) => Code[ConnectError.from(e).code]);

describe("AdminService", () => {
  let h: AuthHarness;
  afterEach(() => h?.close());

  const authOn = async () => {
    h = await createAuthHarness({ FLUX_REQUIRE_AUTH: "true", FLUX_SECRET_KEY: SECRET_KEY, FLUX_USER: "boss", FLUX_TOKEN: "boss-pw" });
    await h.auth.users.create({ name: "alice", password: "alice-pw", superuser: false });
    return { boss: h.clients(basicHeader("boss", "boss-pw")).admin, alice: h.clients(basicHeader("alice", "alice-pw")).admin };
  };
  const tokenFor = async (name: string, password: string) =>
    (await h.clients().auth.createToken({ credentials: { case: "password", value: { username: name, password } } })).accessToken;

  it("lets a superuser create, list, deactivate, activate and delete users", async () => {
    const { boss } = await authOn();
    const before = Date.now();
    const { user } = await boss.createUser({ name: "carol", password: "carol-pw", superuser: false });
    expect(user).toMatchObject({ name: "carol", active: true, superuser: false });
    expect(timestampDate(user!.createTime!).getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect((await boss.listUsers({})).users.map((u) => u.name)).toEqual(["alice", "boss", "carol"]);
    expect((await boss.setUserActive({ name: "carol", active: false })).user?.active).toBe(false);
    expect(h.auth.users.get("carol")?.active).toBe(false);
    expect((await boss.setUserActive({ name: "carol", active: true })).user?.active).toBe(true);
    await boss.deleteUser({ name: "carol" });
    expect(h.auth.users.get("carol")).toBeUndefined();
  });

  it("refuses every RPC to a user who is not a superuser", async () => {
    const { alice } = await authOn();
    expect(await codeOf(alice.createUser({ name: "x", password: "y" }))).toBe("PermissionDenied");
    expect(await codeOf(alice.listUsers({}))).toBe("PermissionDenied");
    expect(await codeOf(alice.deleteUser({ name: "boss" }))).toBe("PermissionDenied");
    expect(await codeOf(alice.setUserPassword({ name: "boss", password: "mine" }))).toBe("PermissionDenied");
    expect(await codeOf(alice.setUserActive({ name: "boss", active: false }))).toBe("PermissionDenied");
    expect(await codeOf(alice.stopService({}))).toBe("PermissionDenied");
    expect(h.stopRequests).toBe(0);
    expect(h.auth.users.get("boss")?.active).toBe(true);
  });

  it("refuses every RPC without credentials when auth is on", async () => {
    await authOn();
    const { admin } = h.clients();
    expect(await codeOf(admin.listUsers({}))).toBe("Unauthenticated");
    expect(await codeOf(admin.stopService({}))).toBe("Unauthenticated");
  });

  it("answers with the right codes for duplicates, unknown users and bad input", async () => {
    const { boss } = await authOn();
    expect(await codeOf(boss.createUser({ name: "alice", password: "x" }))).toBe("AlreadyExists");
    expect(await codeOf(boss.createUser({ name: "9lives", password: "x" }))).toBe("InvalidArgument");
    expect(await codeOf(boss.createUser({ name: "dan", password: "" }))).toBe("InvalidArgument");
    expect(await codeOf(boss.deleteUser({ name: "nobody" }))).toBe("NotFound");
    expect(await codeOf(boss.setUserPassword({ name: "nobody", password: "x" }))).toBe("NotFound");
    expect(await codeOf(boss.setUserPassword({ name: "alice", password: "" }))).toBe("InvalidArgument");
    expect(await codeOf(boss.setUserActive({ name: "nobody", active: true }))).toBe("NotFound");
  });

  it("keeps a superuser from deleting or deactivating their own account", async () => {
    const { boss } = await authOn();
    expect(await codeOf(boss.deleteUser({ name: "boss" }))).toBe("FailedPrecondition");
    expect(await codeOf(boss.setUserActive({ name: "boss", active: false }))).toBe("FailedPrecondition");
    expect(h.auth.users.get("boss")?.active).toBe(true);
  });

  it("revokes tokens at once: delete, password change and deactivation", async () => {
    const { boss } = await authOn();
    await boss.createUser({ name: "erin", password: "erin-pw" });
    await boss.createUser({ name: "fay", password: "fay-pw" });
    const aliceToken = await tokenFor("alice", "alice-pw");
    const erinToken = await tokenFor("erin", "erin-pw");
    const fayToken = await tokenFor("fay", "fay-pw");
    const who = (token: string) => codeOf(h.clients(`Bearer ${token}`).auth.whoAmI({}));
    expect([await who(aliceToken), await who(erinToken), await who(fayToken)]).toEqual(["ok", "ok", "ok"]);
    await boss.deleteUser({ name: "alice" });
    await boss.setUserPassword({ name: "erin", password: "erin-pw2" });
    await boss.setUserActive({ name: "fay", active: false });
    expect([await who(aliceToken), await who(erinToken), await who(fayToken)]).toEqual([
      "Unauthenticated",
      "Unauthenticated",
      "Unauthenticated",
    ]);
    expect(await who(await tokenFor("erin", "erin-pw2"))).toBe("ok");
  });

  it("StopService asks for a stop just after answering", async () => {
    const { boss } = await authOn();
    const calledAt = performance.now();
    await boss.stopService({});
    // The stop is scheduled 50 ms after the handler runs, so it cannot have come yet when the
    // answer took less than that; on a stalled machine the answer itself may take longer.
    if (performance.now() - calledAt < 45) expect(h.stopRequests).toBe(0);
    await expect.poll(() => h.stopRequests, { timeout: 5000 }).toBe(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(h.stopRequests).toBe(1);
    expect(h.logs.some((l) => l.msg === "stop requested" && l.by === "boss")).toBe(true);
  });

  it("with auth off, the local operator (anonymous superuser) may administer without a token", async () => {
    h = await createAuthHarness({});
    const { admin } = h.clients();
    await admin.createUser({ name: "gus", password: "gus-pw", superuser: true });
    expect((await admin.listUsers({})).users.map((u) => u.name)).toEqual(["gus"]);
    await admin.stopService({});
    await new Promise((r) => setTimeout(r, 120));
    expect(h.stopRequests).toBe(1);
  });

  it("logs who did what, never the passwords", async () => {
    const { boss } = await authOn();
    await boss.createUser({ name: "hal", password: "hal-secret-pw" });
    await boss.setUserPassword({ name: "hal", password: "hal-secret-pw2" });
    expect(h.logs.some((l) => l.msg === "user created" && l.by === "boss" && l.user === "hal")).toBe(true);
    expect(h.logs.some((l) => l.msg === "password set" && l.user === "hal")).toBe(true);
    expect(JSON.stringify(h.logs)).not.toContain("hal-secret-pw");
    expect(JSON.stringify(h.logs)).not.toContain("boss-pw");
  });
});
