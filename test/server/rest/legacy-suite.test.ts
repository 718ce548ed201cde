/**
 * flux-restful-api 0.2's own tests, replayed with plain HTTP against this server, with auth
 * off and on (legacy-rest-v1.md section 8.1: tests/test_api.py and its CI runs; section 8.2:
 * the 0.2.1 client's tests, through a replay of the client's request sequences, 2.4 and 4).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccessTokens } from "../../../server/auth/access-tokens.js";
import { CHEAP_TUNING } from "../auth/auth-harness.js";
import { startTestServer, type TestServer } from "../../support/start-test-server.js";
import { LegacyClient } from "./legacy-client.js";
import { createRestClient, legacyPayload, request, type RestResponse } from "./rest-helpers.js";

// The values of 0.2's CI, on purpose (the server warns about them).
const FLUX_USER = "fluxuser";
const FLUX_TOKEN = "12345";
const SECRET_KEY = "notsosecrethoo";
const TOKEN_KEY = "legacy-suite-server-only-token-key-0123456789";

type Mode = "auth off" | "auth on";
const MODES: Mode[] = ["auth off", "auth on"];

async function startServer(mode: Mode): Promise<TestServer> {
  return startTestServer({
    env: {
      FLUX_RESTFUL_LOCAL_CORES: "16",
      ...(mode === "auth on"
        ? { FLUX_REQUIRE_AUTH: "true", FLUX_USER, FLUX_TOKEN, FLUX_SECRET_KEY: SECRET_KEY, FLUX_RESTFUL_TOKEN_KEY: TOKEN_KEY }
        : {}),
    },
    deps: { authTuning: CHEAP_TUNING },
  });
}

/** Polls until the job is INACTIVE (0.2's tests slept a fixed time instead). */
async function untilInactive(server: TestServer, id: bigint, authorization?: string) {
  await createRestClient(server.url, () => authorization).waitFor(id);
}

describe.each(MODES)("0.2 server test suite (tests/test_api.py), %s", (mode) => {
  let server: TestServer;
  let token: string | undefined;

  beforeAll(async () => {
    server = await startServer(mode);
  });
  afterAll(async () => {
    await server?.close();
  });

  /** 0.2's `authenticate` harness: with auth, the first request must be 401 with WWW-Authenticate. */
  async function authenticate(endpoint: string, method: "GET" | "POST", opts: { params?: Record<string, string>; json?: unknown } = {}, expected = 200) {
    const url = `${server.url}${endpoint}${opts.params ? `?${new URLSearchParams(opts.params)}` : ""}`;
    const send = (authorization?: string) =>
      request(url, {
        method,
        headers: { ...(authorization ? { authorization } : {}), ...(opts.json !== undefined ? { "content-type": "application/json" } : {}) },
        body: opts.json !== undefined ? JSON.stringify(opts.json) : undefined,
      });
    if (mode === "auth on" && token === undefined) {
      const first = await send();
      expect(first.status).toBe(401);
      expect(first.headers.has("www-authenticate")).toBe(true);
      const res = await request(`${server.url}/v1/token`, {
        method: "POST",
        headers: { authorization: `Bearer ${await legacyPayload(FLUX_USER, FLUX_TOKEN, SECRET_KEY)}` },
      });
      expect(res.status).toBe(200);
      expect(res.json).toHaveProperty("access_token");
      expect(res.json).toHaveProperty("token_type");
      token = res.json.access_token;
    }
    const res = await send(token ? `Bearer ${token}` : undefined);
    expect(res.status, res.text).toBe(expected);
    return res;
  }

  it("test_submit_list_job", async () => {
    expect((await authenticate("/v1/jobs", "GET")).json.jobs).toEqual([]);
    const submitted = await authenticate("/v1/jobs/submit", "POST", { params: { command: "sleep 5" } });
    expect(submitted.json).toHaveProperty("id");
    const jobid = submitted.ids[0]!;

    const jobs = (await authenticate("/v1/jobs", "GET")).json.jobs;
    expect(jobs).toHaveLength(1);
    expect((await authenticate("/v1/jobs", "GET")).ids).toEqual([jobid]);

    const detailed = await authenticate("/v1/jobs", "GET", { params: { details: "true" } });
    expect(Object.keys(detailed.json)).toContain(String(jobid));
    expect(Object.keys(detailed.json[String(jobid)]).length).toBeGreaterThan(20);
    expect(detailed.ids[0]).toBe(jobid);

    const listing = await authenticate("/v1/jobs", "GET", { params: { details: "true", listing: "true" } });
    expect(listing.ids[0]).toBe(jobid);

    const none = await authenticate("/v1/jobs", "GET", { params: { details: "true", limit: "0" } });
    expect(Object.keys(none.json)).toHaveLength(0);
    await authenticate(`/v1/jobs/${jobid}/cancel`, "POST");
  });

  it("test_cancel_job", async () => {
    const jobid = (await authenticate("/v1/jobs/submit", "POST", { params: { command: "sleep 10" } })).ids[0]!;
    await authenticate(`/v1/jobs/${jobid}/cancel`, "POST", {}, 200);
  });

  it("test_submit_option_flags", async () => {
    const res = await authenticate("/v1/jobs/submit", "POST", { params: { command: "sleep 1", option_flags: "ompi=openmpi@5" } });
    expect(res.json).toHaveProperty("id");
  });

  it("test_job_output", async () => {
    const jobid = (await authenticate("/v1/jobs/submit", "POST", { params: { command: "echo pancakes 🥞️🥞️🥞️" } })).ids[0]!;
    const early = (await authenticate(`/v1/jobs/${jobid}/output`, "GET")).json;
    if ("Message" in early) expect(early.Message).toContain("not exist yet");
    await untilInactive(server, jobid, token && `Bearer ${token}`);
    const output = (await authenticate(`/v1/jobs/${jobid}/output`, "GET")).json;
    expect(output.Output).toContain("pancakes 🥞️🥞️🥞️\n");
  });

  it("test_job_query", async () => {
    for (let i = 0; i < 5; i++) await authenticate("/v1/jobs/submit", "POST", { params: { command: "sleep 1" } });
    const all = (await authenticate("/v1/jobs/search", "GET")).json;
    for (const key of ["recordsTotal", "recordsFiltered", "draw", "data"]) expect(all).toHaveProperty(key);
    expect(all.data).toHaveLength(all.recordsTotal);
    const total = all.recordsTotal;
    const skipped = (await authenticate("/v1/jobs/search", "GET", { params: { start: "1" } })).json;
    expect(skipped.recordsFiltered).toBe(total - 1);
    expect(skipped.recordsTotal).toBe(total);
    const three = (await authenticate("/v1/jobs/search", "GET", { params: { length: "3" } })).json;
    expect(three.recordsFiltered).toBe(3);
  });
});

