import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createUserStore, type UserStore } from "../../../server/auth/user-store.js";

const cheap = { log2N: 10, r: 8, p: 1 };

describe("user store", () => {
  let dir: string;
  let file: string;
  let store: UserStore;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "flux-users-"));
    file = path.join(dir, "sub", "users.db");
    store = createUserStore({ file, scryptCost: cheap });
  });
  afterEach(() => {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("creates the database file readable by the owner only", () => {
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(file)).mode & 0o077).toBe(0);
  });

  it("creates users with a hash, not the password, and reads them back", async () => {
    const before = Date.now();
    const alice = await store.create({ name: "alice", password: "s3cret-pw", superuser: false });
    expect(alice).toMatchObject({ name: "alice", active: true, superuser: false });
    expect(alice.createdMs).toBeGreaterThanOrEqual(before);
    await store.create({ name: "root_admin", password: "other", superuser: true });
    expect(store.list().map((u) => [u.name, u.superuser])).toEqual([
      ["alice", false],
      ["root_admin", true],
    ]);
    store.close();
    const raw = fs.readFileSync(file).toString("latin1") + (fs.existsSync(file + "-wal") ? fs.readFileSync(file + "-wal").toString("latin1") : "");
    expect(raw).not.toContain("s3cret-pw");
    expect(raw).toContain("scrypt$10$8$1$");
    store = createUserStore({ file, scryptCost: cheap });
    expect(store.get("alice")?.name).toBe("alice");
  });

  it("verifies passwords and returns undefined for a wrong one or an unknown user", async () => {
    await store.create({ name: "bob", password: "pw-bob", superuser: false });
    expect((await store.verify("bob", "pw-bob"))?.name).toBe("bob");
    expect(await store.verify("bob", "pw-alice")).toBeUndefined();
    expect(await store.verify("nobody", "pw-bob")).toBeUndefined();
    expect(await store.verify("not a name!", "pw-bob")).toBeUndefined();
  });

  it("refuses malformed names, empty passwords and duplicates with the matching kind", async () => {
    const kindOf = async (p: Promise<unknown>) => p.then(() => "ok", (e: { kind?: string }) => e.kind);
    expect(await kindOf(store.create({ name: "-rf", password: "x", superuser: false }))).toBe("invalid");
    expect(await kindOf(store.create({ name: "a b", password: "x", superuser: false }))).toBe("invalid");
    expect(await kindOf(store.create({ name: "x".repeat(33), password: "x", superuser: false }))).toBe("invalid");
    expect(await kindOf(store.create({ name: "carol", password: "", superuser: false }))).toBe("invalid");
    expect(await kindOf(store.create({ name: "carol", password: "x", superuser: false }))).toBe("ok");
    expect(await kindOf(store.create({ name: "carol", password: "y", superuser: false }))).toBe("exists");
    expect(await kindOf(store.setPassword("dave", "x"))).toBe("not-found");
    expect(() => store.remove("dave")).toThrow(/user "dave" not found/);
    expect(() => store.setActive("dave", false)).toThrow(/not found/);
  });

  it("changes the token version on password change and deactivation, not on reads", async () => {
    const v0 = (await store.create({ name: "erin", password: "one", superuser: false })).tokenVersion;
    expect(store.get("erin")?.tokenVersion).toBe(v0);
    await store.setPassword("erin", "two");
    const v1 = store.get("erin")!.tokenVersion;
    expect(v1).not.toBe(v0);
    expect(await store.verify("erin", "one")).toBeUndefined();
    expect((await store.verify("erin", "two"))?.name).toBe("erin");
    const off = store.setActive("erin", false);
    expect(off.active).toBe(false);
    expect(off.tokenVersion).not.toBe(v1);
    expect(store.setActive("erin", false).tokenVersion).toBe(off.tokenVersion);
    expect(store.setActive("erin", true).active).toBe(true);
  });

  it("gives a re-created user a new token version", async () => {
    const v0 = (await store.create({ name: "frank", password: "pw", superuser: false })).tokenVersion;
    store.remove("frank");
    expect(store.get("frank")).toBeUndefined();
    const v1 = (await store.create({ name: "frank", password: "pw", superuser: false })).tokenVersion;
    expect(v1).not.toBe(v0);
  });

  it("ensureSuperuser creates, then leaves a matching user alone, then updates a changed password", async () => {
    expect(await store.ensureSuperuser("fluxuser", "token-1")).toBe("created");
    const created = store.get("fluxuser")!;
    expect(created.superuser).toBe(true);
    expect(await store.ensureSuperuser("fluxuser", "token-1")).toBe("unchanged");
    expect(store.get("fluxuser")!.tokenVersion).toBe(created.tokenVersion);
    expect(await store.ensureSuperuser("fluxuser", "token-2")).toBe("updated");
    expect(store.get("fluxuser")!.tokenVersion).not.toBe(created.tokenVersion);
    expect(await store.verify("fluxuser", "token-1")).toBeUndefined();
    expect((await store.verify("fluxuser", "token-2"))?.superuser).toBe(true);
  });

  it("ensureSuperuser promotes and reactivates an existing plain user", async () => {
    await store.create({ name: "gina", password: "pw", superuser: false });
    store.setActive("gina", false);
    expect(await store.ensureSuperuser("gina", "pw")).toBe("updated");
    expect(store.get("gina")).toMatchObject({ active: true, superuser: true });
  });

  it("sees writes made by another connection to the same file (the users CLI)", async () => {
    const other = createUserStore({ file, scryptCost: cheap });
    try {
      await other.create({ name: "hank", password: "pw", superuser: false });
      expect(store.get("hank")?.name).toBe("hank");
      other.setActive("hank", false);
      expect(store.get("hank")?.active).toBe(false);
    } finally {
      other.close();
    }
  });
});
