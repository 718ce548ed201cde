/**
 * Auth end to end: a real server on port 0 with the local backend, auth on, called by
 * alice, bob and a superuser over each Connect-ES transport and over plain HTTP.
 */
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../../../gen/flux/restful/v1/admin_service_pb.js";
import { AuthService } from "../../../gen/flux/restful/v1/auth_service_pb.js";
import { JobState } from "../../../gen/flux/restful/v1/job_pb.js";
import { JobService } from "../../../gen/flux/restful/v1/job_service_pb.js";
import { readOutput, waitForState } from "../../support/job-helpers.js";
import { startTestServer, type TestServer } from "../../support/start-test-server.js";
import { createTransports, type TransportName } from "../../support/transports.js";
import { basicHeader, CHEAP_TUNING } from "./auth-harness.js";

const SECRET_KEY = "e2e-shared-secret-key-abcdefghijklmnop";
const TOKEN_KEY = "e2e-server-only-token-key-0123456789abcdef";
const BOSS_PW = "boss-pw-e2e-771";
const names: TransportName[] = ["connect-json-h1", "connect-binary-h2", "grpc", "grpc-web"];

const withAuthorization = (value: string): Interceptor => (next) => (req) => {
  req.header.set("authorization", value);
  return next(req);
};
const errorOf = async (fn: () => Promise<unknown>) => {
  try {
    await fn();
  } catch (e) {
    return ConnectError.from(e);
  }
  throw new Error("expected the call to fail");
};
const drain = async (it: AsyncIterable<unknown>) => {
  for await (const _ of it);
};

let server: TestServer;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  // Also in the real environment: a backend that leaked process.env would show them to jobs.
  Object.assign(process.env, { FLUX_SECRET_KEY: SECRET_KEY, FLUX_TOKEN: BOSS_PW, FLUX_RESTFUL_TOKEN_KEY: TOKEN_KEY });
  server = await startTestServer({
    env: {
      FLUX_REQUIRE_AUTH: "true",
      FLUX_SECRET_KEY: SECRET_KEY,
      FLUX_USER: "boss",
      FLUX_TOKEN: BOSS_PW,
      FLUX_RESTFUL_TOKEN_KEY: TOKEN_KEY,
      FLUX_RESTFUL_LOCAL_CORES: "8",
    },
    deps: { authTuning: CHEAP_TUNING },
  });
  await server.server.auth.users.create({ name: "alice", password: "alice-pw", superuser: false });
  await server.server.auth.users.create({ name: "bob", password: "bob-pw", superuser: false });
  const auth = createClient(AuthService, createTransports(server.url)["connect-json-h1"]);
  for (const [name, password] of [["alice", "alice-pw"], ["bob", "bob-pw"], ["boss", BOSS_PW]]) {
    tokens[name!] = (await auth.createToken({ credentials: { case: "password", value: { username: name!, password: password! } } })).accessToken;
  }
});
afterAll(async () => {
  await server?.close();
  for (const k of ["FLUX_SECRET_KEY", "FLUX_TOKEN", "FLUX_RESTFUL_TOKEN_KEY"]) delete process.env[k];
});

describe.each(names)("auth on, over %s", (name) => {
  const jobs = (authorization?: string) =>
    createClient(JobService, createTransports(server.url, authorization ? [withAuthorization(authorization)] : [])[name]);

  it("refuses unary and streaming job RPCs without credentials: Unauthenticated with WWW-Authenticate", async () => {
    const anonymous = jobs();
    for (const call of [
      () => anonymous.listJobs({}),
      () => anonymous.submitJob({ command: ["true"] }),
      () => anonymous.listNodes({}),
      () => drain(anonymous.watchJobEvents({ id: "ƒ1" })),
    ]) {
      const err = await errorOf(call);
      expect(err.code).toBe(Code.Unauthenticated);
      expect(err.metadata.get("www-authenticate")).toBe('Bearer realm="flux-restful"');
    }
    const bad = await errorOf(() => jobs("Bearer not-a-token").listJobs({}));
    expect(bad.code).toBe(Code.Unauthenticated);
    expect(bad.metadata.get("www-authenticate")).toContain('error="invalid_token"');
  });

  it("runs a job for its owner; another user gets PermissionDenied on every job RPC", async () => {
    const alice = jobs(`Bearer ${tokens.alice}`);
    const bob = jobs(basicHeader("bob", "bob-pw"));
    const boss = jobs(`Bearer ${tokens.boss}`);
    const { id } = await alice.submitJob({ command: ["sh", "-c", "echo from-alice; sleep 30"] });
    await waitForState(alice, id, JobState.RUN);
    expect((await alice.getJob({ id })).job?.owner).toBe("alice");

    for (const call of [
      () => bob.getJob({ id }),
      () => bob.getJobOutput({ id }),
      () => drain(bob.streamJobOutput({ id })),
      () => drain(bob.watchJobEvents({ id })),
      () => bob.cancelJob({ id }),
    ]) {
      expect(Code[(await errorOf(call)).code]).toBe("PermissionDenied");
    }
    expect((await alice.getJob({ id })).job?.state).toBe(JobState.RUN);

    expect((await alice.listJobs({})).jobs.map((j) => j.id)).toContain(id);
    expect((await bob.listJobs({})).jobs.map((j) => j.id)).not.toContain(id);
    expect(Code[(await errorOf(() => bob.listJobs({ user: "alice" }))).code]).toBe("PermissionDenied");
    const all = await boss.listJobs({});
    expect(all.jobs.map((j) => j.id)).toContain(id);
    const filtered = await boss.listJobs({ user: "alice" });
    expect(filtered.jobs.length).toBeGreaterThan(0);
    expect(filtered.jobs.every((j) => j.owner === "alice")).toBe(true);
    expect((await boss.getJob({ id })).job?.id).toBe(id);

    await alice.cancelJob({ id });
    await waitForState(alice, id);
    expect((await readOutput(alice, id)).stdout).toBe("from-alice\n");
  });

  it("refuses the tokens of a deactivated and of a deleted user", async () => {
    const admin = createClient(AdminService, createTransports(server.url, [withAuthorization(`Bearer ${tokens.boss}`)])[name]);
    const user = `gone_${name.replace(/-/g, "_")}`;
    await admin.createUser({ name: user, password: "pw" });
    const auth = createClient(AuthService, createTransports(server.url)[name]);
    const token = (await auth.createToken({ credentials: { case: "password", value: { username: user, password: "pw" } } })).accessToken;
    const client = jobs(`Bearer ${token}`);
    await client.listJobs({});
    await admin.setUserActive({ name: user, active: false });
    expect((await errorOf(() => client.listJobs({}))).code).toBe(Code.Unauthenticated);
    await admin.setUserActive({ name: user, active: true });
    await admin.deleteUser({ name: user });
    expect((await errorOf(() => client.listJobs({}))).code).toBe(Code.Unauthenticated);
  });
});

