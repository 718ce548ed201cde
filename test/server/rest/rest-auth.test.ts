/**
 * The legacy routes with auth on: every /v1 route but the token routes needs credentials
 * (the output stream too, unlike 0.2), the token routes answer 0.2's shapes, and
 * ownership and superuser rules are the services' own.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHEAP_TUNING } from "../auth/auth-harness.js";
import { startTestServer, type TestServer } from "../../support/start-test-server.js";
import { createRestClient, legacyPayload, request } from "./rest-helpers.js";

const SECRET_KEY = "rest-auth-shared-secret-0123456789abcdefgh";
const TOKEN_KEY = "rest-auth-server-only-token-key-0123456789abc";
const BOSS_PW = "boss-pw-rest-314";

let server: TestServer;
let stops = 0;
const bearer: Record<string, string> = {};
const basic = (name: string, pw: string) => `Basic ${Buffer.from(`${name}:${pw}`).toString("base64")}`;

beforeAll(async () => {
  server = await startTestServer({
    env: {
      FLUX_REQUIRE_AUTH: "true",
      FLUX_SECRET_KEY: SECRET_KEY,
      FLUX_RESTFUL_TOKEN_KEY: TOKEN_KEY,
      FLUX_USER: "boss",
      FLUX_TOKEN: BOSS_PW,
      FLUX_RESTFUL_LOCAL_CORES: "8",
    },
    deps: { authTuning: CHEAP_TUNING, requestStop: () => void stops++ },
  });
  await server.server.auth.users.create({ name: "alice", password: "alice-pw", superuser: false });
  await server.server.auth.users.create({ name: "bob", password: "bob-pw", superuser: false });
  for (const [name, pw] of [["alice", "alice-pw"], ["bob", "bob-pw"], ["boss", BOSS_PW]] as const) {
    const res = await request(`${server.url}/v1/login/access-token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ username: name, password: pw, grant_type: "password" }).toString(),
    });
    expect(res.status, res.text).toBe(200);
    bearer[name] = `Bearer ${res.json.access_token}`;
  }
});
afterAll(async () => {
  await server?.close();
});

const as = (who: string) => createRestClient(server.url, () => bearer[who]);

describe("without credentials", () => {
  it("answers 401 with WWW-Authenticate and 0.2's detail on every /v1 route but the token routes", async () => {
    const routes: [string, string][] = [
      ["GET", "/v1/jobs"],
      ["GET", "/v1/jobs/search"],
      ["POST", "/v1/jobs/submit?command=true"],
      ["GET", "/v1/jobs/1"],
      ["POST", "/v1/jobs/1/cancel"],
      ["GET", "/v1/jobs/1/output"],
      ["GET", "/v1/jobs/1/output/stream"],
      ["GET", "/v1/nodes"],
      ["POST", "/v1/service/stop"],
    ];
    for (const [method, path] of routes) {
      for (const authorization of [undefined, "Bearer not-a-token", basic("alice", "wrong")]) {
        const res = await request(`${server.url}${path}`, { method, headers: authorization ? { authorization } : {} });
        expect(res.status, `${method} ${path} ${authorization}`).toBe(401);
        expect(res.headers.get("www-authenticate"), path).toMatch(/^Bearer realm="flux-restful"/);
        expect(res.json.detail).toBe("Not authenticated");
        // Nothing of the in-memory Connect call leaks onto the REST answer.
        expect(res.headers.get("content-type")).toBe("application/json");
        expect([...res.headers.keys()].filter((k) => k.startsWith("connect-") || k.startsWith("grpc-"))).toEqual([]);
      }
    }
    expect(stops).toBe(0);
  });

  it("hands the auth layer the client's real address, which a header cannot fake", async () => {
    const res = await request(`${server.url}/v1/nodes`, {
      headers: { authorization: basic("peer-check", "wrong"), "x-flux-restful-rest-peer": "203.0.113.9" },
    });
    expect(res.status).toBe(401);
    const line = server.logs.find((l) => l.msg === "authentication failed" && l.user === "peer-check");
    expect(line?.peer).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
  });

  it("serves /openapi.json and the home page", async () => {
    expect((await request(`${server.url}/openapi.json`)).status).toBe(200);
    expect((await request(`${server.url}/`)).status).toBe(200);
  });
});

describe("POST /v1/token", () => {
  it("exchanges the signed payload, with or without the Bearer word, for a token that works", async () => {
    const payload = await legacyPayload("alice", "alice-pw", SECRET_KEY);
    for (const authorization of [`Bearer ${payload}`, payload]) {
      const res = await request(`${server.url}/v1/token`, { method: "POST", headers: { authorization } });
      expect(res.status).toBe(200);
      expect(res.json.token_type).toBe("Bearer");
      const jobs = await request(`${server.url}/v1/jobs`, { headers: { authorization: `Bearer ${res.json.access_token}` } });
      expect(jobs.status).toBe(200);
    }
  });

  it("answers 400 Denied, never 401, for missing or refused credentials", async () => {
    const cases: [string, Record<string, string>][] = [
      ["no header", {}],
      ["garbage", { authorization: "Bearer garbage" }],
      ["wrong secret", { authorization: `Bearer ${await legacyPayload("alice", "alice-pw", "another-secret-entirely-0123456789")}` }],
      ["wrong password", { authorization: `Bearer ${await legacyPayload("alice", "nope", SECRET_KEY)}` }],
      ["unknown user", { authorization: `Bearer ${await legacyPayload("mallory", "x", SECRET_KEY)}` }],
      ["an access token", { authorization: bearer.alice! }],
    ];
    for (const [name, headers] of cases) {
      const res = await request(`${server.url}/v1/token`, { method: "POST", headers });
      expect(res.status, name).toBe(400);
      expect(res.json.Message, name).toBe("Denied");
    }
  });
});

describe("POST /v1/login/access-token", () => {
  const login = (fields: Record<string, string>) =>
    request(`${server.url}/v1/login/access-token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
    });

  it("answers a token for a name and password (form, or JSON)", async () => {
    const res = await login({ username: "bob", password: "bob-pw" });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ access_token: expect.any(String), token_type: "Bearer" });
    const json = await request(`${server.url}/v1/login/access-token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "bob", password: "bob-pw" }),
    });
    expect(json.status).toBe(200);
  });

  it("answers 400 for a wrong password or a bad form", async () => {
    const wrong = await login({ username: "bob", password: "nope" });
    expect(wrong.status).toBe(400);
    expect(wrong.json).toMatchObject({ Message: "Denied", detail: "Incorrect email or password" });
    const cases: [Record<string, string>, string][] = [
      [{ password: "x" }, "username: is required"],
      [{ username: "bob" }, "password: is required"],
      [{ username: "bob", password: "bob-pw", grant_type: "client_credentials" }, 'grant_type: must be "password"'],
      [{ username: "bob", password: "bob-pw", extra: "1" }, "extra: unknown field"],
    ];
    for (const [fields, error] of cases) {
      const res = await login(fields);
      expect(res.status, error).toBe(400);
      expect(res.json.Errors.join(" "), error).toContain(error);
    }
  });
});

describe("with credentials", () => {
  it("answers every route to a bearer token and to HTTP Basic", async () => {
    for (const authorization of [bearer.alice!, basic("alice", "alice-pw")]) {
      const api = createRestClient(server.url, () => authorization);
      const id = await api.submit("echo pancakes 🥞");
      await api.waitFor(id);
      expect((await api.get(`/v1/jobs/${id}`)).json.owner).toBe("alice");
      expect((await api.get(`/v1/jobs/${id}/output`)).json.Output).toEqual(["pancakes 🥞\n"]);
      const stream = await fetch(`${server.url}/v1/jobs/${id}/output/stream`, { headers: { authorization } });
      expect(await stream.text()).toBe("pancakes 🥞\n");
      expect((await api.get("/v1/jobs")).ids).toContain(id);
      expect((await api.get("/v1/jobs/search")).ids).toContain(id);
      expect((await api.get("/v1/nodes")).json.nodes).toHaveLength(1);
    }
  });

  it("keeps users to their own jobs; a superuser sees and cancels everyone's", async () => {
    const alice = as("alice");
    const bob = as("bob");
    const boss = as("boss");
    const id = await alice.submit("sleep 30");
    for (const res of [
      await bob.get(`/v1/jobs/${id}`),
      await bob.get(`/v1/jobs/${id}/output`),
      await bob.post(`/v1/jobs/${id}/cancel`),
      await request(`${server.url}/v1/jobs/${id}/output/stream`, { headers: { authorization: bearer.bob! } }),
    ]) {
      expect(res.status).toBe(403);
      expect(res.json.Message).toContain("another user");
    }
    expect((await bob.get("/v1/jobs")).ids).not.toContain(id);
    expect((await bob.get("/v1/jobs/search")).ids).not.toContain(id);
    expect((await boss.get("/v1/jobs")).ids).toContain(id);
    const canceled = await boss.post(`/v1/jobs/${id}/cancel`);
    expect(canceled.status).toBe(200);
    expect((await alice.waitFor(id)).json.result).toBe("CANCELED");
  });

  it("lets only a superuser stop the service", async () => {
    const denied = await as("alice").post("/v1/service/stop");
    expect(denied.status).toBe(403);
    expect(stops).toBe(0);
    const ok = await as("boss").post("/v1/service/stop");
    expect(ok.status).toBe(200);
    expect(ok.text).toBe("null");
    await new Promise((r) => setTimeout(r, 100));
    expect(stops).toBe(1);
  });
});
