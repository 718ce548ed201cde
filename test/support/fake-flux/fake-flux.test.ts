/**
 * The stand-in `flux` reproduces the recorded transcripts for every command the flux
 * backend runs: byte for byte where the output does not depend on ids and times, and
 * with the job's own id (and the elapsed-time prefix) substituted where it does.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFakeFlux, type FakeFlux } from "./fake-flux.js";
import { createGateFiles, WAIT_GATE_SH } from "./gate-files.js";
import { runFake, submitToFake, waitInactive } from "./run-fake.js";
import { readReferenceFile, readTranscript } from "./transcript.js";

let fake: FakeFlux;

beforeAll(async () => {
  fake = await createFakeFlux();
});
afterAll(async () => {
  await fake.stop();
});

/** The argv of the flux command of a transcript's command line (the last of a pipe, without redirections). */
const argvOf = (command: string) =>
  command
    .split("| ")
    .pop()!
    .replace(/^flux /, "")
    .split(" ")
    .filter((w) => w !== "" && !/^(<|2>)/.test(w));

async function expectReplay(name: string, options: { stdin?: string; env?: Record<string, string | undefined> } = {}) {
  const t = readTranscript(name);
  const r = await runFake(fake, argvOf(t.command), options);
  expect({ stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode }, name).toEqual({ stdout: t.stdout, stderr: t.stderr, exitCode: t.exitCode });
}

/** A transcript with its job id replaced by ours and "N.NNNs:" elapsed times made a pattern. */
function pattern(text: string, recordedId: string, id: string): RegExp {
  const escaped = text.split(recordedId).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\d+\\\.\d{3}s:/g, "\\d+\\.\\d{3}s:"));
  return new RegExp(`^${escaped.join(id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))}$`);
}

async function expectJobReplay(name: string, recordedId: string, id: string, argv: string[]) {
  const t = readTranscript(name);
  const r = await runFake(fake, argv);
  expect(r.exitCode, `${name}: ${r.stderr}`).toBe(t.exitCode);
  expect(r.stdout).toMatch(pattern(t.stdout, recordedId, id));
  expect(r.stderr).toMatch(pattern(t.stderr, recordedId, id));
}

describe("fake flux: commands without a job", () => {
  it.each([
    "job-raise-unknown.txt",
    "job-eventlog-unknown.txt",
    "job-info-unknown-job.txt",
    "job-info-multiple-keys.txt",
    "job-attach-unknown-id-f58.txt",
    "job-attach-unknown-id-dec.txt",
    "job-attach-invalid-id.txt",
    "resource-R.txt",
    "getattr-size.txt",
    "config-get.txt",
  ])("replays %s exactly", async (name) => {
    await expectReplay(name);
  });

  it("replays the refused submissions exactly (job-submit-empty, -invalid-json, -invalid-jobspec)", async () => {
    await expectReplay("job-submit-empty.txt", { stdin: "" });
    await expectReplay("job-submit-invalid-json.txt", { stdin: "{not json\n" });
    await expectReplay("job-submit-invalid-jobspec.txt", { stdin: '{"version": 1}\n' });
  });

  it("prints nothing for `flux job list` with no active job (help-job-list-hidden-empty.txt)", async () => {
    const empty = await createFakeFlux();
    try {
      const t = readTranscript("help-job-list-hidden-empty.txt");
      const r = await runFake(empty, ["job", "list"]);
      expect([r.stdout, r.stderr, r.exitCode]).toEqual([t.stdout, t.stderr, t.exitCode]);
    } finally {
      await empty.stop();
    }
  });

  it("fails like the C commands when no broker answers (flux_open: No such file or directory, exit 1)", async () => {
    const r = await runFake(fake, ["job", "list", "-a"], { env: { FLUX_URI: `local://${fake.dir}/no-such-socket` } });
    expect([r.stdout, r.stderr, r.exitCode]).toEqual(["", "flux-job: flux_open: No such file or directory\n", 1]);
    const getattr = await runFake(fake, ["getattr", "security.owner"], { env: { FLUX_URI: undefined } });
    expect([getattr.stderr, getattr.exitCode]).toEqual(["flux: flux_open: No such file or directory\n", 1]);
  });

  it("prints a submitted job id like `flux job submit` does: ƒ in UTF-8, f with FLUX_F58_FORCE_ASCII (submit-f58-force-ascii.txt)", async () => {
    const spec = readReferenceFile("jobspec-echo-hi.json");
    const utf8 = await runFake(fake, ["job", "submit"], { stdin: spec, env: { LANG: "C.UTF-8" } });
    const ascii = await runFake(fake, ["job", "submit"], { stdin: spec, env: { FLUX_F58_FORCE_ASCII: "1" } });
    const f58 = /^ƒ[1-9A-HJ-NP-Za-km-z]+\n$/;
    const f58ascii = /^f[1-9A-HJ-NP-Za-km-z]+\n$/;
    expect(readTranscript("job-submit-stdin.txt").stdout).toMatch(f58);
    expect(readTranscript("submit-f58-force-ascii.txt").stdout).toMatch(f58ascii);
    expect(utf8.stdout).toMatch(f58);
    expect(ascii.stdout).toMatch(f58ascii);
  });
});

