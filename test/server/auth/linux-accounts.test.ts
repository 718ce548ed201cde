import { execFileSync } from "node:child_process";
import os from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccountLookup, parsePasswdLine } from "../../../server/auth/linux-accounts.js";
import { createLinuxTestUsers, isRoot, type LinuxTestUsers } from "./linux-test-users.js";

describe("passwd lines", () => {
  it("parse into name, ids, home and shell", () => {
    expect(parsePasswdLine("alice:x:1001:1002:Alice A,,,:/home/alice:/bin/bash\n")).toEqual({
      name: "alice",
      uid: 1001,
      gid: 1002,
      home: "/home/alice",
      shell: "/bin/bash",
    });
    expect(parsePasswdLine("svc:x:998:998::/var/lib/svc:")?.shell).toBe("/bin/sh");
    expect(parsePasswdLine("broken:x:abc:1::/:/bin/sh")).toBeUndefined();
    expect(parsePasswdLine("too:few:fields")).toBeUndefined();
  });
});

describe("account lookup", () => {
  it("finds the server's own account with the ids the OS reports", async () => {
    const me = os.userInfo();
    const account = await createAccountLookup().lookup(me.username);
    expect(account).toMatchObject({ name: me.username, uid: me.uid, gid: me.gid, home: me.homedir });
    expect(account!.groups[0]).toBe(me.gid);
  });

  it("returns undefined for a name the system does not know", async () => {
    expect(await createAccountLookup().lookup("no_such_user_zz9")).toBeUndefined();
  });

  describe.skipIf(!isRoot)("with real accounts (root)", () => {
    let accounts: LinuxTestUsers;
    beforeAll(() => {
      accounts = createLinuxTestUsers(1);
    });
    afterAll(() => accounts?.remove());

    it("reports uid, gid, supplementary groups, home and shell as id(1) does", async () => {
      const [name] = accounts.names as [string];
      const account = await createAccountLookup().lookup(name);
      const uid = Number(execFileSync("id", ["-u", name], { encoding: "utf8" }));
      const gid = Number(execFileSync("id", ["-g", name], { encoding: "utf8" }));
      const groupGid = Number(execFileSync("getent", ["group", accounts.group], { encoding: "utf8" }).split(":")[2]);
      expect(account).toMatchObject({ name, uid, gid, home: `/home/${name}`, shell: "/bin/sh" });
      expect(account!.groups[0]).toBe(gid);
      expect(account!.groups).toContain(groupGid);
    });

    it("finds an account created after an earlier miss (misses are not cached)", async () => {
      const lookup = createAccountLookup();
      const later = `${accounts.names[0]}z`;
      expect(await lookup.lookup(later)).toBeUndefined();
      execFileSync("useradd", ["-M", "-s", "/bin/sh", later], { stdio: "ignore" });
      try {
        expect((await lookup.lookup(later))?.name).toBe(later);
      } finally {
        execFileSync("userdel", [later], { stdio: "ignore" });
      }
    });
  });
});
