/**
 * `flux-restful-cli submit` as a subprocess against a real server (auth off): every flag, the
 * argv travelling unchanged, --wait like `flux run`, and the error paths. Results are read back
 * through the SDK.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createFluxClient, JobResult, JobState, type FluxClient } from "../../../clients/sdk/node.js";
import { waitForState } from "../../support/job-helpers.js";
import { startTestServer, type TestServer } from "../../support/start-test-server.js";
import { createCliHome, runCli, type CliHome } from "./cli-harness.js";

// Each CLI run is a Node process (about half a CPU second); on a loaded 2-core machine they queue.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

let server: TestServer;
let home: CliHome;
let client: FluxClient;
let env: Record<string, string>;

beforeAll(async () => {
  server = await startTestServer();
  home = await createCliHome();
  env = { ...home.env, FLUX_RESTFUL_HOST: server.url };
  client = createFluxClient({ baseUrl: server.url, env: {} });
});
afterAll(async () => {
  await server?.close();
  await home?.cleanup();
});

const waitInactive = (id: string) => waitForState(client.jobs, id, JobState.INACTIVE, 60_000);

describe.concurrent("submit", () => {
  it("--wait prints stdout and stderr to their streams and exits with the job's exit code (installed entry point)", async () => {
    const res = await runCli(["submit", "--wait", "sh", "-c", "echo out; echo err >&2; exit 3"], { env, viaBin: true });

    expect(res.code).toBe(3);
    expect(res.stdout).toBe("out\n");
    // The job's stderr, then any status lines the backend sends (Flux's "flux-job: ... exit code 3").
    const [first, ...status] = res.stderr.split(/(?<=\n)/);
    expect(first).toBe("err\n");
    for (const line of status) expect(line).toMatch(/exit code 3\n$/);
  });

  it("passes arguments with spaces, quotes and empty words to the job unchanged", async () => {
    const words = ["a b", "it's", '"double"', "", "  lead", "$HOME", "*", "ƒ ünï"];
    const res = await runCli(["submit", "--wait", "printf", "[%s]\\n", ...words], { env });

    expect(res.code).toBe(0);
    expect(res.stdout).toBe(words.map((w) => `[${w}]\n`).join(""));
  });

  it("--wait keeps the exact bytes, without a final newline", async () => {
    const res = await runCli(["submit", "--wait", "--quiet", "printf", "no newline\\t\\x01"], { env });

    expect(res.code).toBe(0);
    expect(res.stdoutBytes).toEqual(Buffer.from("no newline\t\x01"));
    expect(res.stderr).toBe("");
  });

  it("sends every flag, as `info` then shows", async () => {
    const workdir = await fs.mkdtemp(path.join(home.home, "wd-"));
    const res = await runCli(
      [
        "submit",
        "--workdir", workdir,
        "--num_tasks", "2",
        "--cores_per_task", "1",
        "--gpus_per_task", "0",
        "--num_nodes", "1",
        "--runtime", "2m",
        "--name", "all-flags",
        "--urgency", "20",
        "--env", "GREETING=hello there",
        "--option_flags", "verbose=2,nosetpgrp",
        "sleep", "0",
      ],
      { env },
    );
    expect(res.code).toBe(0);
    const { id } = JSON.parse(res.stdout) as { id: string };
    expect(res.stdout).toBe(`{\n    "id": "${id}"\n}\n`);

    const job = await waitInactive(id);
    expect(job).toMatchObject({ name: "all-flags", ntasks: 2, cwd: workdir, urgency: 20, duration: 120, command: ["sleep", "0"] });
    expect(job.result).toBe(JobResult.COMPLETED);
  });

  it("--env NAME=VALUE and --env NAME (this shell's value) reach the job", async () => {
    const res = await runCli(["submit", "--wait", "--env", "A=x y", "--env", "FROM_SHELL", "sh", "-c", 'printf "%s|%s" "$A" "$FROM_SHELL"'], {
      env: { ...env, FROM_SHELL: "passed on" },
    });
    expect(res.stdout).toBe("x y|passed on");
  });

  it("takes the settings' workdir when --workdir is absent", async () => {
    const workdir = await fs.mkdtemp(path.join(home.home, "settings-wd-"));
    const res = await runCli(["-c", `set:workdir:${workdir}`, "submit", "--wait", "pwd"], { env });
    expect(res.stdout).toBe(`${workdir}\n`);
  });

  it("--runtime ends a job at its time limit with TIMEOUT", async () => {
    const res = await runCli(["submit", "--runtime", "1", "sleep", "30"], { env });
    const { id } = JSON.parse(res.stdout) as { id: string };
    const job = await waitInactive(id);
    expect(job.result).toBe(JobResult.TIMEOUT);
  });

  it("--urgency hold keeps the job pending", async () => {
    const res = await runCli(["submit", "--urgency", "hold", "true"], { env });
    const { id } = JSON.parse(res.stdout) as { id: string };
    const job = await client.get(id);
    expect(job.urgency).toBe(0);
    expect(job.state & (JobState.DEPEND | JobState.PRIORITY | JobState.SCHED)).not.toBe(0);
    await client.cancel(id);
  });

  it.each([
    [["submit"], 2, "no command given"],
    [["submit", "--num_tasks", "0", "true"], 2, '--num_tasks must be a whole number from 1 to 2147483647 (got "0")'],
    [["submit", "--runtime", "soon", "true"], 2, '--runtime must be seconds, or a number with s, m, h or d (got "soon")'],
    [["submit", "--urgency", "99", "true"], 2, '--urgency must be 0 to 31, hold, default or expedite (got "99")'],
    [["submit", "--env", "1BAD=x", "true"], 2, '--env needs NAME=VALUE or NAME (got "1BAD=x")'],
    [["submit", "--env", "NOT_SET_ANYWHERE", "true"], 2, "--env NOT_SET_ANYWHERE: NOT_SET_ANYWHERE is not set here"],
    [["submit", "--bogus", "true"], 2, 'unknown option "--bogus"'],
  ])("refuses %j with a one-line usage error", async (args, code, message) => {
    const res = await runCli(args, { env });
    expect(res.code).toBe(code);
    expect(res.stdout).toBe("");
    expect(res.stderr).toContain(`flux-restful-cli: ${message}`);
    expect(res.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("sends --exclusive, --queue, --gpus_per_task and --is_launcher, and --json prints one line", async () => {
    const [exclusive, alone, queue, gpus, launcher, json, protocol] = await Promise.all([
      runCli(["submit", "--exclusive", "--num_nodes", "1", "true"], { env }),
      runCli(["submit", "--exclusive", "true"], { env }),
      runCli(["submit", "--queue", "batch", "true"], { env }),
      runCli(["submit", "--gpus_per_task", "1", "true"], { env }),
      runCli(["submit", "--is_launcher", "nextflow", "run", "main.nf"], { env }),
      runCli(["submit", "--json", "true"], { env }),
      runCli(["--protocol", "carrier-pigeon", "submit", "true"], { env }),
    ]);

    expect(exclusive.code).toBe(0);
    // The server checks the combination: --exclusive needs --num_nodes, as flux submit -x needs -N.
    expect([alone.code, alone.stderr]).toEqual([1, "flux-restful-cli: exclusive: can only be set with num_nodes\n"]);
    const queued = await client.get((JSON.parse(queue.stdout) as { id: string }).id);
    expect(queued.queue).toBe("batch");
    // The test server has no gpus, so a gpu is a request it can never satisfy.
    expect(gpus.code).toBe(1);
    expect(gpus.stderr).toMatch(/^flux-restful-cli: gpus_per_task: .+\n$/);
    expect((await client.get((JSON.parse(launcher.stdout) as { id: string }).id)).command).toEqual(["nextflow", "run", "main.nf"]);
    expect(json.stdout).toMatch(/^\{"id":"ƒ\w+"\}\n$/);
    expect([protocol.code, protocol.stderr]).toEqual([2, 'flux-restful-cli: --protocol: unknown protocol "carrier-pigeon" (expected one of connect, grpc, grpc-web)\n']);
  });

  it("reports the server's refusal of --is_launcher for a command outside the launcher list", async () => {
    const res = await runCli(["submit", "--is_launcher", "echo", "hi"], { env });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^flux-restful-cli: .*launcher.*\n$/);
  });

  it("reports a request the machine can never satisfy", async () => {
    const res = await runCli(["submit", "--cores_per_task", "100000", "true"], { env });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^flux-restful-cli: .*core.*\n$/);
  });
});

