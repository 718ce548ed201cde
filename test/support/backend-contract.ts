/**
 * The behaviour every JobBackend must show, in Flux's terms (states, results, eventlogs, exit
 * codes as flux-core 0.88 gives them; see /work/shared/flux-reference). Each backend's tests run
 * it: describeBackendContract("local", async () => ({ backend, cleanup })).
 *
 * Where the local backend (no job shell) and Flux (a shell between the job and its tasks)
 * legitimately differ, both answers are accepted: a task killed by signal N has waitstatus N
 * and returncode -N locally, and the shell's 128+N exit status under Flux.
 */
import { getEventListeners } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { JobResultBit, JobStateBit, type JobBackend, type JobOwner } from "../../server/backends/backend.js";
import { isJobInactiveError, isJobNotFoundError } from "../../server/backends/backend-errors.js";
import { parseJobId } from "../../server/backends/jobid.js";
import { followToEnd, jobRequest, readAllOutput, thrown, waitForEvent, waitInactive } from "./backend-contract-helpers.js";

export interface ContractSubject {
  backend: JobBackend;
  cleanup(): Promise<void>;
  /** Optional debug hook: live followers inside the backend (0 when every stream ended). */
  followerCount?(): number;
}

const names = (events: { name: string }[]) => events.map((e) => e.name);
const killed = (signal: number) => ({ returncode: [-signal, 128 + signal], waitstatus: [signal, (128 + signal) << 8] });

