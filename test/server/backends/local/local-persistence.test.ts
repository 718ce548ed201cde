/**
 * The local backend keeps everything in its SQLite file: a clean restart loses nothing, a
 * server killed with SIGKILL leaves no job active (nor its processes) after the next start,
 * and ids keep increasing across restarts.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import { JobResultBit, JobStateBit } from "../../../../server/backends/backend.js";
import { RESTART_EXCEPTION } from "../../../../server/backends/local/index.js";
import { followToEnd, jobRequest, readAllOutput, waitForEvent, waitInactive } from "../../../support/backend-contract-helpers.js";
import { makeTempDir, startTestBackend, type TestBackend } from "./local-test-backend.js";

const owner = { name: "alice" };
const dirs: string[] = [];
const open: TestBackend[] = [];
// Processes to kill should a test fail before the backend does.
const leftovers: (() => void)[] = [];

async function start(dataDir: string): Promise<TestBackend> {
  const b = await startTestBackend({ dataDir });
  open.push(b);
  return b;
}

afterEach(async () => {
  for (const kill of leftovers.splice(0)) {
    try {
      kill();
    } catch {
      // already gone
    }
  }
  for (const b of open.splice(0)) await b.cleanup();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function newDir(): string {
  const d = makeTempDir();
  dirs.push(d);
  return d;
}

/** Dead = gone, or a zombie waiting for whatever adopted it. */
function isDead(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

describe("local backend persistence", () => {
  it("keeps records, eventlogs and output across close and start", async () => {
    const dataDir = newDir();
    const first = await start(dataDir);
    const ok = await first.backend.submit(jobRequest(["printf", "\\377\\000bytes 🥞"]), owner);
    const failed = await first.backend.submit(jobRequest(["sh", "-c", "echo oops >&2; exit 3"]), owner);
    const before = [await waitInactive(first.backend, ok), await waitInactive(first.backend, failed)];
    await first.backend.close();
    expect(fs.existsSync(path.join(dataDir, "jobs.sqlite"))).toBe(true);

    const second = await start(dataDir);
    for (const [i, id] of [ok, failed].entries()) {
      expect(await second.backend.get(id)).toEqual(before[i]!.job);
      expect((await waitInactive(second.backend, id)).events).toEqual(before[i]!.events);
    }
    const out = await readAllOutput(second.backend, ok);
    expect(out.bytes()).toEqual(Buffer.concat([Buffer.from([0xff, 0x00]), Buffer.from("bytes 🥞")]));
    expect(out.complete).toBe(true);
    expect((await followToEnd(second.backend, failed)).end).toEqual({ exitCode: 3, truncated: false });
    const list = await second.backend.list({ orderBy: { column: "t_submit", descending: true }, pageSize: 10, pageToken: "" });
    expect(list.jobs.map((j) => j.id)).toEqual([failed, ok]);

    const later = await second.backend.submit(jobRequest(["true"]), owner);
    expect(later).toBeGreaterThan(failed);
  });

  it("cancels active jobs on close, and the records say so after the next start", async () => {
    const dataDir = newDir();
    const first = await start(dataDir);
    const running = await first.backend.submit(jobRequest(["sleep", "30"]), owner);
    const held = await first.backend.submit(jobRequest(["true"], { urgency: 0 }), owner);
    await waitForEvent(first.backend, running, "start");
    await first.backend.close();

    const second = await start(dataDir);
    const r = await second.backend.get(running);
    expect(r).toMatchObject({ state: JobStateBit.INACTIVE, result: JobResultBit.CANCELED });
    expect(r.exception).toMatchObject({ type: "cancel", note: "server shut down" });
    expect(await second.backend.get(held)).toMatchObject({ result: JobResultBit.CANCELED, returncode: -128 });
  });

  it("finishes jobs left active by a server killed with SIGKILL, and kills their processes", async () => {
    const dataDir = newDir();
    const fixture = path.join(import.meta.dirname, "fixtures", "run-backend.ts");
    const child = spawn(process.execPath, ["--import", "tsx", fixture, dataDir], { stdio: ["ignore", "pipe", "inherit"] });
    leftovers.push(() => child.kill("SIGKILL"));
    const line = await new Promise<string>((resolve, reject) => {
      readline.createInterface({ input: child.stdout! }).once("line", resolve);
      child.once("exit", (code) => reject(new Error(`backend process exited with ${code}`)));
    });
    const started = JSON.parse(line) as { running: string; held: string; pid: number };
    leftovers.push(() => process.kill(-started.pid, "SIGKILL"));
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    expect(isDead(started.pid)).toBe(false); // the task outlived its server

    const second = await start(dataDir);
    const deadline = Date.now() + 15_000;
    while (!isDead(started.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(isDead(started.pid)).toBe(true);
    expect(second.logs.some((l) => l.msg === "finished jobs left active by the previous server")).toBe(true);

    const running = await waitInactive(second.backend, BigInt(started.running));
    expect(running.job).toMatchObject({ state: JobStateBit.INACTIVE, result: JobResultBit.FAILED });
    expect(running.job.exception).toEqual({ occurred: true, severity: 0, ...RESTART_EXCEPTION });
    expect(running.events.map((e) => e.name).slice(4)).toEqual(["alloc", "start", "exception", "release", "free", "clean"]);
    const out = await followToEnd(second.backend, BigInt(started.running));
    expect(out.text(0, "stdout")).toBe(`${started.pid}\n`);
    expect(out.end).toEqual({ exitCode: 1, truncated: false });

    const held = await waitInactive(second.backend, BigInt(started.held));
    expect(held.job).toMatchObject({ result: JobResultBit.FAILED, t_run: 0 });
    expect(held.events.map((e) => e.name)).toEqual(["submit", "validate", "depend", "priority", "exception", "clean"]);

    const next = await second.backend.submit(jobRequest(["true"]), owner);
    expect(next).toBeGreaterThan(BigInt(started.held));
  });

  it("keeps ids above 2^53 exact and increasing across restarts", async () => {
    const dataDir = newDir();
    const weekAgo = Date.now() - 7 * 86_400_000;
    const first = await start(dataDir);
    await first.backend.close();
    // the epoch is fixed at the first start; later starts read it back
    fs.rmSync(dataDir, { recursive: true });
    const a = await startTestBackend({ dataDir, idEpochMs: weekAgo });
    open.push(a);
    const ids = [await a.backend.submit(jobRequest(["true"]), owner), await a.backend.submit(jobRequest(["true"]), owner)];
    expect(ids[0]!).toBeGreaterThan(2n ** 53n);
    expect(ids[1]!).toBeGreaterThan(ids[0]!);
    await waitInactive(a.backend, ids[1]!);
    await a.backend.close();

    const b = await start(dataDir);
    const third = await b.backend.submit(jobRequest(["true"]), owner);
    expect(third).toBeGreaterThan(ids[1]!);
    expect(third).toBeGreaterThan(2n ** 53n);
    expect((await b.backend.get(ids[0]!)).id).toBe(ids[0]);
    const listed = await b.backend.list({ orderBy: { column: "id", descending: false }, pageSize: 1, pageToken: "" });
    expect(listed.jobs[0]!.id).toBe(ids[0]);
    const page2 = await b.backend.list({ orderBy: { column: "id", descending: false }, pageSize: 1, pageToken: listed.nextPageToken });
    expect(page2.jobs[0]!.id).toBe(ids[1]);
  });
});
