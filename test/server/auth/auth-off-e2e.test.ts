/**
 * Auth off, end to end, in both modes: every call is the anonymous caller (the server's
 * user, a superuser), credentials are ignored, and jobs still see no secret.
 */
import os from "node:os";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../../../gen/flux/restful/v1/admin_service_pb.js";
import { AuthService } from "../../../gen/flux/restful/v1/auth_service_pb.js";
import { JobResult } from "../../../gen/flux/restful/v1/job_pb.js";
import { JobService } from "../../../gen/flux/restful/v1/job_service_pb.js";
import { readOutput, waitForState } from "../../support/job-helpers.js";
import { startTestServer, type TestServer } from "../../support/start-test-server.js";
import { createTransports, type TransportName } from "../../support/transports.js";
import { CHEAP_TUNING } from "./auth-harness.js";

const SECRET_KEY = "auth-off-shared-secret-0123456789abcdef";
const FLUX_TOKEN = "auth-off-flux-token-value";
const names: TransportName[] = ["connect-json-h1", "connect-binary-h2", "grpc", "grpc-web"];
const me = os.userInfo().username;
const garbage: Interceptor = (next) => (req) => {
  req.header.set("authorization", "Bearer garbage");
  return next(req);
};

describe.each(["single-user", "multi-user"] as const)("auth off, %s", (mode) => {
  let server: TestServer;
  beforeAll(async () => {
    process.env.FLUX_SECRET_KEY = SECRET_KEY;
    process.env.FLUX_TOKEN = FLUX_TOKEN;
    server = await startTestServer({
      env: { FLUX_SERVER_MODE: mode, FLUX_SECRET_KEY: SECRET_KEY, FLUX_USER: "fluxuser", FLUX_TOKEN, FLUX_RESTFUL_LOCAL_CORES: "8" },
      deps: { authTuning: CHEAP_TUNING },
    });
  });
  afterAll(async () => {
    await server?.close();
    delete process.env.FLUX_SECRET_KEY;
    delete process.env.FLUX_TOKEN;
  });

  it.each(names)("runs calls over %s as the server's user, ignoring credentials", async (name) => {
    const transport = createTransports(server.url, [garbage])[name];
    expect(await createClient(AuthService, transport).whoAmI({})).toMatchObject({
      authenticated: false,
      username: me,
      superuser: true,
      server: { serverMode: mode, authRequired: false, backend: "local" },
    });
    const jobs = createClient(JobService, transport);
    const { id } = await jobs.submitJob({ command: ["id", "-un"] });
    const job = await waitForState(jobs, id);
    expect(job.owner).toBe(me);
    expect(job.result).toBe(JobResult.COMPLETED);
    expect((await readOutput(jobs, id)).stdout).toBe(`${me}\n`);
    expect((await createClient(AdminService, transport).listUsers({})).users.map((u) => u.name)).toEqual(["fluxuser"]);
  });

  it("answers plain HTTP without credentials", async () => {
    const res = await fetch(`${server.url}/flux.restful.v1.JobService/ListJobs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(200);
    expect((await fetch(`${server.url}/v1/jobs`)).status).toBe(200);
  });

  it("shows a job running env no secret", async () => {
    const jobs = createClient(JobService, createTransports(server.url)["connect-json-h1"]);
    const { id } = await jobs.submitJob({ command: ["env"] });
    await waitForState(jobs, id);
    const { stdout } = await readOutput(jobs, id);
    expect(stdout).toMatch(/^PATH=/m);
    for (const secret of [SECRET_KEY, FLUX_TOKEN, "FLUX_SECRET_KEY", "FLUX_TOKEN"]) expect(stdout).not.toContain(secret);
  });

  it("states the mode at startup, and warns that multi-user needs auth", () => {
    const auth = server.logs.find((l) => l.msg === "auth");
    expect(auth).toMatchObject({ requireAuth: false, serverMode: mode });
    const warned = server.logs.some((l) => l.level === "warn" && String(l.msg).startsWith("multi-user mode with auth off"));
    expect(warned).toBe(mode === "multi-user");
    expect(JSON.stringify(server.logs)).not.toContain(SECRET_KEY);
    expect(JSON.stringify(server.logs)).not.toContain(FLUX_TOKEN);
  });
});
