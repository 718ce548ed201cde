/**
 * Output streaming through `flux job attach` in a pty: live output, status lines, exit
 * codes, and teardown (SIGTERM, never SIGINT, SIGKILL after a grace; no process, pty or
 * FIFO left behind), with many streams at once.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobBackend, OutputItem } from "../../../../server/backends/backend.js";
import { createFluxAttach, type AttachItem } from "../../../../server/backends/flux/flux-attach.js";
import { createFluxBackend } from "../../../../server/backends/flux/index.js";
import { formatJobId } from "../../../../server/backends/jobid.js";
import { createSilentLogger } from "../../../../server/logger.js";
import { jobRequest, waitForEvent, waitInactive } from "../../../support/backend-contract-helpers.js";
import { createFakeFlux, type FakeFlux } from "../../../support/fake-flux/fake-flux.js";
import { createGateFiles, WAIT_GATE_SH } from "../../../support/fake-flux/gate-files.js";

const owner = { name: "attach-tester" };
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
/** Our open pty masters (/dev/ptmx) and FIFOs under dir. */
function openHandles(dir: string): { ptys: number; fifos: number } {
  let ptys = 0;
  let fifos = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    let target = "";
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    if (target === "/dev/ptmx" || target.startsWith("/dev/pts/")) ptys++;
    if (target.startsWith(dir)) fifos++;
  }
  return { ptys, fifos };
}

async function collect(items: AsyncIterable<OutputItem>, onItem?: (item: OutputItem) => void) {
  const got: OutputItem[] = [];
  for await (const item of items) {
    got.push(item);
    onItem?.(item);
  }
  return got;
}