describe.each(MODES)("0.2.1 client test suite (flux_restful_client/tests/test_api.py), %s", (mode) => {
  let server: TestServer;
  let client: LegacyClient;

  beforeAll(async () => {
    server = await startServer(mode);
    client = new LegacyClient({ host: server.url, user: FLUX_USER, token: FLUX_TOKEN, secretKey: SECRET_KEY });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("test_list_nodes", async () => {
    const res = (await client.listNodes()).json;
    expect(res.nodes).toHaveLength(1);
  });

  it("test_submit_list_job", async () => {
    const before = await client.jobs();
    expect(before.json).toEqual({ jobs: [] });
    const res = await client.submit("sleep 5");
    expect(res.status, res.text).toBe(200);
    expect(res.json).toHaveProperty("Message");
    expect(res.json).toHaveProperty("id");
    const listed = await client.jobs();
    expect(listed.json.jobs).toHaveLength(1);
    expect(listed.ids).toEqual([res.ids[0]]);
    await client.cancel(res.ids[0]!);
  });

  it("test_cancel_job", async () => {
    const jobid = (await client.submit("sleep 60")).ids[0]!;
    expect((await client.cancel(jobid)).json.Message).toContain("requested to cancel");
    await untilInactive(server, jobid, client.headers.Authorization);
    expect((await client.cancel(jobid)).json.Message).toContain("cannot be cancelled");
  });

  it("test_job_output", async () => {
    const jobid = (await client.submit("echo pancakes 🥞️🥞️🥞️")).ids[0]!;
    await untilInactive(server, jobid, client.headers.Authorization);
    expect((await client.output(jobid)).json.Output).toContain("pancakes 🥞️🥞️🥞️\n");
  });

  it("test_option_flags", async () => {
    const res = (await client.submit("sleep 1", { option_flags: { "-ompi": "noodles" } })).json;
    expect(res.Errors.length).toBeGreaterThan(0);
    expect(res.Errors[0]).toContain("keys without -o");
  });

  it("test_job_query", async () => {
    for (let i = 0; i < 5; i++) await client.submit("sleep 1");
    const res = (await client.search(undefined, 1, 3)).json;
    expect(res.recordsFiltered).toBe(3);
  });

  it("sends the aliases 0.2 ignored (detail, query), and gets what they ask for", async () => {
    const jobid = (await client.submit("echo alias-check")).ids[0]!;
    const detailed = await client.jobs(undefined, true);
    expect(detailed.json[String(jobid)].name).toBe("echo");
    const listing = await client.jobs(undefined, true, true);
    expect(Array.isArray(listing.json)).toBe(true);
    const found = (await client.search("alias-check")).json;
    expect(found.data.map((j: { id: number }) => j.id)).toHaveLength(1);
    expect(found.recordsTotal).toBeGreaterThan(1);
  });

  it("sends envars (0.2 dropped them), as query or form fields", async () => {
    for (const postStyle of ["params", "form"] as const) {
      const c = new LegacyClient({ host: server.url, user: FLUX_USER, token: FLUX_TOKEN, secretKey: SECRET_KEY, postStyle });
      if (client.headers.Authorization) c.headers.Authorization = client.headers.Authorization;
      const res = await c.submit(["printenv", "PANCAKE"], { envars: { PANCAKE: `it's a "🥞"` }, num_tasks: 1, exclusive: null });
      expect(res.status, res.text).toBe(200);
      await untilInactive(server, res.ids[0]!, c.headers.Authorization);
      expect((await c.output(res.ids[0]!)).json.Output, postStyle).toEqual([`it's a "🥞"\n`]);
    }
  });
});

describe("0.2.1 client request sequences with auth on (section 2.4)", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer("auth on");
  });
  afterAll(async () => {
    await server?.close();
  });

  const fresh = (postStyle: "params" | "form" = "params") =>
    new LegacyClient({ host: server.url, user: FLUX_USER, token: FLUX_TOKEN, secretKey: SECRET_KEY, postStyle });
  const statuses = (c: LegacyClient) => c.log.map((l) => `${l.method} ${l.path.split("?")[0]} ${l.status}`);

  it("succeeds on the first authenticated submit, which the client resends as a JSON body", async () => {
    for (const style of ["params", "form"] as const) {
      const c = fresh(style);
      const res = await c.submit("echo first submit", { num_tasks: 1, option_flags: { "cpu-affinity": "off" } });
      expect(res.status, res.text).toBe(200);
      expect(statuses(c)).toEqual(["POST /v1/jobs/submit 401", "POST /v1/token 200", "POST /v1/jobs/submit 200"]);
      await untilInactive(server, res.ids[0]!, c.headers.Authorization);
      expect((await c.output(res.ids[0]!)).json.Output).toEqual(["first submit\n"]);
    }
  });

  it("answers the first GET after the token dance (the client drops its query parameters)", async () => {
    const c = fresh();
    const res = await c.jobs(undefined, true);
    expect(res.status).toBe(200);
    expect(res.json).toHaveProperty("jobs");
    expect(c.log.map((l) => l.path)).toEqual(["/v1/jobs?detail=true", "/v1/token", "/v1/jobs"]);
    // With the token cached, the parameters arrive.
    expect(Array.isArray((await c.jobs(undefined, true, true)).json)).toBe(true);
  });

  it("gets 401 (not 403) for an expired token, and the client-style retry succeeds", async () => {
    const user = server.server.auth.users.get(FLUX_USER)!;
    const expired = await createAccessTokens({ key: new TextEncoder().encode(TOKEN_KEY), expiresMinutes: -1 }).issue(user);
    const c = fresh();
    c.setBearerAuth(expired.token);
    const res = await c.submit("true");
    expect(res.status, res.text).toBe(200);
    expect(statuses(c)).toEqual(["POST /v1/jobs/submit 401", "POST /v1/token 200", "POST /v1/jobs/submit 200"]);
    expect(c.headers.Authorization).not.toBe(`Bearer ${expired.token}`);
  });

  it("gives up cleanly when the token exchange is denied: 400, never a 401 that would make it recurse", async () => {
    const c = new LegacyClient({ host: server.url, user: FLUX_USER, token: "wrong password", secretKey: SECRET_KEY });
    const res = await c.listNodes();
    expect(res.status).toBe(401);
    expect(statuses(c)).toEqual(["GET /v1/nodes 401", "POST /v1/token 400"]);
    const wrongSecret = new LegacyClient({ host: server.url, user: FLUX_USER, token: FLUX_TOKEN, secretKey: "not-the-secret" });
    expect((await wrongSecret.listNodes()).status).toBe(401);
    expect(statuses(wrongSecret)).toEqual(["GET /v1/nodes 401", "POST /v1/token 400"]);
  });

  it("accepts the Basic credentials the client's examples set, without the token dance", async () => {
    const c = fresh();
    c.setBasicAuth(FLUX_USER, FLUX_TOKEN);
    const res: RestResponse = await c.submit("true");
    expect(res.status).toBe(200);
    expect(statuses(c)).toEqual(["POST /v1/jobs/submit 200"]);
  });
});