describe("fake flux: jobs run for real and are reported as Flux reports them", () => {
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const printer = [
      "sh",
      "-c",
      'echo "line 1 to stdout"; echo "line 2 to stderr 🥞" >&2; printf "line 3 to stdout 🥞 ünïcödé\\n"; echo "line 4 to stderr" >&2; printf "partial-no-newline"',
    ];
    const submitted = await Promise.all([
      submitToFake(fake, printer, { name: "printer" }),
      submitToFake(fake, ["sh", "-c", "echo about to fail; echo failing with 3 >&2; exit 3"], { name: "fail3" }),
      submitToFake(fake, ["sh", "-c", "kill -9 $$"]),
      submitToFake(fake, ["/no/such/command"]),
      submitToFake(fake, ["hostname"], { gpusPerTask: 1 }),
      submitToFake(fake, ["hostname"], { numTasks: 3, numNodes: 3, exclusive: true }),
    ]);
    [ids.printer, ids.fail3, ids.killed, ids.nocmd, ids.gpu, ids.nodes] = submitted;
    await Promise.all(submitted.map((id) => waitInactive(fake, id)));
  });

  it("attach replays a finished job's stdout and stderr exactly (job-attach-finished-out-err.txt)", async () => {
    await expectJobReplay("job-attach-finished-out-err.txt", "ƒ6FP9YmD", ids.printer!, ["job", "attach", ids.printer!]);
  });

  it.each([
    ["job-attach-exit3.txt", "ƒ6MpkRn7", "fail3"],
    ["job-attach-killed-by-signal.txt", "ƒ6R24t1D", "killed"],
    ["job-attach-nonexistent-command.txt", "ƒ5feBtn3", "nocmd"],
    ["job-attach-unsatisfiable-gpu.txt", "ƒ5CLq7om", "gpu"],
    ["job-attach-unsatisfiable-nodes.txt", "ƒ56Fz4jh", "nodes"],
  ])("attach reproduces %s with the job's id", async (name, recordedId, which) => {
    await expectJobReplay(name, recordedId, ids[which]!, ["job", "attach", ids[which]!]);
  });

  it("refuses to raise on an inactive job and reads no R of a job never allocated (job-raise-inactive, job-info-unsatisfiable-gpu-R)", async () => {
    await expectJobReplay("job-raise-inactive.txt", "ƒ6FP9YmD", ids.printer!, ["job", "raise", ids.printer!]);
    await expectJobReplay("job-info-unsatisfiable-gpu-R.txt", "ƒ5CLq7om", ids.gpu!, ["job", "info", ids.gpu!, "R"]);
  });

  it("prints job-list records with the keys, order and values of list-ids (job-list-ids-hidden.txt, python-list-id-*.txt)", async () => {
    const r = await runFake(fake, ["job", "list-ids", ids.printer!, ids.fail3!]);
    expect(r.exitCode).toBe(0);
    const [printer, fail3] = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    const [refPrinter, refFail3] = readTranscript("job-list-ids-hidden.txt").stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(Object.keys(printer!)).toEqual(Object.keys(refPrinter!));
    expect(Object.keys(fail3!)).toEqual(Object.keys(refFail3!));
    const facts = (o: Record<string, unknown>) => [o.state, o.result, o.success, o.exception_occurred, o.waitstatus, o.name, o.ntasks, o.ncores, o.nnodes];
    expect(facts(printer!)).toEqual(facts(refPrinter!));
    expect(facts(fail3!)).toEqual(facts(refFail3!));
    // The job-list.list-id record of an unsatisfiable job (python-list-id-unsatisfiable.txt).
    const gpu = JSON.parse((await runFake(fake, ["job", "list-ids", ids.gpu!])).stdout) as Record<string, unknown>;
    const refGpu = (JSON.parse(/^\{"job":.*$/m.exec(readTranscript("python-list-id-unsatisfiable.txt").stdout)![0]) as { job: Record<string, unknown> }).job;
    expect(Object.keys(gpu)).toEqual(Object.keys(refGpu));
    expect(gpu.exception_note).toBe(refGpu.exception_note);
    // Text form: "flux job list" prints jansson's spacing, ids as plain integers.
    expect(r.stdout).toMatch(/^\{"id": \d+, "userid": \d+, "urgency": 16, "priority": 16, "t_submit": \d+\.\d+, /);
  });

  it("prints eventlogs as RFC 18 JSON lines like job-eventlog-json.txt and job-eventlog-p-output-json.txt", async () => {
    const main = (await runFake(fake, ["job", "eventlog", "-f", "json", ids.printer!])).stdout.trim().split("\n").map((l) => JSON.parse(l) as { name: string; context?: object });
    const ref = readTranscript("job-eventlog-json.txt").stdout.trim().split("\n").map((l) => JSON.parse(l) as { name: string; context?: object });
    expect(main.map((e) => [e.name, Object.keys(e.context ?? {})])).toEqual(ref.map((e) => [e.name, Object.keys(e.context ?? {})]));
    const out = (await runFake(fake, ["job", "eventlog", "-f", "json", "-p", "output", ids.printer!])).stdout;
    const refOut = readTranscript("job-eventlog-p-output-json.txt").stdout;
    const sorted = (text: string) =>
      text.trim().split("\n").map((l) => JSON.stringify((JSON.parse(l) as { name: string; context: unknown }).context)).sort();
    // The shell may order stdout and stderr lines differently; the set of entries is the same.
    expect(sorted(out)).toEqual(sorted(refOut));
    expect(out).toMatch(/^\{"timestamp":\d+\.\d+,"name":"header","context":\{"version":1,/);
  });
});

describe("fake flux: a running job", () => {
  it("streams output to attach as the job writes it (job-attach-running-timestamped.txt, shortened)", async () => {
    // The job writes each line only after attach has delivered the one before (a gate file
    // the test opens on seeing it), so the lines surely arrive while the job runs, one per
    // read, however slowly a busy machine starts attach or runs the job. Fixed sleeps in
    // the job raced a cold attach.
    const gates = createGateFiles(["first", "second"]);
    const script = `${WAIT_GATE_SH}echo "start 🥞"; wait_gate "$0"; echo "middle to stderr" >&2; wait_gate "$1"; echo end`;
    const id = await submitToFake(fake, ["sh", "-c", script, gates.path("first"), gates.path("second")]);
    const seen: string[] = [];
    const { spawn } = await import("node:child_process");
    const child = spawn(fake.fluxCommand, ["job", "attach", id], { env: { ...fake.baseEnvironment, FLUX_URI: fake.uri } });
    try {
      child.stdout.on("data", (b: Buffer) => {
        seen.push(`stdout: ${b.toString()}`);
        if (seen.length === 1) gates.open("first");
      });
      child.stderr.on("data", (b: Buffer) => {
        seen.push(`stderr: ${b.toString()}`);
        if (seen.length === 2) gates.open("second");
      });
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      expect(seen).toEqual(["stdout: start 🥞\n", "stderr: middle to stderr\n", "stdout: end\n"]);
      expect(code).toBe(0);
    } finally {
      gates.close();
      child.kill();
    }
    await waitInactive(fake, id);
  });

  it("cancels a running job with `flux job raise`: attach ends with the exception and 143 (job-attach-cancelled.txt)", async () => {
    const id = await submitToFake(fake, ["sh", "-c", "echo started; sleep 30"]);
    const { spawn } = await import("node:child_process");
    const attach = spawn(fake.fluxCommand, ["job", "attach", id], { env: { ...fake.baseEnvironment, FLUX_URI: fake.uri } });
    // Listening from the start: an attach that ended early must not leave the test waiting for a "close" already emitted.
    const closed = new Promise<number | null>((resolve) => attach.on("close", resolve));
    let stdout = "";
    let stderr = "";
    attach.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    attach.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    let code: number | null;
    try {
      // Until a deadline, not a count of tries: each try is quick or slow as the machine is.
      await expect.poll(() => stdout, { timeout: 10_000, interval: 20 }).toContain("started");
      expect(stdout, (await runFake(fake, ["job", "eventlog", id])).stdout + stderr).toBe("started\n");
      expect((await runFake(fake, ["job", "raise", id])).exitCode).toBe(0);
      let timer: NodeJS.Timeout | undefined;
      code = await Promise.race([
        closed,
        new Promise<never>((_, reject) => {
          // Far under the job's 30 s: a cancel that did not end the job fails here, with what attach printed.
          timer = setTimeout(() => reject(new Error(`attach did not end 10 s after the cancel; stdout ${JSON.stringify(stdout)}, stderr ${JSON.stringify(stderr)}`)), 10_000);
        }),
      ]).finally(() => clearTimeout(timer));
    } finally {
      attach.kill();
    }
    const t = readTranscript("job-attach-cancelled.txt");
    expect(code).toBe(t.exitCode);
    expect(stdout).toBe(t.stdout);
    expect(stderr).toMatch(pattern(t.stderr, "ƒ8U4HDP5", id));
  });

  it("cancels a held job: exception then clean, attach exits 1 (job-attach-cancelled-pending.txt)", async () => {
    const id = await submitToFake(fake, ["sleep", "1"], { urgency: 0 });
    await runFake(fake, ["job", "raise", id]);
    await waitInactive(fake, id);
    await expectJobReplay("job-attach-cancelled-pending.txt", "ƒ5FJogVm", id, ["job", "attach", id]);
    const names = (await runFake(fake, ["job", "eventlog", id])).stdout.trim().split("\n").map((l) => l.split(" ")[1]);
    expect(names).toEqual(["submit", "validate", "depend", "priority", "exception", "clean"]);
  });

  it("ends a job at its time limit with a timeout exception and 142 (job-attach-timeout.txt)", async () => {
    const id = await submitToFake(fake, ["sleep", "30"], { duration: 0.5 });
    await waitInactive(fake, id);
    await expectJobReplay("job-attach-timeout.txt", "ƒ4itaR9R", id, ["job", "attach", id]);
  });
});
