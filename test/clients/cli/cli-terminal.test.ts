/**
 * What the CLI does on a terminal (tables, the live status line of `submit --wait`) and with
 * Ctrl-C (cancel, then detach). The server has one core, so a second job waits in SCHED.
 */
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createFluxClient, JobResult, JobState, type FluxClient } from "../../../clients/sdk/node.js";
import { startTestServer, type TestServer } from "../../support/start-test-server.js";
import { collect, createCliHome, runCliOnTty, spawnCli, type CliHome } from "./cli-harness.js";

// Each CLI run is a Node process (about half a CPU second); on a loaded 2-core machine they queue.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

let server: TestServer;
let home: CliHome;
let client: FluxClient;
let env: Record<string, string>;

beforeAll(async () => {
  server = await startTestServer({ env: { FLUX_RESTFUL_LOCAL_CORES: "1" } });
  home = await createCliHome();
  env = { ...home.env, FLUX_RESTFUL_HOST: server.url, TERM: "xterm" };
  client = createFluxClient({ baseUrl: server.url, env: {} });
});
afterAll(async () => {
  await server?.close();
  await home?.cleanup();
});

async function waitFor(predicate: () => Promise<boolean>, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** What a child has written so far, as it comes. */
function watch(child: ChildProcess): { stdout: string; stderr: string } {
  const seen = { stdout: "", stderr: "" };
  child.stdout!.on("data", (b: Buffer) => (seen.stdout += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (seen.stderr += b.toString()));
  return seen;
}

async function jobNamed(name: string) {
  for await (const page of client.list({ name })) if (page.jobs[0]) return page.jobs[0];
  return undefined;
}

describe("on a terminal", () => {
  it("list-jobs and list-nodes print tables; --json still prints JSON", async () => {
    const id = await client.submit({ command: ["true"], name: "in-a-table" });
    await waitFor(async () => (await client.get(id)).state === JobState.INACTIVE, "the job");

    const jobs = await runCliOnTty(["list-jobs"], { env });
    const nodes = await runCliOnTty(["list-nodes"], { env });
    const json = await runCliOnTty(["list-jobs", "--json"], { env });

    expect(jobs.code).toBe(0);
    const lines = jobs.screen.split("\r\n");
    expect(lines[0]).toMatch(/^JOBID\s+USER\s+NAME\s+STATUS\s+NTASKS\s+NNODES\s+TIME\s+INFO$/);
    expect(lines.find((l) => l.startsWith(id))).toMatch(new RegExp(`^${id}\\s+\\S+\\s+in-a-table\\s+COMPLETED\\s+1\\s+1\\s+\\d`));
    expect(nodes.screen).toMatch(/^RANK\s+HOSTNAME\s+STATE\s+CORES\s+CORES_USED\s+GPUS\s+GPUS_USED\r\n0\s+\S+\s+UP\s+1\s+\d\s+0\s+0\r\n$/);
    expect(JSON.parse(json.screen)).toHaveProperty("jobs");
  });

  it("submit --wait shows the job's state while it waits, then clears it for the output", async () => {
    const blocker = await client.submit({ command: ["sleep", "30"], name: "blocker" });
    await waitFor(async () => (await client.get(blocker)).state === JobState.RUN, "the blocker to run");

    let released = false;
    const run = runCliOnTty(["submit", "--wait", "--name", "waits", "echo", "finally"], {
      env,
      onData: (_d, screen) => {
        if (!released && /ƒ\S+ SCHED \d+\.\ds/.test(screen)) {
          released = true;
          void client.cancel(blocker);
        }
      },
    });
    const { code, screen } = await run;

    expect(released).toBe(true);
    expect(code).toBe(0);
    // The status line is erased (\r ESC[K) before the job's output is written.
    expect(screen).toMatch(/SCHED \d+\.\ds(.|\r)*\r\x1b\[Kfinally\r\n$/);
  });

  it("--quiet shows no status line", async () => {
    const { code, screen } = await runCliOnTty(["submit", "--wait", "--quiet", "echo", "plain"], { env, viaBin: true });
    expect(code).toBe(0);
    expect(screen).toBe("plain\r\n");
  });
});

describe("Ctrl-C during submit --wait", () => {
  it("the first one cancels the job, whose end is still reported", async () => {
    const child = spawnCli(["submit", "--wait", "--name", "interrupted", "sh", "-c", "echo started; sleep 30"], { env });
    const done = collect(child);
    const seen = watch(child);
    // The job's output coming through means the CLI is following it (and handles Ctrl-C).
    await waitFor(async () => seen.stdout.includes("started"), "the job's output");

    child.kill("SIGINT");
    const res = await done;

    const job = (await jobNamed("interrupted"))!;
    expect(job.result).toBe(JobResult.CANCELED);
    expect(res.stdout).toBe("started\n");
    expect(res.stderr).toContain(`flux-restful-cli: cancelling job ${job.id} (Ctrl-C again to detach)`);
    expect(res.code).not.toBe(0);
    expect(res.signal).toBeNull();
  });

  it("the second one detaches with exit code 130", async () => {
    // The job ignores SIGTERM, so the cancel takes until the backend's SIGKILL.
    const child = spawnCli(["submit", "--wait", "--name", "stubborn", "sh", "-c", "trap '' TERM; echo up; sleep 30"], { env });
    const done = collect(child);
    const seen = watch(child);
    await waitFor(async () => seen.stdout.includes("up"), "the job's output");

    child.kill("SIGINT");
    await waitFor(async () => seen.stderr.includes("cancelling job"), "the cancel note");
    child.kill("SIGINT");
    const res = await done;

    expect(res.code).toBe(130);
    expect(res.stderr).toMatch(/flux-restful-cli: detached from job ƒ\S+\n$/);
    await waitFor(async () => (await jobNamed("stubborn"))?.state === JobState.INACTIVE, "the job to end");
  });
});