describe("followOutput over flux job attach (stand-in flux)", () => {
  let fake: FakeFlux;
  let backend: JobBackend & { attach: { activePids(): number[] } };
  let runtimeDir: string;

  beforeAll(async () => {
    fake = await createFakeFlux({ nodes: [{ hostname: "vm", cores: 8, gpus: 0 }] });
    runtimeDir = mkdtempSync(path.join(os.tmpdir(), "attach-runtime-"));
    const options = { fluxCommand: fake.fluxCommand, fluxUri: fake.uri, baseEnvironment: fake.baseEnvironment, logger: createSilentLogger() };
    backend = createFluxBackend({ ...options, killGraceMs: 1000, attach: createFluxAttach({ ...options, runtimeDir, killGraceMs: 1000 }) });
    await backend.start();
  });
  afterAll(async () => {
    await backend.close();
    await fake.stop();
    rmSync(runtimeDir, { recursive: true, force: true });
  });

  it("delivers each line as the job writes it, stdout and stderr apart, and ends with the exit code", async () => {
    // Lines arrive while the job runs (job-attach-running-timestamped.txt), not all at the end:
    // the job writes each line only after the test has received the one before (it opens a
    // gate file then), so no pause length has to outlast a busy machine's delays.
    const gates = createGateFiles(["first", "second"]);
    try {
      const script = `${WAIT_GATE_SH}echo "start 🥞"; wait_gate "$0"; echo "middle to stderr" >&2; wait_gate "$1"; echo end; exit 3`;
      const id = await backend.submit(jobRequest(["sh", "-c", script, gates.path("first"), gates.path("second")]), owner);
      let received = 0;
      const items = await collect(backend.followOutput(id, 0, AbortSignal.timeout(25_000)), (item) => {
        if (item.kind !== "chunk") return;
        received += 1;
        if (received === 1) gates.open("first");
        if (received === 2) gates.open("second");
      });
      const chunks = items.flatMap((i) => (i.kind === "chunk" ? [[i.chunk.offset, i.chunk.stream, i.chunk.rank, Buffer.from(i.chunk.data).toString()]] : []));
      expect(chunks).toEqual([
        [0, "stdout", 0, "start 🥞\n"],
        [1, "stderr", 0, "middle to stderr\n"],
        [2, "stdout", 0, "end\n"],
      ]);
      expect(items.filter((i) => i.kind === "status")).toEqual([{ kind: "status", text: "flux-job: task(s) exited with exit code 3" }]);
      expect(items[items.length - 1]).toEqual({ kind: "end", exitCode: 3, truncated: false });
    } finally {
      gates.close();
    }
  });

  it("reports a cancel as status lines and ends with 143 (job-attach-cancelled.txt)", async () => {
    const id = await backend.submit(jobRequest(["sh", "-c", "echo started; sleep 30"]), owner);
    const items: OutputItem[] = [];
    for await (const item of backend.followOutput(id, 0, AbortSignal.timeout(15_000))) {
      items.push(item);
      if (item.kind === "chunk") await backend.cancel(id, "");
    }
    const statuses = items.flatMap((i) => (i.kind === "status" ? [i.text] : []));
    expect(statuses).toHaveLength(2);
    expect(statuses[0]).toBe(`${/^\d+\.\d{3}s: /.exec(statuses[0]!)?.[0]}job.exception ${formatJobId(id, "f58plain")} type=cancel severity=0 `);
    expect(statuses[1]).toBe("flux-job: task(s) Terminated");
    expect(items[items.length - 1]).toEqual({ kind: "end", exitCode: 143, truncated: false });
  });

  it("keeps a final partial line (no newline) and rank labels of a 2-task job", async () => {
    // Each piece attach prints starts with "RANK: "; a partial line ends where the next read starts with a
    // label. (Pieces of different tasks that reach the pty in one read after a partial line are joined:
    // see docs/flux-backend.md.) Gates keep each partial line last in its read whatever the machine's
    // speed: task 0 prints its tail once the test has seen task 1's line, task 1 its tail once the test
    // has seen task 0's. (A pause in task 1 let a late start of either task share a read with a tail.)
    const gates = createGateFiles(["rank1-line", "rank0-tail"]);
    try {
      const script = `${WAIT_GATE_SH}echo "out from task $FLUX_TASK_RANK"; if [ "$FLUX_TASK_RANK" = 0 ]; then wait_gate "$0"; else wait_gate "$1"; fi; printf "tail-$FLUX_TASK_RANK"`;
      const id = await backend.submit(jobRequest(["sh", "-c", script, gates.path("rank1-line"), gates.path("rank0-tail")], { numTasks: 2 }), owner);
      const items: OutputItem[] = [];
      const byRank = (rank: number) =>
        items.flatMap((i) => (i.kind === "chunk" && i.chunk.rank === rank ? [Buffer.from(i.chunk.data).toString()] : [])).join("");
      await collect(backend.followOutput(id, 0, AbortSignal.timeout(25_000)), (item) => {
        items.push(item);
        if (byRank(1).includes("\n")) gates.open("rank1-line");
        if (byRank(0).endsWith("tail-0")) gates.open("rank0-tail");
      });
      expect(byRank(0)).toBe("out from task 0\ntail-0");
      expect(byRank(1)).toBe("out from task 1\ntail-1");
      expect(items.at(-1)).toEqual({ kind: "end", exitCode: 0, truncated: false });
    } finally {
      gates.close();
    }
  });

  it("runs attach with --read-only in a pty, FLUX_F58_FORCE_ASCII=1 and TERM=dumb", async () => {
    const id = await backend.submit(jobRequest(["true"]), owner);
    await collect(backend.followOutput(id, 0, AbortSignal.timeout(15_000)));
    const calls = fake.calls();
    const envs = fake.callEnvs();
    const i = calls.findIndex((argv) => argv[0] === "job" && argv[1] === "attach" && argv[argv.length - 1] === formatJobId(id, "f58plain"));
    expect(calls[i]).toEqual(["job", "attach", "--read-only", "--label-io", formatJobId(id, "f58plain")]);
    expect(envs[i]).toMatchObject({ FLUX_F58_FORCE_ASCII: "1", TERM: "dumb", FLUX_ATTACH_NONINTERACTIVE: "1", FLUX_URI: fake.uri });
  });

  it("holds 50 streams at once while unary calls stay fast, and leaves no attach, pty or FIFO when their clients leave", async () => {
    const before = openHandles(runtimeDir);
    const id = await backend.submit(jobRequest(["sh", "-c", "echo ready; sleep 60"]), owner);
    await waitForEvent(backend, id, "start");
    const controllers = Array.from({ length: 50 }, () => new AbortController());
    const firstChunk: Promise<void>[] = [];
    const streams = controllers.map((c, n) => {
      let seen!: () => void;
      firstChunk[n] = new Promise((r) => (seen = r));
      return (async () => {
        const kinds: string[] = [];
        for await (const item of backend.followOutput(id, 0, c.signal)) {
          kinds.push(item.kind);
          if (item.kind === "chunk") seen();
        }
        return kinds;
      })();
    });
    await Promise.all(firstChunk);
    const pids = backend.attach.activePids();
    expect(pids).toHaveLength(50);
    expect(pids.every(alive)).toBe(true);
    expect(readdirSync(runtimeDir)).toHaveLength(50);

    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      expect((await backend.get(id)).state).toBe(16);
      latencies.push(performance.now() - t);
    }
    latencies.sort((a, b) => a - b);
    // A unary call is one short `flux` process whatever the number of streams (the stand-in is
    // a node script, whose start alone can take a second on a loaded 2-core machine). A call
    // queued behind the streams would wait until they end: 60 s, or never here (they are
    // aborted after this), so 8 s still tells the two apart.
    expect(latencies[2]).toBeLessThan(8000);

    const abortedAt = Date.now();
    controllers.forEach((c) => c.abort());
    const results = await Promise.all(streams);
    // Ends at all, promptly, rather than with the 60 s job: SIGTERM, or SIGKILL after the 1 s grace.
    expect(Date.now() - abortedAt).toBeLessThan(10_000);
    expect(results.every((kinds) => kinds.includes("chunk") && !kinds.includes("end"))).toBe(true);
    expect(backend.attach.activePids()).toEqual([]);
    expect(pids.filter(alive)).toEqual([]);
    expect(readdirSync(runtimeDir)).toEqual([]);
    expect(openHandles(runtimeDir)).toEqual(before);
    // The job itself is untouched by its watchers leaving.
    expect((await backend.get(id)).state).toBe(16);
    await backend.cancel(id, "");
    await waitInactive(backend, id);
  });
});

