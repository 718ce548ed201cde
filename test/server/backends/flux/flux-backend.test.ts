/**
 * The flux backend's own behaviour over the stand-in flux: the exact commands it runs
 * (one process per unary call), what it submits, ids past 2^53, refusals with Flux's
 * words, output pages from guest.output, nodes, readiness, and multi-user submission.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobResultBit, JobStateBit, type JobBackend } from "../../../../server/backends/backend.js";
import { createFluxBackend, createFluxCliCalls, probeFlux } from "../../../../server/backends/flux/index.js";
import { buildJobspec } from "../../../../server/backends/flux/jobspec.js";
import { formatJobId } from "../../../../server/backends/jobid.js";
import { createSilentLogger } from "../../../../server/logger.js";
import { jobRequest, readAllOutput, thrown, waitForEvent, waitInactive } from "../../../support/backend-contract-helpers.js";
import { createFakeFlux, type FakeFlux } from "../../../support/fake-flux/fake-flux.js";
import { readTranscript } from "../../../support/fake-flux/transcript.js";

const logger = createSilentLogger();
const owner = { name: "alice" };
const f58 = (id: bigint) => formatJobId(id, "f58plain");

/** A flux backend on the stand-in instance `fake`, with these options on top. */
function backendOn(fake: FakeFlux, options: Partial<Parameters<typeof createFluxBackend>[0]> = {}) {
  return createFluxBackend({ fluxCommand: fake.fluxCommand, fluxUri: fake.uri, baseEnvironment: fake.baseEnvironment, logger, ...options });
}

/** Runs fn and returns the argv of every flux call it made. */
async function callsDuring<T>(fake: FakeFlux, fn: () => Promise<T>): Promise<{ result: T; calls: string[][] }> {
  const before = fake.calls().length;
  const result = await fn();
  return { result, calls: fake.calls().slice(before) };
}

/** The exception note Flux recorded for a recorded job id (jobs-o-exception.txt). */
function recordedNote(f58Id: string): string {
  const line = readTranscript("jobs-o-exception.txt").stdout.split("\n").find((l) => l.includes(f58Id))!;
  return line.slice(line.indexOf("unsatisfiable"));
}

