/**
 * The stand-in's state lock: a holder that died does not wedge later commands, and a live one
 * that is merely slow keeps its lock however long it takes.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, expect, it } from "vitest";
// @ts-expect-error: plain JS module of the stand-in, without type declarations
import { withLock } from "./lib/util.mjs";

const UTIL = pathToFileURL(path.resolve("test/support/fake-flux/lib/util.mjs")).href;
let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-flux-lock-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function holdLockAs(pid: number): void {
  fs.mkdirSync(path.join(dir, "lock"));
  fs.writeFileSync(path.join(dir, "lock", "pid"), String(pid));
}

it("breaks the lock of a holder that is gone", () => {
  const gone = spawnSync("true").pid!;
  holdLockAs(gone);
  expect((withLock as (d: string, fn: () => number) => number)(dir, () => 42)).toBe(42);
  expect(fs.existsSync(path.join(dir, "lock"))).toBe(false);
});

it("waits for a live holder, past the point where a dead one's lock is broken", async () => {
  holdLockAs(process.pid);
  const waiter = spawn(process.execPath, ["--input-type=module", "-e", `const m = await import(${JSON.stringify(UTIL)}); m.withLock(${JSON.stringify(dir)}, () => console.log("got it"));`]);
  let out = "";
  waiter.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise((r) => waiter.once("exit", r));
  // Up to 2,500 tries of 1 ms: a dead holder is looked for every 1,000 (twice by now on an idle machine).
  await new Promise((r) => setTimeout(r, 2500));
  expect(out).toBe("");
  fs.rmSync(path.join(dir, "lock"), { recursive: true, force: true });
  await exited;
  expect(out).toBe("got it\n");
});
