/**
 * The users command on a terminal: the password is prompted for twice, without echo.
 * Runs runUsersCli in a child process attached to a real pty.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pty from "node-pty";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createUserStore } from "../../../server/auth/user-store.js";

const ENTRY = `
import { runUsersCli } from ${JSON.stringify(path.resolve("server/auth/users-cli.ts"))};
const { stdin, stdout, stderr } = process;
process.exitCode = await runUsersCli({ argv: process.argv.slice(1), env: process.env, stdin, stdout, stderr });
`;

function runInPty(args: string[], dataDir: string, answers: string[]): Promise<{ code: number; screen: string }> {
  return new Promise((resolve) => {
    const term = pty.spawn(process.execPath, ["--import", "tsx", "--input-type=module", "--eval", ENTRY, ...args], {
      cwd: process.cwd(),
      env: { PATH: process.env.PATH!, FLUX_RESTFUL_DATA_DIR: dataDir },
      cols: 100,
      rows: 10,
    });
    let screen = "";
    const pending = [...answers];
    term.onData((data) => {
      screen += data;
      // Answer each prompt once it shows.
      if (pending.length > 0 && /(password|again): $/.test(screen.trimStart().split("\n").at(-1) ?? "")) term.write(pending.shift()! + "\r");
    });
    term.onExit(({ exitCode }) => resolve({ code: exitCode, screen }));
  });
}

describe("users command on a terminal", () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "flux-users-pty-"));
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it("prompts twice without echoing the password, and stores it", async () => {
    const { code, screen } = await runInPty(["add", "alice"], dataDir, ["typed-secret-1", "typed-secret-1"]);
    expect(screen).toContain("password: ");
    expect(screen).toContain("again: ");
    expect(screen).toContain('user "alice" added');
    expect(screen).not.toContain("typed-secret-1");
    expect(code).toBe(0);
    const store = createUserStore({ file: path.join(dataDir, "users.db") });
    try {
      expect((await store.verify("alice", "typed-secret-1"))?.name).toBe("alice");
    } finally {
      store.close();
    }
  });

  it("refuses when the two passwords differ", async () => {
    const { code, screen } = await runInPty(["add", "bob"], dataDir, ["one-password", "another-one"]);
    expect(code).toBe(1);
    expect(screen).toContain("the passwords do not match");
    expect(screen).not.toContain("added");
    const store = createUserStore({ file: path.join(dataDir, "users.db") });
    try {
      expect(store.get("bob")).toBeUndefined();
    } finally {
      store.close();
    }
  });
});
