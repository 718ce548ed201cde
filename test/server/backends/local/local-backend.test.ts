/**
 * What only the local backend does: cores as the resource, output bounds, the job's
 * environment, capacity checks at submit, and shutdown.
 */
import fs from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { JobResultBit, JobStateBit } from "../../../../server/backends/backend.js";
import { isBackendUnavailableError, isInvalidJobRequestError } from "../../../../server/backends/backend-errors.js";
import { followToEnd, jobRequest, readAllOutput, thrown, waitForEvent, waitInactive } from "../../../support/backend-contract-helpers.js";
import { startTestBackend, type TestBackend } from "./local-test-backend.js";

const owner = { name: "alice" };
const started: TestBackend[] = [];

async function start(options: Parameters<typeof startTestBackend>[0] = {}): Promise<TestBackend> {
  const b = await startTestBackend(options);
  started.push(b);
  return b;
}

afterEach(async () => {
  for (const b of started.splice(0)) await b.cleanup();
});

const isAlive = (pid: number): boolean => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
    return !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
};

describe("local backend scheduling", () => {
  it("runs two 1-core jobs on 2 cores and keeps the other two in SCHED until cores free up", async () => {
    const { backend } = await start({ cores: 2 });
    const ids: bigint[] = [];
    for (let i = 0; i < 4; i++) ids.push(await backend.submit(jobRequest(["sleep", "30"]), owner));
    await waitForEvent(backend, ids[0]!, "start");
    await waitForEvent(backend, ids[1]!, "start");
    await new Promise((r) => setTimeout(r, 100));
    const states = await Promise.all(ids.map(async (id) => (await backend.get(id)).state));
    expect(states).toEqual([JobStateBit.RUN, JobStateBit.RUN, JobStateBit.SCHED, JobStateBit.SCHED]);
    expect((await backend.nodes())[0]).toMatchObject({ cores: 2, coresAllocated: 2 });

    // A more urgent job goes ahead of those already waiting.
    const urgent = await backend.submit(jobRequest(["sleep", "30"], { urgency: 20 }), owner);
    await backend.cancel(ids[0]!, "");
    await waitForEvent(backend, urgent, "start");
    expect((await backend.get(ids[2]!)).state).toBe(JobStateBit.SCHED);
    await backend.cancel(ids[1]!, "");
    await waitForEvent(backend, ids[2]!, "start");
    expect((await backend.get(ids[3]!)).state).toBe(JobStateBit.SCHED);
    const alloc = (await waitForEvent(backend, urgent, "alloc")).at(-1)!;
    expect(alloc.context).toEqual({ annotations: { sched: { resource_summary: "rank0/core0" } } });
  });

  it("gives an exclusive job the whole node and a 2x2 job four cores", async () => {
    const { backend } = await start({ cores: 4 });
    const exclusive = await backend.submit(jobRequest(["true"], { exclusive: true, numNodes: 1 }), owner);
    const wide = await backend.submit(jobRequest(["true"], { numTasks: 2, coresPerTask: 2 }), owner);
    expect((await waitInactive(backend, exclusive)).job).toMatchObject({ ncores: 4, nnodes: 1, ranks: "0" });
    const { job, events } = await waitInactive(backend, wide);
    expect(job).toMatchObject({ ncores: 4, ntasks: 2, result: JobResultBit.COMPLETED });
    expect(events.find((e) => e.name === "alloc")!.context).toEqual({ annotations: { sched: { resource_summary: "rank0/core[0-3]" } } });
  });

  it("refuses at submit what this node can never run, naming the field", async () => {
    const { backend } = await start({ cores: 2, gpus: 1 });
    const cases = [
      [{ coresPerTask: 3 }, "cores_per_task"],
      [{ numTasks: 3 }, "num_tasks"],
      [{ gpusPerTask: 2 }, "gpus_per_task"],
      [{ numTasks: 2, gpusPerTask: 1 }, "num_tasks"],
      [{ numNodes: 2, numTasks: 2 }, "num_nodes"],
    ] as const;
    for (const [overrides, field] of cases) {
      const e = await thrown(() => backend.submit(jobRequest(["true"], overrides), owner));
      expect(isInvalidJobRequestError(e)).toBe(true);
      expect(e.field).toBe(field);
      expect(e.message).toMatch(/^unsatisfiable request: /);
    }
    const list = await backend.list({ orderBy: { column: "t_submit", descending: true }, pageSize: 10, pageToken: "" });
    expect(list.totalSize).toBe(0);
  });
});

