/**
 * The spine scenario, end to end: a real server on port 0 with the local backend,
 * called through each Connect-ES transport.
 */
import { Code, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobResult, JobState, OutputStream } from "../../../gen/flux/restful/v1/job_pb.js";
import { JobService } from "../../../gen/flux/restful/v1/job_service_pb.js";
import { codeOf, readOutput, waitForState, type JobClient } from "../../support/job-helpers.js";
import { startTestServer, type TestServer } from "../../support/start-test-server.js";
import { createTransports, type TransportName } from "../../support/transports.js";

let server: TestServer;
let transports: ReturnType<typeof createTransports>;

beforeAll(async () => {
  server = await startTestServer({ env: { FLUX_RESTFUL_LOCAL_CORES: "4" } });
  transports = createTransports(server.url);
});
afterAll(async () => {
  await server?.close();
});

const names: TransportName[] = ["connect-json-h1", "connect-binary-h2", "grpc", "grpc-web"];

describe.each(names)("JobService over %s", (name) => {
  let client: JobClient;
  beforeAll(() => {
    client = createClient(JobService, transports[name]);
  });

  it("runs echo pancakes 🥞 to COMPLETED with byte-exact output from GetJobOutput and StreamJobOutput", async () => {
    const { id } = await client.submitJob({ command: ["echo", "pancakes 🥞"] });
    expect(id).toMatch(/^ƒ[1-9A-HJ-NP-Za-km-z]+$/);

    const streamed: Uint8Array[] = [];
    let exitCode: number | undefined;
    for await (const msg of client.streamJobOutput({ id })) {
      if (msg.item.case === "chunk") {
        expect(msg.item.value.stream).toBe(OutputStream.STDOUT);
        streamed.push(msg.item.value.data);
      } else if (msg.item.case === "end") {
        exitCode = msg.item.value.exitCode;
      }
    }
    expect(Buffer.concat(streamed).toString("utf8")).toBe("pancakes 🥞\n");
    expect(exitCode).toBe(0);

    const job = await waitForState(client, id);
    expect(job.result).toBe(JobResult.COMPLETED);
    expect(job.returncode).toBe(0);
    expect(job.status).toBe("COMPLETED");
    expect(job.success).toBe(true);
    expect(job.command).toEqual(["echo", "pancakes 🥞"]);
    expect(job.name).toBe("echo");
    expect(await readOutput(client, id)).toEqual({ stdout: "pancakes 🥞\n", stderr: "" });
  });

  it("tells stdout and stderr apart", async () => {
    const { id } = await client.submitJob({ command: ["sh", "-c", "echo out; echo err >&2"] });
    await waitForState(client, id);
    expect(await readOutput(client, id)).toEqual({ stdout: "out\n", stderr: "err\n" });
  });

  it("reports exit 3 as FAILED with returncode 3", async () => {
    const { id } = await client.submitJob({ command: ["sh", "-c", "exit 3"] });
    const job = await waitForState(client, id);
    expect(job.result).toBe(JobResult.FAILED);
    expect(job.returncode).toBe(3);
    expect(job.waitstatus).toBe(3 << 8);
  });

  it("reports a task killed by a signal as FAILED with -signal", async () => {
    const { id } = await client.submitJob({ command: ["sh", "-c", "kill -9 $$"] });
    const job = await waitForState(client, id);
    expect(job.result).toBe(JobResult.FAILED);
    expect(job.returncode).toBe(-9);
  });

  it("ends a job past its time limit with TIMEOUT", async () => {
    const { id } = await client.submitJob({ command: ["sleep", "30"], timeLimitSeconds: 0.3 });
    const job = await waitForState(client, id);
    expect(job.result).toBe(JobResult.TIMEOUT);
    expect(job.exception?.type).toBe("timeout");
  });

  it("cancels a running job, then refuses to cancel it again", async () => {
    const { id } = await client.submitJob({ command: ["sleep", "30"] });
    await waitForState(client, id, JobState.RUN);
    await client.cancelJob({ id, message: "no longer needed" });
    const job = await waitForState(client, id);
    expect(job.result).toBe(JobResult.CANCELED);
    expect(job.exception).toMatchObject({ occurred: true, type: "cancel", severity: 0, note: "no longer needed" });
    expect((await codeOf(() => client.cancelJob({ id }))).code).toBe(Code.FailedPrecondition);
  });

  it("cancels a pending (held) job before it runs", async () => {
    const { id } = await client.submitJob({ command: ["true"], urgency: 0 });
    await waitForState(client, id, JobState.SCHED);
    await client.cancelJob({ id });
    const job = await waitForState(client, id);
    expect(job.result).toBe(JobResult.CANCELED);
    expect(job.returncode).toBe(-128);
    expect(job.tRun).toBe(0);
  });

  it("answers NotFound for an unknown id and InvalidArgument for a malformed one", async () => {
    expect((await codeOf(() => client.getJob({ id: "ƒ2222222" }))).code).toBe(Code.NotFound);
    const bad = await codeOf(() => client.getJob({ id: "notajobid" }));
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(bad.message).toContain("id");
  });

  it("follows the eventlog to its final event", async () => {
    const { id } = await client.submitJob({ command: ["true"] });
    const events: string[] = [];
    for await (const msg of client.watchJobEvents({ id })) events.push(msg.event!.name);
    expect(events[0]).toBe("submit");
    expect(events.at(-1)).toBe("clean");
    expect(events).toEqual(expect.arrayContaining(["validate", "depend", "priority", "alloc", "start", "finish", "release", "free"]));
  });
});

describe("SubmitJob validation", () => {
  let client: JobClient;
  beforeAll(() => {
    client = createClient(JobService, transports["connect-json-h1"]);
  });

  it.each([
    ["no command", {}, "command"],
    ["num_tasks 0", { command: ["true"], numTasks: 0 }, "num_tasks"],
    ["nodes > tasks", { command: ["true"], numTasks: 1, numNodes: 2 }, "num_nodes"],
    ["negative time limit", { command: ["true"], timeLimitSeconds: -1 }, "time_limit_seconds"],
    ["urgency 32", { command: ["true"], urgency: 32 }, "urgency"],
    ["gpus on a machine without gpus", { command: ["true"], gpusPerTask: 1 }, "gpus_per_task"],
    ["more cores than exist", { command: ["true"], coresPerTask: 1000 }, "cores_per_task"],
    ["exclusive without nodes", { command: ["true"], exclusive: true }, "exclusive"],
    ["relative workdir", { command: ["true"], workdir: "tmp" }, "workdir"],
  ])("refuses %s with InvalidArgument naming %s", async (_label, request, field) => {
    const { code, message } = await codeOf(() => client.submitJob(request));
    expect(code).toBe(Code.InvalidArgument);
    expect(message.startsWith(`${field}:`)).toBe(true);
  });
});
