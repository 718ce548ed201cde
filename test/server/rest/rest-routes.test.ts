/**
 * Every legacy route, parameter and error case with auth off, over plain HTTP/1.1 against a
 * real server with the local backend.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatJobId } from "../../../server/backends/jobid.js";
import { startTestServer, type TestServer } from "../../support/start-test-server.js";
import { createRestClient, request, type RestClient } from "./rest-helpers.js";

let server: TestServer;
let api: RestClient;
let stops = 0;
let launcherDir: string;

beforeAll(async () => {
  launcherDir = await fs.mkdtemp(path.join(os.tmpdir(), "rest-launcher-"));
  await fs.writeFile(path.join(launcherDir, "nextflow"), '#!/bin/sh\necho "launched $*"\n', { mode: 0o755 });
  server = await startTestServer({
    env: { FLUX_RESTFUL_LOCAL_CORES: "8", FLUX_RESTFUL_MAX_REQUEST_BYTES: "65536" },
    deps: { requestStop: () => void stops++ },
  });
  api = createRestClient(server.url);
});
afterAll(async () => {
  await server?.close();
  await fs.rm(launcherDir, { recursive: true, force: true });
});

describe("GET /v1/jobs", () => {
  it("lists nothing on a new server, then the jobs newest first, in every 0.2 shape", async () => {
    expect((await api.get("/v1/jobs")).json).toEqual({ jobs: [] });
    const first = await api.submit("true");
    const second = await api.submit("true");
    await api.waitFor(first);
    await api.waitFor(second);

    const plain = await api.get("/v1/jobs");
    expect(plain.status).toBe(200);
    expect(plain.ids.slice(0, 2)).toEqual([second, first]);
    expect(plain.json.jobs[0].state).toBe("INACTIVE");

    const keyed = await api.get("/v1/jobs?details=true");
    // The order lives in the text: JSON.parse sorts keys below 2^32 - 1 numerically, as
    // array indices, so Object.keys cannot show it (Python's json keeps the text's order).
    expect(Object.keys(keyed.json)).toEqual(expect.arrayContaining([String(second), String(first)]));
    expect(keyed.text.indexOf(`"${second}":`)).toBeGreaterThan(0);
    expect(keyed.text.indexOf(`"${second}":`)).toBeLessThan(keyed.text.indexOf(`"${first}":`));
    expect(keyed.json[String(first)].result).toBe("COMPLETED");

    const listed = await api.get("/v1/jobs?details=true&listing=true");
    expect(Array.isArray(listed.json)).toBe(true);
    expect(listed.ids.slice(0, 2)).toEqual([second, first]);

    // "detail" is what the 0.2 client sends.
    expect(Object.keys((await api.get("/v1/jobs?detail=true")).json)).toContain(String(first));
    expect((await api.get("/v1/jobs?details=true&limit=0")).json).toEqual({});
    expect((await api.get("/v1/jobs?details=1&listing=yes&limit=1")).ids).toEqual([second]);
    expect((await api.get("/v1/jobs?limit=1")).json.jobs).toHaveLength(1);
  });

  it("answers 400 with Message and Errors for bad parameters", async () => {
    for (const [query, error] of [
      ["details=maybe", 'details: must be true or false (got "maybe")'],
      ["limit=-1", "limit: must be at least 0 (got -1)"],
      ["limit=ten", 'limit: must be an integer (got "ten")'],
      ["bogus=1", "bogus: unknown parameter"],
    ] as const) {
      const res = await api.get(`/v1/jobs?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.json.Errors[0]).toContain(error);
      expect(res.json.Message).toContain(error);
    }
  });
});

describe("POST /v1/jobs/submit", () => {
  it("takes the fields from the query string, splitting the command like a shell", async () => {
    const id = await api.submit(`printf "%s|" "a b" 'c' d\\ e`, { num_tasks: "1", cores_per_task: "2", runtime: "60" });
    const job = (await api.waitFor(id)).json;
    expect(job).toMatchObject({ name: "printf", ncores: 2, ntasks: 1, duration: 60, result: "COMPLETED" });
    expect((await api.get(`/v1/jobs/${id}/output`)).json.Output).toEqual(["a b|c|d e|"]);
  });

  it("takes a JSON body holding the fields (0.1, and the 0.2 client's retry), keeping a list as argv", async () => {
    const res = await api.postJson("/v1/jobs/submit", { command: ["sh", "-c", 'echo "$FOO $0"', "arg zero"], envars: { FOO: "from-body" } });
    expect(res.status, res.text).toBe(200);
    await api.waitFor(res.ids[0]!);
    expect((await api.get(`/v1/jobs/${res.ids[0]}/output`)).json.Output).toEqual(["from-body arg zero\n"]);
  });

  it("takes a JSON body without command as the environment, as 0.2 did", async () => {
    const res = await request(`${server.url}/v1/jobs/submit?command=${encodeURIComponent("printenv GREETING")}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ GREETING: "hello env" }),
    });
    expect(res.status, res.text).toBe(200);
    await api.waitFor(res.ids[0]!);
    expect((await api.get(`/v1/jobs/${res.ids[0]}/output`)).json.Output).toEqual(["hello env\n"]);
  });

  it("takes form fields (httpx data=), envars as str() of a Python dict", async () => {
    const form = new URLSearchParams({ command: "printenv A B", exclusive: "false", envars: "{'A': 'one', 'B': \"it's\"}" });
    const res = await request(`${server.url}/v1/jobs/submit`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
    });
    expect(res.status, res.text).toBe(200);
    await api.waitFor(res.ids[0]!);
    expect((await api.get(`/v1/jobs/${res.ids[0]}/output`)).json.Output).toEqual(["one\n", "it's\n"]);
  });

  it("answers 0.2's message for a missing command", async () => {
    for (const res of [await api.post("/v1/jobs/submit"), await api.post("/v1/jobs/submit?command=")]) {
      expect(res.status).toBe(400);
      expect(res.json).toEqual({ Message: "A 'command' is minimally required.", Errors: ["command: is required"] });
    }
  });

  it("answers 400 Invalid submit request with the errors, named as the caller sent them", async () => {
    const cases: [string, string][] = [
      ["num_tasks=0", "num_tasks: must be an integer from 1 to"],
      ["num_tasks=x", 'num_tasks: must be an integer (got "x")'],
      ["runtime=-5", "runtime: must be 0 (none) or more (got -5)"],
      ["workdir=relative/dir", 'workdir: must be an absolute path (got "relative/dir")'],
      ["num_nodes=2&num_tasks=1", "num_nodes: must not be greater than num_tasks"],
      ["exclusive=true", "exclusive: can only be set with num_nodes"],
      ["option_flags=-ompi%3Dnoodles", "keys without -o"],
      ["option_flags=verbose", 'option_flags: "verbose" is not KEY=VALUE'],
      ["is_launcher=true", 'is_launcher: "true" is not an allowed launcher'],
      ["cores=2", "cores: unknown parameter"],
      ["gpus_per_task=1", "gpus_per_task:"],
    ];
    for (const [query, error] of cases) {
      const res = await api.post(`/v1/jobs/submit?command=true&${query}`);
      expect(res.status, `${query}: ${res.text}`).toBe(400);
      expect(res.json.Message, query).toBe("Invalid submit request");
      expect(res.json.Errors[0], query).toContain(error);
    }
    const unbalanced = await api.post(`/v1/jobs/submit?command=${encodeURIComponent("echo 'oops")}`);
    expect(unbalanced.status).toBe(400);
    expect(unbalanced.json.Errors[0]).toMatch(/^command: cannot be split like a shell command/);
    const badJson = await api.post("/v1/jobs/submit", { body: "{not json", headers: { "content-type": "application/json" } });
    expect(badJson.status).toBe(400);
    expect(badJson.json.Errors).toEqual(["body: is not valid JSON"]);
    const tooBig = await api.post("/v1/jobs/submit", { body: JSON.stringify({ command: "x".repeat(70_000) }), headers: { "content-type": "application/json" } });
    expect(tooBig.status).toBe(413);
    expect(tooBig.json.Errors[0]).toContain("body: is too large");
  });

  it("runs an allowed launcher as an ordinary tracked job with its own id and output", async () => {
    const id = await api.submit(`${launcherDir}/nextflow run hello`, { is_launcher: "true" });
    const job = (await api.waitFor(id)).json;
    expect(job.name).toBe("nextflow");
    expect(job.result).toBe("COMPLETED");
    expect((await api.get(`/v1/jobs/${id}/output`)).json.Output).toEqual(["launched run hello\n"]);
  });
});

describe("GET /v1/jobs/{id}", () => {
  it("answers the 0.2 job record, with state and result as names", async () => {
    const ok = await api.submit("true");
    const failed = await api.submit("sh -c 'exit 3'");
    const done = (await api.waitFor(ok)).json;
    expect(Object.keys(done).length).toBeGreaterThan(20);
    expect(done).toMatchObject({
      state: "INACTIVE",
      result: "COMPLETED",
      returncode: 0,
      waitstatus: 0,
      success: true,
      exception_occurred: false,
      exception: { occurred: false, severity: "", type: "", note: "" },
      name: "true",
      ntasks: 1,
      urgency: 16,
    });
    for (const t of ["t_submit", "t_depend", "t_priority", "t_sched", "t_run", "t_cleanup", "t_inactive", "runtime"]) {
      expect(typeof done[t], t).toBe("number");
    }
    expect(done.t_inactive).toBeGreaterThanOrEqual(done.t_submit);
    const bad = (await api.waitFor(failed)).json;
    expect(bad).toMatchObject({ result: "FAILED", returncode: 3, waitstatus: 768, success: false });
  });

  it("shows a running job without result, returncode or later timestamps, then its cancel exception", async () => {
    const id = await api.submit("sleep 30");
    const running = (await api.waitFor(id, "RUN")).json;
    expect(running).toMatchObject({ result: "", returncode: "", waitstatus: "", exception_occurred: false });
    expect(running).not.toHaveProperty("success");
    expect(running).not.toHaveProperty("t_inactive");
    expect((await api.post(`/v1/jobs/${id}/cancel`)).status).toBe(200);
    const canceled = (await api.waitFor(id)).json;
    expect(canceled).toMatchObject({
      result: "CANCELED",
      exception_occurred: true,
      exception_type: "cancel",
      exception_severity: 0,
      exception: { occurred: true, type: "cancel", severity: 0 },
    });
  });

  it("accepts the id in every RFC 19 encoding", async () => {
    const id = await api.submit("true");
    for (const encoding of ["dec", "f58", "f58plain", "hex", "dothex", "kvs", "words"] as const) {
      const text = formatJobId(id, encoding);
      const res = await api.get(`/v1/jobs/${encodeURIComponent(text)}`);
      expect(res.status, text).toBe(200);
      expect(res.ids[0], text).toBe(id);
    }
  });

  it("answers 404 with a Message for an unknown job, 400 for a malformed id", async () => {
    const unknown = await api.get("/v1/jobs/123456789");
    expect(unknown.status).toBe(404);
    expect(unknown.json.Message).toMatch(/not found/);
    const malformed = await api.get("/v1/jobs/not-an-id!");
    expect(malformed.status).toBe(400);
    expect(malformed.json.Errors[0]).toMatch(/^id: invalid job id/);
    expect((await api.get("/v1/jobs/%E0%A4%A")).status).toBe(400);
    expect((await api.get("/v1/jobs/123?x=1")).status).toBe(400);
  });
});

describe("POST /v1/jobs/{id}/cancel", () => {
  it("cancels, then refuses to cancel again with 409, echoing the id", async () => {
    const id = await api.submit("sleep 30");
    await api.waitFor(id, "RUN");
    const res = await api.post(`/v1/jobs/${formatJobId(id, "f58")}/cancel`);
    expect(res.status).toBe(200);
    expect(res.json.Message).toBe("Job is requested to cancel.");
    expect(res.ids).toEqual([id]);
    expect((await api.waitFor(id)).json.result).toBe("CANCELED");
    const again = await api.post(`/v1/jobs/${id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.json.Message).toMatch(/^Job cannot be cancelled: /);
    expect(again.ids).toEqual([id]);
  });

  it("answers 404 for an unknown job, 400 for a malformed id, 405 for GET", async () => {
    expect((await api.post("/v1/jobs/987654321/cancel")).status).toBe(404);
    const bad = await api.post("/v1/jobs/nope!/cancel");
    expect(bad.status).toBe(400);
    expect(bad.json.id).toBe("nope!");
    const get = await api.get("/v1/jobs/1/cancel");
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
  });
});

describe("GET /v1/jobs/{id}/output", () => {
  it("answers the lines written so far without waiting for the job to end", async () => {
    const id = await api.submit("sh -c 'echo first; echo oops >&2; sleep 30'");
    await api.waitFor(id, "RUN");
    const deadline = Date.now() + 5000;
    let res = await api.get(`/v1/jobs/${id}/output`);
    while (res.json.Output.length < 2 && Date.now() < deadline) res = await api.get(`/v1/jobs/${id}/output`);
    expect(res.status).toBe(200);
    expect([...res.json.Output].sort()).toEqual(["first\n", "oops\n"]);
    expect((await api.get(`/v1/jobs/${id}`)).json.state).toBe("RUN");
    await api.post(`/v1/jobs/${id}/cancel`);
  });

  it("says the output does not exist yet when there is none, and 404 for an unknown job", async () => {
    const id = await api.submit("sleep 30");
    const res = await api.get(`/v1/jobs/${id}/output`);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ Output: [], Message: "The output does not exist yet." });
    await api.post(`/v1/jobs/${id}/cancel`);
    expect((await api.get("/v1/jobs/123456789/output")).status).toBe(404);
  });
});

describe("GET /v1/nodes and POST /v1/service/stop", () => {
  it("lists the host names of the nodes that are up", async () => {
    const res = await api.get("/v1/nodes");
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ nodes: [os.hostname()] });
  });

  it("stops the service (auth off: the caller is the server's user) and answers null", async () => {
    const before = stops;
    const res = await api.post("/v1/service/stop");
    expect(res.status).toBe(200);
    expect(res.text).toBe("null");
    await new Promise((r) => setTimeout(r, 100));
    expect(stops).toBe(before + 1);
  });
});

describe("routing", () => {
  it("answers 404 JSON for an unknown /v1 path and 405 with Allow for a wrong method", async () => {
    const unknown = await api.get("/v1/bogus");
    expect(unknown.status).toBe(404);
    expect(unknown.json.Message).toContain("no route");
    const wrong = await api.post("/v1/jobs");
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET, HEAD");
    expect((await api.get("/v1/jobs/submit")).status).toBe(405);
    expect((await api.post("/v1/jobs/search")).status).toBe(405);
  });

  it("accepts a trailing slash and answers GET / with 200 (operator tooling polls it)", async () => {
    expect((await api.get("/v1/jobs/")).status).toBe(200);
    expect((await api.get("/")).status).toBe(200);
  });
});
