/**
 * Multi-user mode: a job whose owner has a uid runs as that account. With setpriv(1) the job
 * keeps the owner's supplementary groups; without it (Node's spawn uid/gid) it has only its gid.
 * Needs root; skipped otherwise.
 */
import fs from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { followToEnd, jobRequest, waitInactive } from "../../../support/backend-contract-helpers.js";
import { startTestBackend, type TestBackend } from "./local-test-backend.js";

const isRoot = process.getuid?.() === 0;
const hasSetpriv = fs.existsSync("/usr/bin/setpriv") || fs.existsSync("/bin/setpriv");
const NOBODY = { name: "nobody", uid: 65534, gid: 65534, groups: [65534, 100], loginEnv: { HOME: "/nonexistent", USER: "nobody" } };
const started: TestBackend[] = [];

afterEach(async () => {
  for (const b of started.splice(0)) await b.cleanup();
});

async function whoami(b: TestBackend, owner: typeof NOBODY | { name: string; uid: number; gid: number }) {
  const id = await b.backend.submit(jobRequest(["sh", "-c", 'id -u; id -g; id -G; echo "$USER"'], { cwd: "/" }), owner);
  const out = await followToEnd(b.backend, id);
  const { job } = await waitInactive(b.backend, id);
  return { lines: out.text(0, "stdout").trimEnd().split("\n"), job };
}

describe.skipIf(!isRoot)("local backend multi-user mode", () => {
  it.skipIf(!hasSetpriv)("runs the job as the owner's uid and gid with supplementary groups (setpriv)", async () => {
    const b = await startTestBackend();
    started.push(b);
    const { lines, job } = await whoami(b, NOBODY);
    expect(lines.slice(0, 2)).toEqual(["65534", "65534"]);
    expect(lines[2]!.split(" ").map(Number).sort()).toEqual([100, 65534]);
    expect(lines[3]).toBe("nobody");
    expect(job).toMatchObject({ userid: 65534, owner: "nobody", returncode: 0 });
  });

  it("without setpriv runs as the owner's uid and gid only", async () => {
    const b = await startTestBackend({ setprivPath: null });
    started.push(b);
    const { lines } = await whoami(b, NOBODY);
    expect(lines.slice(0, 3)).toEqual(["65534", "65534", "65534"]);
  });

  it.skipIf(!hasSetpriv)("fails a missing command run as the owner with 127", async () => {
    const b = await startTestBackend();
    started.push(b);
    const id = await b.backend.submit(jobRequest(["no-such-command-here"], { cwd: "/" }), NOBODY);
    const out = await followToEnd(b.backend, id);
    expect(out.end?.exitCode).toBe(127);
    expect(out.text(0, "stderr")).toContain("no-such-command-here");
    expect((await waitInactive(b.backend, id)).job.returncode).toBe(127);
  });
});