describe("auth on, over plain HTTP", () => {
  it("answers 401 with WWW-Authenticate for a Connect JSON call without credentials, 200 with them", async () => {
    const post = (authorization?: string) =>
      fetch(`${server.url}/flux.restful.v1.JobService/ListJobs`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
        body: "{}",
      });
    const refused = await post();
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toBe('Bearer realm="flux-restful"');
    expect(await refused.json()).toEqual({ code: "unauthenticated", message: "missing credentials" });
    const ok = await post(`Bearer ${tokens.alice}`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toHaveProperty("jobs");
  });

  it("keeps health and readiness public", async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });
});

describe("secrets and logs", () => {
  it("shows a job running env no secret", async () => {
    const alice = createClient(JobService, createTransports(server.url, [withAuthorization(`Bearer ${tokens.alice}`)])["connect-json-h1"]);
    const { id } = await alice.submitJob({ command: ["env"], environment: { MINE: "visible" } });
    await waitForState(alice, id);
    const { stdout } = await readOutput(alice, id);
    expect(stdout).toContain("MINE=visible");
    for (const secret of [SECRET_KEY, BOSS_PW, TOKEN_KEY, "FLUX_SECRET_KEY", "FLUX_TOKEN", "FLUX_RESTFUL_TOKEN_KEY"]) {
      expect(stdout).not.toContain(secret);
    }
  });

  it("logs one line per request with user, procedure, code and duration, and never a secret", async () => {
    const alice = createClient(JobService, createTransports(server.url, [withAuthorization(`Bearer ${tokens.alice}`)])["grpc"]);
    const before = server.logs.length;
    await alice.listNodes({});
    await errorOf(() => createClient(JobService, createTransports(server.url)["grpc"]).listNodes({}));
    const lines = server.logs.slice(before).filter((l) => l.msg === "rpc");
    expect(lines).toEqual([
      expect.objectContaining({ procedure: "flux.restful.v1.JobService/ListNodes", user: "alice", code: "ok", durationMs: expect.any(Number) }),
      expect.objectContaining({ procedure: "flux.restful.v1.JobService/ListNodes", code: "unauthenticated" }),
    ]);
    const text = JSON.stringify(server.logs);
    for (const secret of [SECRET_KEY, BOSS_PW, TOKEN_KEY, "alice-pw", "bob-pw", ...Object.values(tokens)]) {
      expect(text).not.toContain(secret);
    }
  });
});

// Last: the burst leaves this address slowed down for any later password check.
describe("a burst of wrong passwords, over plain HTTP", () => {
  it("gets 401 for each wrong password, then 429 once the address is slowed down", async () => {
    const post = (password: string) =>
      fetch(`${server.url}/flux.restful.v1.JobService/ListJobs`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: basicHeader("alice", password) },
        body: "{}",
      });
    const sequential = [];
    for (let i = 0; i < 4; i++) sequential.push((await post(`wrong-${i}`)).status);
    expect(sequential).toEqual([401, 401, 401, 401]);
    const burst = await Promise.all(Array.from({ length: 6 }, (_, i) => post(`burst-${i}`).then((r) => r.status)));
    expect(burst).toContain(429);
    expect(burst.every((s) => s === 401 || s === 429)).toBe(true);
    expect(server.logs.some((l) => l.msg === "authentication throttled" && l.user === "alice")).toBe(true);
  });
});
