/**
 * `buf curl` (Go, from the @bufbuild/buf package) as a grpcurl stand-in: it discovers the
 * schema by server reflection with the same Go descriptor validation grpcurl uses, then calls
 * the server over gRPC h2c, Connect and gRPC-Web.
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobService } from "../../../gen/flux/restful/v1/job_service_pb.js";
import { Health } from "../../../gen/grpc/health/v1/health_pb.js";
import { startTestServer, type TestServer } from "../../support/start-test-server.js";
import { CHEAP_TUNING } from "../auth/auth-harness.js";

const BUF = path.resolve("node_modules/.bin/buf");

interface CurlResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** buf's HOME (its cache and config): this file's own, not the runner's, which may be unset or shared. */
let bufHome: string;
beforeAll(async () => {
  bufHome = await fs.mkdtemp(path.join(os.tmpdir(), "buf-curl-home-"));
});
afterAll(async () => {
  if (bufHome) await fs.rm(bufHome, { recursive: true, force: true });
});

function bufCurl(args: string[]): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    execFile(BUF, ["curl", ...args], { timeout: 15_000, env: { PATH: process.env.PATH, HOME: bufHome } }, (err, stdout, stderr) => {
      if (err && typeof err.code !== "number") return reject(err);
      resolve({ exitCode: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}

describe("buf curl through server reflection", () => {
  let server: TestServer;
  const grpcArgs = ["--protocol", "grpc", "--http2-prior-knowledge"];
  const url = (procedure = "") => `${server.url}/${procedure}`;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it.each([["grpc-v1"], ["grpc-v1alpha"]])("lists the services (reflection %s)", async (reflectProtocol) => {
    const res = await bufCurl([...grpcArgs, "--reflect-protocol", reflectProtocol, "--list-services", url()]);
    expect(res).toMatchObject({ exitCode: 0, stderr: "" });
    expect(res.stdout.trim().split("\n")).toEqual(
      expect.arrayContaining([
        JobService.typeName,
        Health.typeName,
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
      ]),
    );
  });

  it("lists every JobService method", async () => {
    const res = await bufCurl([...grpcArgs, "--list-methods", url()]);
    expect(res.exitCode).toBe(0);
    const listed = res.stdout.trim().split("\n");
    expect(listed).toEqual(expect.arrayContaining(JobService.methods.map((m) => `${JobService.typeName}/${m.name}`)));
  });

  it("submits a job, follows it to COMPLETED and streams its output, all by reflection", async () => {
    const submit = await bufCurl([
      ...grpcArgs,
      "-d",
      JSON.stringify({ command: ["echo", "pancakes 🥞"], name: "by-buf-curl" }),
      url("flux.restful.v1.JobService/SubmitJob"),
    ]);
    expect(submit.exitCode).toBe(0);
    const { id } = JSON.parse(submit.stdout) as { id: string };
    expect(id).toMatch(/^ƒ/);

    let job: { state?: string; result?: string; returncode?: number; name?: string } = {};
    for (let i = 0; i < 100 && job.state !== "JOB_STATE_INACTIVE"; i++) {
      const get = await bufCurl([...grpcArgs, "-d", JSON.stringify({ id }), url("flux.restful.v1.JobService/GetJob")]);
      expect(get.exitCode).toBe(0);
      job = (JSON.parse(get.stdout) as { job: typeof job }).job;
    }
    expect(job).toMatchObject({ state: "JOB_STATE_INACTIVE", result: "JOB_RESULT_COMPLETED", returncode: 0, name: "by-buf-curl" });

    const stream = await bufCurl([...grpcArgs, "-d", JSON.stringify({ id }), url("flux.restful.v1.JobService/StreamJobOutput")]);
    expect(stream.exitCode).toBe(0);
    // buf curl prints each message as a JSON document; bytes fields are base64.
    const messages = stream.stdout.split(/\n(?=\{)/).map((s) => JSON.parse(s) as { chunk?: { data: string }; end?: unknown });
    const data = Buffer.concat(messages.filter((msg) => msg.chunk).map((msg) => Buffer.from(msg.chunk!.data, "base64")));
    expect(data.toString("utf8")).toBe("pancakes 🥞\n");
    expect(messages.at(-1)).toHaveProperty("end");
  });

  it.each([
    ["connect over HTTP/2", ["--protocol", "connect", "--http2-prior-knowledge"]],
    ["connect over HTTP/1.1", ["--protocol", "connect"]],
    ["grpc-web over HTTP/1.1", ["--protocol", "grpcweb"]],
  ])("calls ListJobs with %s", async (_name, args) => {
    const res = await bufCurl([...args, "-d", JSON.stringify({ name: "by-buf-curl" }), url("flux.restful.v1.JobService/ListJobs")]);
    expect(res.exitCode).toBe(0);
    expect(JSON.parse(res.stdout)).toHaveProperty("jobs");
  });

  it("reports NotFound for an unknown job, as the exit code buf curl derives from it", async () => {
    const res = await bufCurl([...grpcArgs, "-d", JSON.stringify({ id: "ƒ2Xyz9" }), url("flux.restful.v1.JobService/GetJob")]);
    // buf curl exits with 8 times the RPC's code; NotFound is 5.
    expect(res.exitCode).toBe(40);
    expect(res.stderr).toContain('"code": "not_found"');
  });

  it("reports a method the server does not have", async () => {
    const res = await bufCurl([...grpcArgs, "-d", "{}", url("flux.restful.v1.JobService/NoSuchMethod")]);
    expect(res.exitCode).not.toBe(0);
    expect(res.stderr).toContain("NoSuchMethod");
  });
});

describe("buf curl with auth required", () => {
  let server: TestServer;
  const grpcArgs = ["--protocol", "grpc", "--http2-prior-knowledge"];
  const basic = `Basic ${Buffer.from("boss:boss-pw-curl-271").toString("base64")}`;

  beforeAll(async () => {
    server = await startTestServer({
      env: {
        FLUX_REQUIRE_AUTH: "true",
        FLUX_SECRET_KEY: "buf-curl-shared-secret-0123456789abcdefgh",
        FLUX_RESTFUL_TOKEN_KEY: "buf-curl-server-only-token-key-0123456789ab",
        FLUX_USER: "boss",
        FLUX_TOKEN: "boss-pw-curl-271",
      },
      deps: { authTuning: CHEAP_TUNING },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("reflects and checks health without credentials, but calls JobService only with them", async () => {
    const list = await bufCurl([...grpcArgs, "--list-services", server.url]);
    expect(list.exitCode).toBe(0);
    expect(list.stdout).toContain(JobService.typeName);
    const health = await bufCurl([...grpcArgs, "-d", "{}", `${server.url}/grpc.health.v1.Health/Check`]);
    expect(JSON.parse(health.stdout)).toEqual({ status: "SERVING" });

    const body = JSON.stringify({ command: ["true"] });
    const anonymous = await bufCurl([...grpcArgs, "-d", body, `${server.url}/flux.restful.v1.JobService/SubmitJob`]);
    expect(anonymous.exitCode).toBe(16 * 8); // Unauthenticated
    const authorized = await bufCurl([
      ...grpcArgs,
      "-H",
      `Authorization: ${basic}`,
      "-d",
      body,
      `${server.url}/flux.restful.v1.JobService/SubmitJob`,
    ]);
    expect(authorized.exitCode).toBe(0);
    expect(JSON.parse(authorized.stdout)).toHaveProperty("id");
  });
});
