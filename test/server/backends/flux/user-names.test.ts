/**
 * uid <-> name for the flux backend: names from a passwd file and from submissions, and
 * the reverse lookup a multi-user listing uses to let job-list filter by owner, which
 * must refuse a name that more than one uid carries.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createUserNames } from "../../../../server/backends/flux/user-names.js";

let dir: string;
let passwdPath: string;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "user-names-"));
  passwdPath = path.join(dir, "passwd");
  await fs.writeFile(
    passwdPath,
    ["root:x:0:0:root:/root:/bin/bash", "alice:x:1001:1001::/home/alice:/bin/sh", "twin:x:1002:1002::/home/t1:/bin/sh", "twin:x:1003:1003::/home/t2:/bin/sh", ""].join("\n"),
  );
});

afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe("user names", () => {
  it("maps uids to names and back from the passwd file and what submissions taught it", () => {
    const names = createUserNames({ passwdPath, self: { uid: 999, name: "server" } });
    expect(names.nameOf(1001)).toBe("alice");
    expect(names.uidOf("alice")).toBe(1001);
    expect(names.uidOf("server")).toBe(999);
    names.learn(2000, "bob");
    expect(names.uidOf("bob")).toBe(2000);
    expect(names.nameOf(4242)).toBe("4242");
    expect(names.uidOf("nobody-here")).toBeUndefined();
  });

  it("gives no uid for a name that more than one uid carries", () => {
    const names = createUserNames({ passwdPath, self: { uid: 999, name: "server" } });
    expect(names.uidOf("twin")).toBeUndefined();
    names.learn(3000, "alice");
    expect(names.uidOf("alice")).toBeUndefined();
  });
});
