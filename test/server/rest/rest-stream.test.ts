/**
 * GET /v1/jobs/{id}/output/stream: text lines by default, NDJSON and SSE on request, live
 * while the job runs, ended with the job's output, errors as real statuses, and a client
 * that goes away stops the follow.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/start-test-server.js";
import { createRestClient, type RestClient } from "./rest-helpers.js";

let server: TestServer;
let api: RestClient;

beforeAll(async () => {
  server = await startTestServer({ env: { FLUX_RESTFUL_LOCAL_CORES: "8" } });
  api = createRestClient(server.url);
});
afterAll(async () => {
  await server?.close();
});

const stream = (id: bigint | string, accept?: string, signal?: AbortSignal, requestId?: string) =>
  fetch(`${server.url}/v1/jobs/${id}/output/stream`, {
    headers: { ...(accept ? { accept } : {}), ...(requestId ? { "x-request-id": requestId } : {}) },
    signal,
  });

describe("GET /v1/jobs/{id}/output/stream", () => {
  it("sends text lines by default and ends when the job's output ends", async () => {
    const id = await api.submit("echo pancakes 🥞");
    const res = await stream(id);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(await res.text()).toBe("pancakes 🥞\n");
  });

  it("sends NDJSON for Accept: application/x-ndjson, with the stream, rank and exit code", async () => {
    const id = await api.submit("sh -c 'echo out; echo err >&2; exit 3'");
    const res = await stream(id, "application/x-ndjson");
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    const items = (await res.text()).trimEnd().split("\n").map((l) => JSON.parse(l));
    const lines = items.filter((i) => i.result?.line !== undefined).map((i) => i.result);
    expect(lines).toEqual(expect.arrayContaining([
      { line: "out\n", stream: "stdout", rank: 0 },
      { line: "err\n", stream: "stderr", rank: 0 },
    ]));
    expect(items.at(-1)).toEqual({ result: { end: { exit_code: 3, truncated: false } } });
  });

  it("sends server-sent events for Accept: text/event-stream", async () => {
    const id = await api.submit("echo pancakes 🥞");
    const res = await stream(id, "text/event-stream");
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const events = (await res.text()).split("\n\n").filter(Boolean);
    expect(events[0]).toBe(`data: ${JSON.stringify({ line: "pancakes 🥞\n", stream: "stdout", rank: 0 })}`);
    expect(events.at(-1)).toBe('event: end\ndata: {"exit_code":0,"truncated":false}');
  });

  it("delivers lines while the job runs, before it ends", async () => {
    // The job prints its second line only once the test has seen the first one and the job in RUN.
    const gateDir = await fs.mkdtemp(path.join(os.tmpdir(), "rest-stream-gate-"));
    const gate = path.join(gateDir, "go");
    const id = await api.submit(`sh -c 'echo one; while [ ! -e ${gate} ]; do sleep 0.05; done; echo two'`);
    try {
      const res = await stream(id);
      const reader = res.body!.getReader();
      const first = await reader.read();
      expect(new TextDecoder().decode(first.value)).toBe("one\n");
      expect((await api.get(`/v1/jobs/${id}`)).json.state).toBe("RUN");
      await fs.writeFile(gate, "");
      let rest = "";
      for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
      expect(rest).toBe("two\n");
    } finally {
      await fs.writeFile(gate, "");
      await fs.rm(gateDir, { recursive: true, force: true });
    }
  });

  it("answers HEAD without following the job", async () => {
    const id = await api.submit("sleep 30");
    const head = await fetch(`${server.url}/v1/jobs/${id}/output/stream`, { method: "HEAD", headers: { accept: "text/event-stream" } });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect((await fetch(`${server.url}/v1/jobs/123456789/output/stream`, { method: "HEAD" })).status).toBe(404);
    await api.post(`/v1/jobs/${id}/cancel`);
  });

  it("answers 404 and 400 as JSON before any output", async () => {
    const unknown = await stream("123456789");
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).Message).toMatch(/not found/);
    const bad = await stream("bogus!", "application/x-ndjson");
    expect(bad.status).toBe(400);
    expect((await bad.json()).Errors[0]).toMatch(/^id: invalid job id/);
  });

  it("stops following the job when the client disconnects", async () => {
    const id = await api.submit("sh -c 'while :; do echo tick; sleep 0.05; done'");
    const controller = new AbortController();
    const res = await stream(id, "application/x-ndjson", controller.signal, "rest-disconnect-1");
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('"tick\\n"');
    controller.abort();
    // The RPC behind the route (its log line carries our request id) ends while the job keeps running.
    const deadline = Date.now() + 5000;
    const ended = () => server.logs.find((l) => l.requestId === "rest-disconnect-1" && l.msg === "rpc");
    while (!ended() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(ended()).toMatchObject({ procedure: "flux.restful.v1.JobService/StreamJobOutput" });
    expect((await api.get(`/v1/jobs/${id}`)).json.state).toBe("RUN");
    await api.post(`/v1/jobs/${id}/cancel`);
  });

  it("ends a stream in progress with the job when it is canceled", async () => {
    const id = await api.submit("sh -c 'echo started; sleep 30'");
    const res = await stream(id, "application/x-ndjson");
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain("started");
    await api.post(`/v1/jobs/${id}/cancel`);
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    const last = JSON.parse(rest.trimEnd().split("\n").at(-1)!);
    expect(last.result.end).toBeDefined();
  });
});

describe("on server shutdown", () => {
  it("ends an open output stream instead of holding the server open", async () => {
    // A long grace, so "at once" (under half of it) has room on a busy machine.
    const own = await startTestServer({ env: { FLUX_RESTFUL_SHUTDOWN_GRACE_MS: "20000" } });
    const ownApi = createRestClient(own.url);
    const id = await ownApi.submit("sh -c 'echo started; sleep 30'");
    const res = await fetch(`${own.url}/v1/jobs/${id}/output/stream`, { headers: { accept: "application/x-ndjson" } });
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain("started");
    const started = Date.now();
    const closing = own.close();
    let text = "";
    const drained = (async () => {
      try {
        for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
      } catch {
        // a cut connection is an end too
      }
      return Date.now() - started;
    })();
    const [, endedAfterMs] = await Promise.all([closing, drained]);
    // Shutdown aborts the call behind the route: the stream ends at once, not at the grace deadline.
    expect(endedAfterMs).toBeLessThan(own.config.shutdownGraceMs / 2);
    expect(text).not.toContain("error");
  });
});
