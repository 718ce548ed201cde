/**
 * flux-restful-server's auth behaviour at startup and shutdown, as a real process:
 * refusals, the startup line (mode and which secrets are set, never values), the users
 * subcommand, and StopService taking the same path as SIGTERM.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AdminService } from "../../../gen/flux/restful/v1/admin_service_pb.js";

const BIN = path.resolve("bin/flux-restful-server.js");
const SECRET_KEY = "startup-secret-key-0123456789abcdefghij";

interface Running {
  stderr: string;
  stdout: string;
  exit: Promise<number | null>;
  /** Resolves with the parsed log line whose msg matches. */
  waitFor(msg: string): Promise<Record<string, unknown>>;
  kill(): void;
}

function start(args: string[], env: Record<string, string>, stdin = ""): Running {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH!, LANG: "C.UTF-8", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  child.stdin.end(stdin);
  const running: Running = {
    stderr: "",
    stdout: "",
    exit: new Promise((resolve) => child.on("exit", (code) => resolve(code))),
    waitFor: (msg) =>
      new Promise((resolve, reject) => {
        const check = () => {
          // Whole lines only: a pipe read can end in the middle of one.
          const complete = running.stderr.slice(0, running.stderr.lastIndexOf("\n") + 1);
          for (const line of complete.split("\n")) {
            if (!line.startsWith("{")) continue;
            const parsed = JSON.parse(line) as Record<string, unknown>;
            if (parsed.msg === msg) return resolve(parsed);
          }
        };
        child.stderr.on("data", check);
        void running.exit.then(() => reject(new Error(`exited before "${msg}": ${running.stderr}`)));
        check();
      }),
    kill: () => child.kill("SIGKILL"),
  };
  child.stdout.on("data", (d: Buffer) => (running.stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (running.stderr += d.toString()));
  return running;
}

describe("flux-restful-server startup with auth", () => {
  let dataDir: string;
  let running: Running | undefined;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "flux-startup-"));
  });
  afterEach(() => {
    running?.kill();
    running = undefined;
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const base = () => ({ FLUX_RESTFUL_DATA_DIR: dataDir, FLUX_RESTFUL_BACKEND: "local", PORT: "0", FLUX_RESTFUL_SHUTDOWN_GRACE_MS: "500" });

  it("refuses to start with auth on and no FLUX_SECRET_KEY, or with a non-boolean FLUX_REQUIRE_AUTH", async () => {
    running = start([], { ...base(), FLUX_REQUIRE_AUTH: "true" });
    expect(await running.exit).toBe(2);
    expect(running.stderr).toContain("flux-restful-server: FLUX_REQUIRE_AUTH is on but FLUX_SECRET_KEY is not set");
    running = start([], { ...base(), FLUX_REQUIRE_AUTH: "false-ish" });
    expect(await running.exit).toBe(2);
    expect(running.stderr).toContain('FLUX_REQUIRE_AUTH must be one of true, false, 1, 0, yes, no (got "false-ish")');
  });

  it("says the mode and which secrets are set, never their values; StopService shuts it down like SIGTERM", async () => {
    running = start([], {
      ...base(),
      FLUX_REQUIRE_AUTH: "yes",
      FLUX_SECRET_KEY: SECRET_KEY,
      FLUX_USER: "boss",
      FLUX_TOKEN: "boss-token-value",
      FLUX_SERVER_MODE: "single-user",
    });
    const listening = await running.waitFor("listening");
    expect(listening).toMatchObject({
      serverMode: "single-user",
      requireAuth: true,
      secrets: { FLUX_SECRET_KEY: "set", FLUX_TOKEN: "set", FLUX_RESTFUL_TOKEN_KEY: "unset" },
    });
    const transport = createConnectTransport({ baseUrl: String(listening.url), httpVersion: "1.1" });
    const admin = createClient(AdminService, transport);
    await expect(admin.stopService({})).rejects.toThrow(/missing credentials/);
    const basic = `Basic ${Buffer.from("boss:boss-token-value").toString("base64")}`;
    await admin.stopService({}, { headers: { authorization: basic } });
    expect(await running.exit).toBe(0);
    const lines = running.stderr.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.some((l) => l.msg === "shutting down" && l.signal === "StopService")).toBe(true);
    expect(lines.at(-1)?.msg).toBe("stopped");
    expect(running.stderr).not.toContain(SECRET_KEY);
    expect(running.stderr).not.toContain("boss-token-value");
    expect(fs.statSync(path.join(dataDir, "token.key")).mode & 0o777).toBe(0o600);
  });

  it("warns about a short secret key and about multi-user mode without root or auth", async () => {
    running = start([], { ...base(), FLUX_SECRET_KEY: "short", FLUX_SERVER_MODE: "multi-user" });
    await running.waitFor("listening");
    const warnings = running.stderr
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.level === "warn")
      .map((l) => l.msg);
    expect(warnings).toContain("FLUX_SECRET_KEY is shorter than 32 bytes; use a long random string");
    expect(warnings).toContain("multi-user mode with auth off: every request is anonymous, so jobs run as the server's user");
    expect(running.stderr).not.toContain('"short"');
  });

  it("dispatches the users subcommand", async () => {
    running = start(["users", "add", "carol", "--superuser", "--password-stdin", "--data-dir", dataDir], {}, "carol-pw\n");
    expect(await running.exit).toBe(0);
    expect(running.stdout).toBe('user "carol" added (superuser)\n');
    running = start(["users", "list"], { FLUX_RESTFUL_DATA_DIR: dataDir });
    expect(await running.exit).toBe(0);
    expect(running.stdout).toMatch(/^carol\s+yes\s+yes\s/m);
  });
});