describe("stopping attach (a recording stand-in for `flux job attach`)", () => {
  let dir: string;
  let log: string;
  const stub = (onTerm: "exit" | "ignore") => {
    const file = path.join(dir, `flux-${onTerm}`);
    // Records every signal it gets and anything written to its terminal; prints like attach.
    writeFileSync(
      file,
      `#!/bin/bash
trap 'echo INT >> "${log}"' INT
${onTerm === "exit" ? `trap 'echo TERM >> "${log}"; exit 143' TERM` : `trap 'echo TERM >> "${log}"' TERM`}
echo "0: running"
while :; do
  if read -t 1 line; then echo "STDIN $line" >> "${log}"; fi
done
`,
    );
    chmodSync(file, 0o755);
    return file;
  };

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "attach-stub-"));
    log = path.join(dir, "signals.log");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function runUntilOutputThenAbort(fluxCommand: string, graceMs: number) {
    writeFileSync(log, "");
    const attach = createFluxAttach({ fluxCommand, baseEnvironment: { PATH: "/usr/bin:/bin" }, logger: createSilentLogger(), killGraceMs: graceMs, runtimeDir: dir });
    const controller = new AbortController();
    const items: AttachItem[] = [];
    let pid = 0;
    let abortedAt = 0;
    for await (const item of attach.attach(42n, controller.signal)) {
      items.push(item);
      pid = attach.activePids()[0]!;
      abortedAt = Date.now();
      controller.abort();
    }
    return { items, pid, ms: Date.now() - abortedAt, signals: readFileSync(log, "utf8") };
  }

  it("sends SIGTERM, never SIGINT, and writes nothing to the pty", async () => {
    const { items, pid, signals } = await runUntilOutputThenAbort(stub("exit"), 5000);
    expect(items).toEqual([{ kind: "output", stream: "stdout", rank: 0, data: Buffer.from("running\n"), timestamp: expect.any(Number) }]);
    expect(signals).toBe("TERM\n");
    expect(alive(pid)).toBe(false);
  });

  it("sends SIGKILL after the grace when attach ignores SIGTERM", async () => {
    // The grace is 1 s above the 2 s default, so a wait of at least it (counted from the abort)
    // proves the option is used: a load only makes the wait longer, and the default would end
    // it near 2 s. The upper bound only means the SIGKILL comes at all (the stub never exits).
    const { pid, ms, signals } = await runUntilOutputThenAbort(stub("ignore"), 3000);
    expect(signals).not.toContain("INT");
    expect(signals).not.toContain("STDIN");
    expect(ms).toBeGreaterThanOrEqual(2900);
    expect(ms).toBeLessThan(12_000);
    expect(alive(pid)).toBe(false);
  });

  it("close() stops every stream (server shutdown)", async () => {
    const attach = createFluxAttach({ fluxCommand: stub("exit"), baseEnvironment: { PATH: "/usr/bin:/bin" }, logger: createSilentLogger(), runtimeDir: dir });
    const seen: Promise<void>[] = [];
    const runs = [1n, 2n, 3n].map((id, n) => {
      let first!: () => void;
      seen[n] = new Promise((r) => (first = r));
      return (async () => {
        const kinds: string[] = [];
        for await (const item of attach.attach(id, new AbortController().signal)) {
          kinds.push(item.kind);
          first();
        }
        return kinds;
      })();
    });
    await Promise.all(seen);
    const pids = attach.activePids();
    await attach.close();
    // Stopped streams end without an `end` item: the job's output did not end.
    expect(await Promise.all(runs)).toEqual([["output"], ["output"], ["output"]]);
    expect(pids.filter(alive)).toEqual([]);
  });
});