describe("flux backend over the stand-in flux", () => {
  let fake: FakeFlux;
  let backend: JobBackend;

  beforeAll(async () => {
    fake = await createFakeFlux();
    backend = backendOn(fake, { defaultCwd: "/tmp" });
    await backend.start();
  });
  afterAll(async () => {
    await backend.close();
    await fake.stop();
  });

  it("submits the jobspec flux submit would build, on stdin of `flux job submit --urgency=N`, and nothing of the server's environment", async () => {
    process.env.FLUX_RESTFUL_TEST_SECRET = "must-not-leak";
    try {
      const request = jobRequest(["sh", "-c", "echo hi"], { environment: { MINE: "1" }, urgency: 20 });
      const { result: id, calls } = await callsDuring(fake, () => backend.submit(request, owner));
      expect(calls).toEqual([["job", "submit", "--urgency=20"]]);
      const stored = JSON.parse(readFileSync(path.join(fake.dir, "jobs", id.toString(), "jobspec.json"), "utf8")) as Record<string, unknown>;
      const expected = buildJobspec(request, { environment: { ...fake.baseEnvironment, MINE: "1" }, defaultCwd: "/tmp" });
      // Single-user mode records the API user in the jobspec; otherwise it is what flux submit --dry-run prints.
      expect(stored).toEqual({ ...expected, attributes: { ...expected.attributes, user: { flux_restful: { owner: "alice" } } } });
      expect(JSON.stringify(stored)).not.toContain("must-not-leak");
      expect(fake.callEnvs().at(-1)).toEqual({ FLUX_URI: fake.uri, FLUX_F58_FORCE_ASCII: "1" });
      await waitInactive(backend, id);
    } finally {
      delete process.env.FLUX_RESTFUL_TEST_SECRET;
    }
  });

  it("keeps job ids past 2^53 exact from submit through get and list", async () => {
    const { result: id } = await callsDuring(fake, () => backend.submit(jobRequest(["true"], { name: "big-id" }), owner));
    expect(id > 2n ** 53n).toBe(true);
    await waitInactive(backend, id);
    const { result: job, calls } = await callsDuring(fake, () => backend.get(id));
    expect(calls).toEqual([["job", "list-ids", f58(id)]]); // facts of our own submission are cached: one process
    expect(job).toMatchObject({ id, name: "big-id", owner: "alice", command: ["true"], result: JobResultBit.COMPLETED, returncode: 0 });
    const { result: listed, calls: listCalls } = await callsDuring(fake, () =>
      backend.list({ name: "big-id", orderBy: { column: "t_submit", descending: true }, pageSize: 10, pageToken: "" }),
    );
    expect(listCalls).toEqual([["job", "list", "-a"]]);
    expect(listed.jobs.map((j) => j.id)).toEqual([id]);
  });

  it("runs one C subcommand per call: cancel, output, events, readiness", async () => {
    const id = await backend.submit(jobRequest(["sh", "-c", "echo started; sleep 30"]), owner);
    // Cancel once the line is written: "start" comes before the task runs, and on a busy
    // machine a cancel right after it can kill the shell before its echo.
    await expect
      .poll(async () => (await backend.output(id, 0, 10)).chunks.map((c) => Buffer.from(c.data).toString()), { timeout: 15_000, interval: 50 })
      .toEqual(["started\n"]);
    expect((await callsDuring(fake, () => backend.cancel(id, "stop it"))).calls).toEqual([["job", "raise", "--type=cancel", "--message=stop it", f58(id)]]);
    await waitInactive(backend, id);
    const out = await callsDuring(fake, () => backend.output(id, 0, 10));
    expect(out.calls).toEqual([["job", "eventlog", "-f", "json", "-p", "output", f58(id)]]);
    expect(out.result.chunks.map((c) => Buffer.from(c.data).toString())).toEqual(["started\n"]);
    const events = await callsDuring(fake, () => waitForEvent(backend, id, "clean"));
    // The job is inactive, so the one-shot read already ends with "clean" and no follow (-F) is started.
    expect(events.calls).toEqual([["job", "eventlog", "-f", "json", f58(id)]]);
    expect(events.result.find((e) => e.name === "exception")?.context).toEqual({ type: "cancel", severity: 0, note: "stop it", userid: process.getuid!() });

    const held = await backend.submit(jobRequest(["true"], { urgency: 0 }), owner);
    expect((await callsDuring(fake, () => backend.cancel(held, ""))).calls).toEqual([["job", "raise", "--type=cancel", f58(held)]]);
  });

  it("answers readiness from `flux getattr security.owner`, at most once a second", async () => {
    const { result, calls } = await callsDuring(fake, async () => [await backend.ready(), await backend.ready(), await backend.ready()]);
    expect(result).toEqual([{ ready: true }, { ready: true }, { ready: true }]);
    expect(calls.length).toBeLessThanOrEqual(1);
    expect(calls.every((c) => c.join(" ") === "getattr security.owner")).toBe(true);
  });

  it.each([
    [{ gpusPerTask: 1 }, "gpus_per_task", "ƒ5CLq7om"],
    [{ numTasks: 99 }, "num_tasks", "ƒ59KtaZ5"],
    [{ numTasks: 3, numNodes: 3, exclusive: true }, "num_nodes", "ƒ56Fz4jh"],
  ])("refuses an impossible request %j before submitting, with the scheduler's words", async (over, field, recorded) => {
    const { result: error, calls } = await callsDuring(fake, () => thrown(() => backend.submit(jobRequest(["hostname"], over), owner)));
    expect(error.name).toBe("InvalidJobRequestError");
    expect(error.field).toBe(field);
    expect(error.message).toBe(recordedNote(recorded));
    expect(calls).toEqual([]);
  });

  it("passes Flux's refusal of a jobspec on, in Flux's words (job-submit-invalid-json.txt)", async () => {
    const calls = createFluxCliCalls({ fluxCommand: fake.fluxCommand, fluxUri: fake.uri, baseEnvironment: fake.baseEnvironment, logger });
    const error = await thrown(() => calls.submit("{not json\n", { urgency: 16 }));
    expect([error.name, error.field, error.message]).toEqual(["InvalidJobRequestError", "jobspec", "jobspec: invalid JSON: string or '}' expected near 'not'"]);
  });

  it("pages output from guest.output with stream, rank and the partial last line", async () => {
    const script = 'echo "out $FLUX_TASK_RANK"; echo "err $FLUX_TASK_RANK" >&2; printf "partial-$FLUX_TASK_RANK"';
    const id = await backend.submit(jobRequest(["sh", "-c", script], { numTasks: 2 }), owner);
    await waitInactive(backend, id);
    const all = await readAllOutput(backend, id, 2);
    expect(all.complete).toBe(true);
    expect(all.chunks.map((c) => c.offset)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const rank of [0, 1]) {
      expect(all.text(rank, "stdout")).toBe(`out ${rank}\npartial-${rank}`);
      expect(all.text(rank, "stderr")).toBe(`err ${rank}\n`);
    }
    const page = await backend.output(id, 4, 10);
    expect([page.chunks.length, page.nextOffset, page.complete]).toEqual([2, 6, true]);
    const first = await backend.output(id, 0, 1);
    expect([first.chunks.length, first.nextOffset, first.complete]).toEqual([1, 1, false]);
  });

  it("says a job that never ran has complete, empty output, and an unknown one is not found", async () => {
    const held = await backend.submit(jobRequest(["echo", "never"], { urgency: 0 }), owner);
    expect(await backend.output(held, 0, 10)).toEqual({ chunks: [], nextOffset: 0, complete: false, truncated: false });
    await backend.cancel(held, "");
    await waitInactive(backend, held);
    expect(await backend.output(held, 0, 10)).toEqual({ chunks: [], nextOffset: 0, complete: true, truncated: false });
    expect((await thrown(() => backend.output(2n ** 60n, 0, 10))).name).toBe("JobNotFoundError");
  });

  it("lists nodes with cores, gpus, allocation and up/down/drained", async () => {
    const other = await createFakeFlux({
      nodes: [
        { hostname: "node1", cores: 4, gpus: 2 },
        { hostname: "node2", cores: 4, gpus: 0 },
        { hostname: "node3", cores: 2, gpus: 0 },
        { hostname: "node4", cores: 2, gpus: 0 },
      ],
      down: [2],
      drained: [3],
    });
    const b = backendOn(other);
    try {
      await b.start();
      const id = await b.submit(jobRequest(["sleep", "30"], { coresPerTask: 3, gpusPerTask: 1 }), owner);
      await waitForEvent(b, id, "start");
      expect(await b.nodes()).toEqual([
        { rank: 0, hostname: "node1", state: "up", cores: 4, coresAllocated: 3, gpus: 2, gpusAllocated: 1 },
        { rank: 1, hostname: "node2", state: "up", cores: 4, coresAllocated: 0, gpus: 0, gpusAllocated: 0 },
        { rank: 2, hostname: "node3", state: "down", cores: 2, coresAllocated: 0, gpus: 0, gpusAllocated: 0 },
        { rank: 3, hostname: "node4", state: "drained", cores: 2, coresAllocated: 0, gpus: 0, gpusAllocated: 0 },
      ]);
      expect((await b.get(id)).ngpus).toBe(1);
      await b.cancel(id, "");
      await waitInactive(b, id);
    } finally {
      await b.close();
      await other.stop();
    }
  });

  it("recovers owner and command of jobs it did not submit itself (a restart) from the jobspec, once", async () => {
    const id = await backend.submit(jobRequest(["echo", "remember me"]), { name: "bob" });
    await waitInactive(backend, id);
    const restarted = backendOn(fake);
    const first = await callsDuring(fake, () => restarted.get(id));
    expect(first.result).toMatchObject({ owner: "bob", command: ["echo", "remember me"] });
    expect(first.calls).toEqual([
      ["job", "list-ids", f58(id)],
      ["job", "info", f58(id), "jobspec"],
    ]);
    expect((await callsDuring(fake, () => restarted.get(id))).calls).toEqual([["job", "list-ids", f58(id)]]);
    const bobs = await restarted.list({ owner: "bob", orderBy: { column: "t_submit", descending: true }, pageSize: 50, pageToken: "" });
    expect(bobs.jobs.map((j) => j.id)).toEqual([id]);
    await restarted.close();
  });
});