describe("local backend processes", () => {
  it("signals the task's whole process group on cancel", async () => {
    const { backend } = await start();
    const id = await backend.submit(jobRequest(["sh", "-c", "sleep 30 & echo $!; wait"]), owner);
    const iterator = backend.followOutput(id, 0, new AbortController().signal)[Symbol.asyncIterator]();
    const first = await iterator.next();
    await iterator.return?.();
    const child = Number(Buffer.from((first.value as { chunk: { data: Uint8Array } }).chunk.data).toString());
    expect(isAlive(child)).toBe(true);
    await backend.cancel(id, "");
    expect((await waitInactive(backend, id)).job.result).toBe(JobResultBit.CANCELED);
    await expect.poll(() => isAlive(child), { timeout: 2000 }).toBe(false);
  });

  it("ends a job when its task exits, killing what it left running in the background", async () => {
    const { backend } = await start();
    const t0 = Date.now();
    const id = await backend.submit(jobRequest(["sh", "-c", "sleep 30 & echo $!"]), owner);
    const out = await followToEnd(backend, id);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(out.end?.exitCode).toBe(0);
    await expect.poll(() => isAlive(Number(out.text())), { timeout: 2000 }).toBe(false);
  });
});

describe("local backend output", () => {
  it("keeps the first maxOutputBytesPerJob bytes exactly and marks the rest truncated", async () => {
    const { backend } = await start({ maxOutputBytesPerJob: 1000 });
    const id = await backend.submit(jobRequest(["sh", "-c", "head -c 5000 /dev/zero | tr '\\0' x; echo tail >&2"]), owner);
    const out = await followToEnd(backend, id);
    expect(out.bytes()).toEqual(Buffer.alloc(1000, "x"));
    expect(out.end).toEqual({ exitCode: 0, truncated: true });
    const { job } = await waitInactive(backend, id);
    expect(job).toMatchObject({ outputTruncated: true, result: JobResultBit.COMPLETED });
    const page = await readAllOutput(backend, id);
    expect(page).toMatchObject({ truncated: true, complete: true });
    expect(page.bytes().length).toBe(1000);
  });

  it("drains output past the limit so a chatty job still runs to its end", async () => {
    const { backend } = await start({ maxOutputBytesPerJob: 4096 });
    const id = await backend.submit(jobRequest(["sh", "-c", "head -c 50000000 /dev/zero; echo finished"]), owner);
    const out = await followToEnd(backend, id);
    expect(out.bytes().length).toBe(4096);
    expect(out.end).toEqual({ exitCode: 0, truncated: true });
    expect((await waitInactive(backend, id)).job.result).toBe(JobResultBit.COMPLETED);
  });

  it("reads back a 100,000-line job in order, live and in pages", async () => {
    const { backend } = await start();
    const id = await backend.submit(jobRequest(["seq", "1", "100000"]), owner);
    const expected = `${Array.from({ length: 100_000 }, (_, i) => i + 1).join("\n")}\n`;
    const live = await followToEnd(backend, id);
    expect(live.text()).toBe(expected);
    const paged = await readAllOutput(backend, id, 7);
    expect(paged.text()).toBe(expected);
    expect(paged.chunks.map((c) => c.offset)).toEqual(live.chunks.map((c) => c.offset));
  });

  it("keeps bytes that are not UTF-8 exactly", async () => {
    const { backend } = await start();
    const id = await backend.submit(jobRequest(["printf", "\\377\\376\\000\\303"]), owner);
    expect((await followToEnd(backend, id)).bytes()).toEqual(Buffer.from([0xff, 0xfe, 0x00, 0xc3]));
  });
});

