import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOwnerResolver } from "../../../server/auth/job-owner.js";
import { createAccountLookup, type AccountLookup } from "../../../server/auth/linux-accounts.js";
import { createLinuxTestUsers, isRoot, type LinuxTestUsers } from "./linux-test-users.js";

const user = (name: string) => ({ name, superuser: false, authenticated: true });
const codeOf = (p: Promise<unknown>) => p.then(() => "ok", (e: unknown) => Code[ConnectError.from(e).code]);
const fixed = (uid: number): AccountLookup => ({
  lookup: async (name) => ({ name, uid, gid: uid, groups: [uid], home: `/home/${name}`, shell: "/bin/sh" }),
});

describe("job owner", () => {
  it("single-user: jobs run as the server's user, recorded under the caller's name", async () => {
    const ownerFor = createOwnerResolver({ serverMode: "single-user", accounts: createAccountLookup(), serverUid: 0 });
    expect(await ownerFor(user("no_such_linux_user"))).toEqual({ name: "no_such_linux_user" });
  });

  it("multi-user with auth off: the anonymous caller keeps the server's user", async () => {
    const ownerFor = createOwnerResolver({ serverMode: "multi-user", accounts: fixed(1234), serverUid: 0 });
    expect(await ownerFor({ name: "root", superuser: true, authenticated: false })).toEqual({ name: "root" });
  });

  it("multi-user: a user with no Linux account gets FailedPrecondition naming them", async () => {
    const ownerFor = createOwnerResolver({ serverMode: "multi-user", accounts: createAccountLookup(), serverUid: 0 });
    const err = await ownerFor(user("no_such_linux_user")).catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.FailedPrecondition);
    expect((err as ConnectError).rawMessage).toMatch(/user "no_such_linux_user" has no linux account/);
  });

  it("multi-user: never runs jobs as root, and needs a root server for other accounts", async () => {
    expect(await codeOf(createOwnerResolver({ serverMode: "multi-user", accounts: fixed(0), serverUid: 0 })(user("root")))).toBe(
      "FailedPrecondition",
    );
    const notRoot = createOwnerResolver({ serverMode: "multi-user", accounts: fixed(1500), serverUid: 1000 });
    expect(await codeOf(notRoot(user("bob")))).toBe("FailedPrecondition");
    // The server's own account needs no switching, so a non-root server can still serve it.
    const self = createOwnerResolver({ serverMode: "multi-user", accounts: fixed(1000), serverUid: 1000 });
    expect(await codeOf(self(user("me")))).toBe("ok");
  });

  describe.skipIf(!isRoot)("with a real account (root)", () => {
    let accounts: LinuxTestUsers;
    beforeAll(() => {
      accounts = createLinuxTestUsers(1);
    });
    afterAll(() => accounts?.remove());

    it("multi-user: uid, gid, groups and the login environment come from the passwd database", async () => {
      const [name] = accounts.names as [string];
      const account = (await createAccountLookup().lookup(name))!;
      const ownerFor = createOwnerResolver({ serverMode: "multi-user", accounts: createAccountLookup(), serverUid: 0 });
      expect(await ownerFor(user(name))).toEqual({
        name,
        uid: account.uid,
        gid: account.gid,
        groups: account.groups,
        loginEnv: { HOME: `/home/${name}`, USER: name, LOGNAME: name, SHELL: "/bin/sh" },
      });
      expect(account.groups.length).toBe(2);
    });
  });
});