describe("flux backend after a restart", () => {
  it("lists with one job-list call and one `flux kvs get` for every jobspec it has not seen, skipping a purged one", async () => {
    const fake = await createFakeFlux();
    const first = backendOn(fake);
    const restarted = backendOn(fake);
    try {
      const ids: bigint[] = [];
      for (const who of ["dave", "erin", "dave", "dave"]) ids.push(await first.submit(jobRequest(["echo", who], { name: "restart" }), { name: who }));
      for (const id of ids) await waitInactive(first, id);
      // The third job's jobspec is gone (purged from the KVS between job-list and the lookup).
      rmSync(path.join(fake.dir, "jobs", ids[2]!.toString(), "jobspec.json"));
      const query = { owner: "dave", orderBy: { column: "t_submit" as const, descending: false }, pageSize: 50, pageToken: "" };
      const { result, calls } = await callsDuring(fake, () => restarted.list(query));
      const key = (id: bigint) => `${formatJobId(id, "kvs")}.jobspec`;
      expect(calls[0]).toEqual(["job", "list", "-a"]);
      // Every unseen jobspec in one call, in job-list's order; it stops at the missing key and
      // a second call asks for the ones after it.
      const [kvs1, kvs2, ...more] = calls.slice(1);
      expect(kvs1!.slice(0, 3)).toEqual(["kvs", "get", "--"]);
      expect([...kvs1!.slice(3)].sort()).toEqual(ids.map(key).sort());
      const after = kvs1!.slice(kvs1!.indexOf(key(ids[2]!)) + 1);
      expect(kvs2).toEqual(after.length > 0 ? ["kvs", "get", "--", ...after] : undefined);
      expect(more).toEqual([]);
      expect(result.jobs.map((j) => [j.id, j.command])).toEqual([
        [ids[0], ["echo", "dave"]],
        [ids[3], ["echo", "dave"]],
      ]);
      // Known from then on: one process per list.
      expect((await callsDuring(fake, () => restarted.list(query))).calls).toEqual([["job", "list", "-a"]]);
    } finally {
      await first.close();
      await restarted.close();
      await fake.stop();
    }
  });
});