export function describeBackendContract(name: string, makeBackend: () => Promise<ContractSubject>): void {
  describe(`JobBackend contract: ${name}`, () => {
    let subject: ContractSubject;
    let backend: JobBackend;
    const tag = `contract-${process.pid}-${Date.now().toString(36)}`;
    const owner: JobOwner = { name: `${tag}-owner` };

    beforeAll(async () => {
      subject = await makeBackend();
      backend = subject.backend;
    });
    afterAll(async () => {
      await subject?.cleanup();
    });

    it("is ready and has at least one node with cores", async () => {
      expect(await backend.ready()).toMatchObject({ ready: true });
      const nodes = await backend.nodes();
      expect(nodes.length).toBeGreaterThan(0);
      expect(nodes[0]).toMatchObject({ rank: 0, state: "up" });
      expect(nodes[0]!.cores).toBeGreaterThan(0);
    });

    it("runs echo pancakes 🥞 to COMPLETED with byte-exact output", async () => {
      const id = await backend.submit(jobRequest(["echo", "pancakes 🥞"]), owner);
      const out = await followToEnd(backend, id);
      expect(out.bytes()).toEqual(Buffer.from("pancakes 🥞\n", "utf8"));
      expect(out.chunks.every((c) => c.stream === "stdout" && c.rank === 0)).toBe(true);
      expect(out.end).toEqual({ exitCode: 0, truncated: false });

      const { job, events } = await waitInactive(backend, id);
      expect(job).toMatchObject({ id, name: "echo", owner: owner.name, state: JobStateBit.INACTIVE, result: JobResultBit.COMPLETED });
      expect(job).toMatchObject({ returncode: 0, waitstatus: 0, ntasks: 1, command: ["echo", "pancakes 🥞"] });
      expect(job.exception.occurred).toBe(false);
      expect(job.t_submit).toBeGreaterThan(0);
      expect(job.t_run).toBeGreaterThanOrEqual(job.t_sched);
      expect(job.t_inactive).toBeGreaterThanOrEqual(job.t_cleanup);
      expect(names(events)).toEqual(["submit", "validate", "depend", "priority", "alloc", "start", "finish", "release", "free", "clean"]);
      expect(events[0]!.context).toMatchObject({ urgency: 16, version: 1 });
      expect(events.find((e) => e.name === "finish")!.context).toEqual({ status: 0 });
      expect(events.find((e) => e.name === "release")!.context).toEqual({ ranks: "all", final: true });

      const page = await readAllOutput(backend, id);
      expect(page.bytes()).toEqual(Buffer.from("pancakes 🥞\n", "utf8"));
      expect(page.complete).toBe(true);
    });

    it("keeps stdout and stderr of each task apart, in order", async () => {
      const script = 'for i in 1 2 3; do echo "out $FLUX_TASK_RANK $i"; echo "err $FLUX_TASK_RANK $i" >&2; done';
      const id = await backend.submit(jobRequest(["sh", "-c", script], { numTasks: 2 }), owner);
      const out = await followToEnd(backend, id);
      for (const rank of [0, 1]) {
        expect(out.text(rank, "stdout")).toBe(`out ${rank} 1\nout ${rank} 2\nout ${rank} 3\n`);
        expect(out.text(rank, "stderr")).toBe(`err ${rank} 1\nerr ${rank} 2\nerr ${rank} 3\n`);
      }
      expect(out.chunks.map((c) => c.offset)).toEqual(out.chunks.map((_, i) => i));
      expect((await waitInactive(backend, id)).job).toMatchObject({ ntasks: 2, result: JobResultBit.COMPLETED });
    });

    it("gives the job its variables, its id and its working directory", async () => {
      const cwd = fs.realpathSync(os.tmpdir());
      const script = 'echo "$CONTRACT_VAR|$FLUX_JOB_ID|$FLUX_TASK_RANK|$FLUX_JOB_SIZE|$(pwd)"';
      const id = await backend.submit(jobRequest(["sh", "-c", script], { cwd, environment: { CONTRACT_VAR: "a b=c" } }), owner);
      const [variable, jobid, rank, size, dir] = (await followToEnd(backend, id)).text().trimEnd().split("|");
      expect(variable).toBe("a b=c");
      expect(parseJobId(jobid!)).toBe(id);
      expect([rank, size, dir]).toEqual(["0", "1", cwd]);
    });

    it("fails a job that exits 3 with returncode 3 and waitstatus 768", async () => {
      const id = await backend.submit(jobRequest(["sh", "-c", "echo about to fail >&2; exit 3"]), owner);
      const out = await followToEnd(backend, id);
      expect(out.end?.exitCode).toBe(3);
      expect(out.text(0, "stderr")).toBe("about to fail\n");
      const { job } = await waitInactive(backend, id);
      expect(job).toMatchObject({ result: JobResultBit.FAILED, returncode: 3, waitstatus: 768 });
      expect(job.exception.occurred).toBe(false);
    });

    it("fails a job killed by a signal", async () => {
      const id = await backend.submit(jobRequest(["sh", "-c", "kill -9 $$"]), owner);
      expect((await followToEnd(backend, id)).end?.exitCode).toBe(137);
      const { job } = await waitInactive(backend, id);
      expect(job.result).toBe(JobResultBit.FAILED);
      expect(killed(9).returncode).toContain(job.returncode);
      expect(killed(9).waitstatus).toContain(job.waitstatus);
    });

    it("fails a job whose command does not exist with 127 and says why on stderr", async () => {
      const id = await backend.submit(jobRequest(["/no/such/command"]), owner);
      const out = await followToEnd(backend, id);
      const { job } = await waitInactive(backend, id);
      expect(job).toMatchObject({ result: JobResultBit.FAILED, returncode: 127 });
      expect(out.end?.exitCode).toBe(127);
      expect((out.text(0, "stderr") + job.exception.note).toLowerCase()).toContain("no such file");
    });

    it("ends a job at its time limit with a timeout exception (TIMEOUT)", async () => {
      const id = await backend.submit(jobRequest(["sleep", "30"], { duration: 0.5 }), owner);
      expect((await followToEnd(backend, id)).end?.exitCode).toBe(142);
      const { job, events } = await waitInactive(backend, id);
      expect(job.result).toBe(JobResultBit.TIMEOUT);
      expect(job.exception).toMatchObject({ occurred: true, type: "timeout", severity: 0 });
      expect(killed(14).returncode).toContain(job.returncode);
      expect(names(events).slice(5)).toEqual(["start", "exception", "finish", "release", "free", "clean"]);
      expect(job.expiration).toBeGreaterThan(job.t_run);
    });

    it("cancels a running job: exception, SIGTERM, CANCELED", async () => {
      const id = await backend.submit(jobRequest(["sleep", "30"]), owner);
      await waitForEvent(backend, id, "start");
      await backend.cancel(id, "contract cancel");
      const { job, events } = await waitInactive(backend, id);
      expect(job.result).toBe(JobResultBit.CANCELED);
      expect(job.exception).toEqual({ occurred: true, type: "cancel", severity: 0, note: "contract cancel" });
      expect(killed(15).returncode).toContain(job.returncode);
      const exception = events.find((e) => e.name === "exception")!;
      expect(exception.context).toMatchObject({ type: "cancel", severity: 0, note: "contract cancel" });
      expect(names(events).slice(5)).toEqual(["start", "exception", "finish", "release", "free", "clean"]);
      expect((await followToEnd(backend, id)).end?.exitCode).toBe(143);
    });

    it("cancels a pending (held) job: CANCELED, returncode -128, never runs", async () => {
      const id = await backend.submit(jobRequest(["sh", "-c", "echo must not run"], { urgency: 0 }), owner);
      await waitForEvent(backend, id, "priority");
      expect(await backend.get(id)).toMatchObject({ state: JobStateBit.SCHED, priority: 0, urgency: 0 });
      await backend.cancel(id, "");
      const { job, events } = await waitInactive(backend, id);
      expect(job).toMatchObject({ state: JobStateBit.INACTIVE, result: JobResultBit.CANCELED, returncode: -128, t_run: 0 });
      expect(names(events)).toEqual(["submit", "validate", "depend", "priority", "exception", "clean"]);
      const out = await followToEnd(backend, id);
      expect(out.chunks).toEqual([]);
      expect(out.end?.exitCode).toBe(1);
    });

    it("refuses to cancel an inactive job and knows no unknown id", async () => {
      const id = await backend.submit(jobRequest(["true"]), owner);
      await waitInactive(backend, id);
      expect(isJobInactiveError(await thrown(() => backend.cancel(id, "")))).toBe(true);

      const unknown = (1n << 62n) + 12345n;
      for (const call of [
        () => backend.get(unknown),
        () => backend.cancel(unknown, ""),
        () => backend.output(unknown, 0, 10),
        () => backend.followOutput(unknown, 0, new AbortController().signal),
        () => backend.followEvents(unknown, new AbortController().signal),
      ]) {
        expect(isJobNotFoundError(await thrown(call))).toBe(true);
      }
    });

    it("follows output live, in order, from any offset, and ends", async () => {
      // After "first-done" the job waits for a gate file that the test creates once it has read
      // that line and the job's state: the line surely came while the job ran, however late a
      // busy machine (or real Flux's 0.5 s output batching) delivers it. A fixed pause raced
      // the follower plus a `flux` process for get(). The wait gives up after 15 s, never hangs.
      const gateDir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), "contract-gate-"));
      onTestFinished(() => fs.rmSync(gateDir, { recursive: true, force: true }));
      const gate = path.join(gateDir, "go");
      const script =
        'for i in $(seq 1 300); do echo line $i; done; echo first-done; n=0; while [ ! -e "$0" ] && [ $n -lt 300 ]; do sleep 0.05; n=$((n+1)); done; echo last';
      const id = await backend.submit(jobRequest(["sh", "-c", script, gate]), owner);
      const expected = `${Array.from({ length: 300 }, (_, i) => `line ${i + 1}\n`).join("")}first-done\nlast\n`;
      const seenWhileRunning: number[] = [];
      const chunks: Buffer[] = [];
      for await (const item of backend.followOutput(id, 0, AbortSignal.timeout(20_000))) {
        if (item.kind !== "chunk") {
          expect(item).toEqual({ kind: "end", exitCode: 0, truncated: false });
          continue;
        }
        chunks.push(Buffer.from(item.chunk.data));
        if (Buffer.concat(chunks).toString().includes("first-done") && seenWhileRunning.length === 0) {
          seenWhileRunning.push((await backend.get(id)).state);
          fs.writeFileSync(gate, "");
        }
      }
      expect(Buffer.concat(chunks).toString()).toBe(expected);
      expect(seenWhileRunning[0]).toBe(JobStateBit.RUN);

      const all = await followToEnd(backend, id);
      const from = Math.floor(all.chunks.length / 2);
      const rest = await followToEnd(backend, id, from);
      expect(rest.chunks.map((c) => c.offset)).toEqual(all.chunks.slice(from).map((c) => c.offset));
      expect(Buffer.concat(all.chunks.slice(from).map((c) => c.data))).toEqual(rest.bytes());
    });

    it("stops following promptly on abort and leaves no listener behind", async () => {
      const id = await backend.submit(jobRequest(["sh", "-c", "echo started; sleep 30"]), owner);
      const controller = new AbortController();
      const items: string[] = [];
      const outputDone = (async () => {
        for await (const item of backend.followOutput(id, 0, controller.signal)) items.push(item.kind);
      })();
      const eventsDone = (async () => {
        for await (const event of backend.followEvents(id, controller.signal)) items.push(event.name);
      })();
      await waitForEvent(backend, id, "start");
      await new Promise((r) => setTimeout(r, 100));
      const abortedAt = Date.now();
      controller.abort();
      await Promise.all([outputDone, eventsDone]);
      // Far below the job's 30 s and the helpers' 20 s: "promptly", with room for a loaded machine
      // (a subprocess backend ends a follower by stopping a child process).
      expect(Date.now() - abortedAt).toBeLessThan(5000);
      expect(items).toContain("start");
      expect(items).not.toContain("end");
      expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
      if (subject.followerCount) expect(subject.followerCount()).toBe(0);
      await backend.cancel(id, "");
      await waitInactive(backend, id);
    });

    it("lists with filters, newest first, in stable pages", async () => {
      const listTag = `${tag}-list`;
      const ids: bigint[] = [];
      for (let i = 0; i < 5; i++) ids.push(await backend.submit(jobRequest(["true"], { name: listTag }), owner));
      for (const id of ids) await waitInactive(backend, id);
      const orderBy = { column: "t_submit" as const, descending: true };

      const seen: bigint[] = [];
      let pageToken = "";
      for (let page = 0; page < 3; page++) {
        const result = await backend.list({ name: listTag, orderBy, pageSize: 2, pageToken });
        expect(result.totalSize).toBe(page === 0 ? 5 : 6);
        seen.push(...result.jobs.map((j) => j.id));
        pageToken = result.nextPageToken;
        // A job submitted between pages must not shift the pages that follow.
        if (page === 0) ids.push(await backend.submit(jobRequest(["true"], { name: listTag }), owner));
      }
      expect(pageToken).toBe("");
      expect(seen).toEqual(ids.slice(0, 5).reverse());
      await waitInactive(backend, ids[5]!);

      const count = async (q: Partial<Parameters<JobBackend["list"]>[0]>) =>
        (await backend.list({ name: listTag, orderBy, pageSize: 50, pageToken: "", ...q })).totalSize;
      expect(await count({})).toBe(6);
      expect(await count({ stateMask: JobStateBit.INACTIVE, resultMask: JobResultBit.COMPLETED })).toBe(6);
      expect(await count({ stateMask: JobStateBit.RUN | JobStateBit.SCHED })).toBe(0);
      expect(await count({ resultMask: JobResultBit.FAILED })).toBe(0);
      expect(await count({ owner: owner.name })).toBe(6);
      expect(await count({ owner: `${tag}-someone-else` })).toBe(0);
      expect(await count({ name: undefined, search: listTag.toUpperCase() })).toBe(6);
      const third = await backend.get(ids[2]!);
      expect(await count({ since: third.t_submit })).toBe(4);
      const oldestFirst = await backend.list({ name: listTag, orderBy: { column: "t_submit", descending: false }, pageSize: 50, pageToken: "" });
      expect(oldestFirst.jobs.map((j) => j.id)).toEqual(ids);
    });
  });
}
