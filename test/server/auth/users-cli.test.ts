import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runUsersCli } from "../../../server/auth/users-cli.js";
import { createUserStore } from "../../../server/auth/user-store.js";

describe("flux-restful-server users", () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "flux-users-cli-"));
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  async function run(argv: string[], stdinText = "") {
    let stdout = "";
    let stderr = "";
    const stdin = Readable.from([stdinText]) as Readable & { isTTY?: boolean };
    const code = await runUsersCli({
      argv,
      env: { FLUX_RESTFUL_DATA_DIR: dataDir },
      stdin,
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: (t: string) => (stderr += t) },
    });
    return { code, stdout, stderr };
  }

  const verify = async (name: string, password: string) => {
    const store = createUserStore({ file: path.join(dataDir, "users.db") });
    try {
      return await store.verify(name, password);
    } finally {
      store.close();
    }
  };

  it("adds a user with the password from stdin, and lists it", async () => {
    expect(await run(["add", "alice", "--password-stdin"], "alice pw\nignored\n")).toMatchObject({ code: 0, stdout: 'user "alice" added\n' });
    expect(await run(["add", "--superuser", "boss", "--password-stdin"], "boss-pw")).toMatchObject({ code: 0 });
    const { code, stdout } = await run(["list"]);
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+ACTIVE\s+SUPERUSER\s+CREATED$/);
    expect(lines[1]).toMatch(/^alice\s+yes\s+no\s+\d{4}-\d\d-\d\dT/);
    expect(lines[2]).toMatch(/^boss\s+yes\s+yes\s+/);
    expect((await verify("alice", "alice pw"))?.superuser).toBe(false);
    expect((await verify("boss", "boss-pw"))?.superuser).toBe(true);
  });

  it("changes a password, deactivates, activates and removes", async () => {
    await run(["add", "alice", "--password-stdin"], "old\n");
    expect(await run(["passwd", "alice", "--password-stdin"], "new\n")).toMatchObject({ code: 0 });
    expect(await verify("alice", "old")).toBeUndefined();
    expect((await verify("alice", "new"))?.active).toBe(true);
    expect(await run(["deactivate", "alice"])).toMatchObject({ code: 0, stdout: 'user "alice" deactivated\n' });
    expect((await verify("alice", "new"))?.active).toBe(false);
    expect(await run(["activate", "alice"])).toMatchObject({ code: 0 });
    expect((await verify("alice", "new"))?.active).toBe(true);
    expect(await run(["remove", "alice"])).toMatchObject({ code: 0 });
    expect(await verify("alice", "new")).toBeUndefined();
  });

  it("takes the data dir from --data-dir too", async () => {
    const other = path.join(dataDir, "elsewhere");
    expect((await run(["add", "carol", "--data-dir", other, "--password-stdin"], "pw\n")).code).toBe(0);
    expect(fs.existsSync(path.join(other, "users.db"))).toBe(true);
    expect((await run(["list", `--data-dir=${other}`])).stdout).toContain("carol");
    expect((await run(["list"])).stdout).not.toContain("carol");
  });

  it("refuses with exit 1 and a message: duplicates, unknown users, bad names, empty passwords", async () => {
    await run(["add", "alice", "--password-stdin"], "pw\n");
    expect(await run(["add", "alice", "--password-stdin"], "pw\n")).toMatchObject({ code: 1, stderr: 'flux-restful-server: user "alice" already exists\n' });
    expect(await run(["remove", "bob"])).toMatchObject({ code: 1, stderr: 'flux-restful-server: user "bob" not found\n' });
    expect(await run(["passwd", "bob", "--password-stdin"], "x\n")).toMatchObject({ code: 1 });
    expect((await run(["add", "bad name", "--password-stdin"], "pw\n")).stderr).toMatch(/user name "bad name" is not valid/);
    expect((await run(["add", "dave", "--password-stdin"], "\n")).stderr).toMatch(/password must not be empty/);
  });

  it("never takes a password from a non-terminal stdin without --password-stdin", async () => {
    const result = await run(["add", "erin"], "pw\n");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/use --password-stdin/);
    expect(await verify("erin", "pw")).toBeUndefined();
  });

  it("answers usage errors with exit 2", async () => {
    expect((await run([])).code).toBe(2);
    expect((await run(["frobnicate"])).stderr).toMatch(/unknown users command "frobnicate"/);
    expect((await run(["add"])).code).toBe(2);
    expect((await run(["list", "extra"])).code).toBe(2);
    expect((await run(["remove", "alice", "--superuser"])).stderr).toMatch(/--superuser does not apply/);
    expect((await run(["list", "--bogus", "1"])).stderr).toMatch(/unknown option "--bogus"/);
    expect((await run(["help"])).code).toBe(0);
  });
});