describe("flux backend started on an instance with jobs (cli)", () => {
  it("reads every job's facts at start, so its first listing is one `flux job list`", async () => {
    const fake = await createFakeFlux();
    const first = backendOn(fake);
    const restarted = backendOn(fake, { checkFeasibility: false });
    try {
      const ids: bigint[] = [];
      for (const who of ["gus", "hana", "gus"]) ids.push(await first.submit(jobRequest(["echo", who], { name: "warm" }), { name: who }));
      for (const id of ids) await waitInactive(first, id);
      const start = await callsDuring(fake, () => restarted.start());
      const key = (id: bigint) => `${formatJobId(id, "kvs")}.jobspec`;
      expect(start.calls.map((c) => c.slice(0, 3))).toEqual([
        ["getattr", "security.owner"],
        ["job", "list", "-a"],
        ["kvs", "get", "--"],
      ]);
      expect(start.calls[2]!.slice(3).sort()).toEqual(ids.map(key).sort());
      const query = { owner: "gus", orderBy: { column: "t_submit" as const, descending: false }, pageSize: 50, pageToken: "" };
      const listed = await callsDuring(fake, () => restarted.list(query));
      expect(listed.calls).toEqual([["job", "list", "-a"]]);
      expect(listed.result.jobs.map((j) => [j.id, j.owner, j.command])).toEqual([
        [ids[0], "gus", ["echo", "gus"]],
        [ids[2], "gus", ["echo", "gus"]],
      ]);
    } finally {
      await first.close();
      await restarted.close();
      await fake.stop();
    }
  });
});

describe("flux backend without an instance", () => {
  it("refuses to start, is not ready, and probeFlux says why", async () => {
    const fake = await createFakeFlux();
    const uri = `local://${fake.dir}/no-broker-here`;
    try {
      const backend = backendOn(fake, { fluxUri: uri });
      const error = await thrown(() => backend.start());
      expect([error.name, error.message]).toEqual(["BackendUnavailableError", "the flux instance is not reachable"]);
      expect(await backend.ready()).toEqual({ ready: false, reason: "the flux instance is not reachable" });
      expect(await probeFlux({ fluxCommand: fake.fluxCommand, fluxUri: uri, baseEnvironment: fake.baseEnvironment, logger })).toEqual({
        ok: false,
        reason: `no flux instance answers at FLUX_URI=${uri}: the flux instance is not reachable`,
      });
      const missing = await probeFlux({ fluxCommand: "/nonexistent/flux", baseEnvironment: fake.baseEnvironment, logger });
      expect(missing).toEqual({ ok: false, reason: "no flux instance answers at the enclosing instance: the flux command could not be run (ENOENT)" });
      const ok = await probeFlux({ fluxCommand: fake.fluxCommand, fluxUri: fake.uri, baseEnvironment: fake.baseEnvironment, logger });
      expect(ok).toEqual({ ok: true, reason: `a flux instance answers at FLUX_URI=${fake.uri} (owner uid ${process.getuid!()})` });
    } finally {
      await fake.stop();
    }
  });
});