describe("local backend environment", () => {
  it("builds the environment from the allowlist, the owner's login, the job and Flux's variables", async () => {
    process.env.LOCAL_BACKEND_TEST_SECRET = "must-not-leak";
    try {
      const { backend } = await start({ baseEnvironment: { PATH: process.env.PATH!, TZ: "UTC", SHARED: "base" } });
      const loginOwner = { name: "bob", loginEnv: { HOME: "/home/bob", USER: "bob", SHARED: "login" } };
      const id = await backend.submit(jobRequest(["env"], { environment: { JOBVAR: "1", TZ: "Europe/Paris" }, numTasks: 2 }), loginOwner);
      const out = await followToEnd(backend, id);
      for (const rank of [0, 1]) {
        const env = Object.fromEntries(out.text(rank, "stdout").trimEnd().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
        expect(env).toMatchObject({ TZ: "Europe/Paris", SHARED: "login", HOME: "/home/bob", USER: "bob", JOBVAR: "1" });
        expect(env).toMatchObject({ FLUX_TASK_RANK: String(rank), FLUX_TASK_LOCAL_ID: String(rank), FLUX_JOB_SIZE: "2" });
        expect(Object.keys(env)).not.toContain("LOCAL_BACKEND_TEST_SECRET");
        expect(Object.keys(env).sort()).toEqual(
          ["PATH", "TZ", "SHARED", "HOME", "USER", "JOBVAR", "FLUX_JOB_ID", "FLUX_JOB_SIZE", "FLUX_JOB_NNODES", "FLUX_TASK_RANK", "FLUX_TASK_LOCAL_ID"].sort(),
        );
      }
    } finally {
      delete process.env.LOCAL_BACKEND_TEST_SECRET;
    }
  });

  it("fails a job whose working directory does not exist, like a missing command", async () => {
    const { backend } = await start();
    const id = await backend.submit(jobRequest(["true"], { cwd: "/no/such/dir" }), owner);
    const out = await followToEnd(backend, id);
    expect(out.text(0, "stderr")).toMatch(/start failed: chdir \/no\/such\/dir: No such file or directory/);
    const { job } = await waitInactive(backend, id);
    expect(job).toMatchObject({ result: JobResultBit.FAILED, returncode: 127 });
    expect(job.exception).toMatchObject({ type: "exec", severity: 0 });
  });

  it("fails a job whose working directory is a file with 127, saying so", async () => {
    const { backend, dataDir } = await start();
    const file = `${dataDir}/not-a-dir`;
    fs.writeFileSync(file, "");
    const id = await backend.submit(jobRequest(["true"], { cwd: file }), owner);
    const out = await followToEnd(backend, id);
    expect(out.text(0, "stderr")).toContain(`start failed: chdir ${file}: Not a directory`);
    expect((await waitInactive(backend, id)).job).toMatchObject({ result: JobResultBit.FAILED, returncode: 127 });
  });

  it("fails a job whose command is not executable with 126 and Permission denied", async () => {
    const { backend, dataDir } = await start();
    const script = `${dataDir}/not-executable.sh`;
    fs.writeFileSync(script, "#!/bin/sh\necho ran\n", { mode: 0o644 });
    const id = await backend.submit(jobRequest([script]), owner);
    const out = await followToEnd(backend, id);
    expect(out.text(0, "stderr")).toContain(`start failed: ${script}: Permission denied`);
    expect(out.text(0, "stdout")).toBe("");
    expect((await waitInactive(backend, id)).job).toMatchObject({ result: JobResultBit.FAILED, returncode: 126 });
  });
});

describe("local backend shutdown", () => {
  it("kills running tasks on close, ends followers, refuses work after, and closes twice", async () => {
    const b = await start({ killGraceMs: 300 });
    const { backend } = b;
    // The task ignores SIGTERM, so only the SIGKILL after the grace ends it.
    const id = await backend.submit(jobRequest(["sh", "-c", "trap '' TERM; echo $$; while :; do sleep 0.05; done"]), owner);
    const iterator = backend.followOutput(id, 0, new AbortController().signal)[Symbol.asyncIterator]();
    const first = await iterator.next();
    await iterator.return?.();
    const pid = Number(Buffer.from((first.value as { chunk: { data: Uint8Array } }).chunk.data).toString());
    expect(isAlive(pid)).toBe(true);
    const following = followToEnd(backend, id);
    const events = waitForEvent(backend, id, "clean").catch((e: Error) => e);

    const closedAt = Date.now();
    await Promise.all([backend.close(), backend.close()]);
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(250);
    expect(isAlive(pid)).toBe(false);
    expect((await following).end?.exitCode).toBe(137);
    expect(await events).toEqual(expect.arrayContaining([expect.objectContaining({ name: "clean" })]));
    expect(b.followerCount()).toBe(0);
    expect(await backend.ready()).toMatchObject({ ready: false });
    expect(isBackendUnavailableError(await thrown(() => backend.submit(jobRequest(["true"]), owner)))).toBe(true);
  });
});