/** /etc/flux/system/conf.d of a multi-user system instance (flux-core doc/guide/admin_config.rst). */
const MULTI_USER_CONFIG = { exec: { imp: "/usr/libexec/flux/flux-imp" }, access: { "allow-guest-user": true, "allow-root-owner": true } };

describe("flux backend in multi-user mode", () => {
  it("refuses to start, with every reason, on an instance that cannot run other users' jobs", async () => {
    const fake = await createFakeFlux();
    try {
      const backend = backendOn(fake, { mode: "multi-user" });
      const error = await thrown(() => backend.start());
      expect(error.name).toBe("BackendUnavailableError");
      expect(error.message).toBe(
        "multi-user mode cannot work on this flux instance: the instance does not allow guest users (access.allow-guest-user); " +
          "the instance has no IMP configured (exec.imp) (see docs/flux-backend.md)",
      );
    } finally {
      await fake.stop();
    }
  });

  it("submits as the owner with `sudo -n -u USER`, lists every user's jobs and names owners by userid", async () => {
    const fake = await createFakeFlux({ fluxConfig: MULTI_USER_CONFIG });
    const dir = mkdtempSync(path.join(os.tmpdir(), "multi-user-"));
    const sudoLog = path.join(dir, "sudo.log");
    const sudo = path.join(dir, "sudo");
    const passwd = path.join(dir, "passwd");
    writeFileSync(passwd, "carol:x:4242:4242::/home/carol:/bin/sh\n");
    // A stand-in sudo: records its arguments, then runs the command after "--" with the fake's
    // stand-in for the -u user's credentials (FAKE_FLUX_USERID, the user's uid from the passwd file).
    writeFileSync(
      sudo,
      `#!/bin/sh\necho "$*" >> "${sudoLog}"\nFAKE_FLUX_USERID=$(grep "^$3:" "${passwd}" | cut -d: -f3)\nexport FAKE_FLUX_USERID\n` +
        `while [ "$1" != "--" ]; do shift; done\nshift\nexec "$@"\n`,
    );
    chmodSync(sudo, 0o755);
    const backend = backendOn(fake, { mode: "multi-user", sudoCommand: sudo, passwdPath: passwd });
    try {
      await backend.start();
      const jobOwner = { name: "carol", loginEnv: { HOME: "/tmp", USER: "carol", LOGNAME: "carol", SHELL: "/bin/sh" } };
      const { result: id, calls } = await callsDuring(fake, () => backend.submit(jobRequest(["sh", "-c", "echo $USER in $(pwd)"]), jobOwner));
      expect(calls).toEqual([["job", "submit", "--urgency=16"]]);
      expect(readFileSync(sudoLog, "utf8")).toBe(`-n -u carol -- ${fake.fluxCommand} job submit --urgency=16\n`);
      const spec = JSON.parse(readFileSync(path.join(fake.dir, "jobs", id.toString(), "jobspec.json"), "utf8")) as { attributes: { system: { cwd: string }; user?: unknown } };
      expect(spec.attributes.system.cwd).toBe("/tmp"); // the owner's HOME
      expect(spec.attributes.user).toBeUndefined(); // Flux's userid is the owner
      const { job } = await waitInactive(backend, id);
      // Flux's userid names the owner (through the passwd file), not anything the jobspec says.
      expect([job.userid, job.owner]).toEqual([4242, "carol"]);
      expect((await readAllOutput(backend, id)).text()).toBe("carol in /tmp\n");
      const { calls: listCalls } = await callsDuring(fake, () =>
        backend.list({ orderBy: { column: "t_submit", descending: true }, pageSize: 5, pageToken: "" }),
      );
      expect(listCalls).toEqual([["job", "list", "-A"]]);
      expect(job.state).toBe(JobStateBit.INACTIVE);
    } finally {
      await backend.close();
      await fake.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
