/**
 * The SDK end to end against a real server (auth off), over each protocol it offers.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Code,
  ConnectError,
  createFluxClient,
  JobResult,
  JobState,
  OutputStream,
  PENDING,
  type FluxClient,
  type NodeFluxClientOptions,
  type OutputItem,
  resolveNodeOptions,
} from "../../../clients/sdk/node.js";
import { startTestServer, type TestServer } from "../../support/start-test-server.js";

let server: TestServer;
/** Gate files that jobs wait for, so a test decides when a job goes on. */
let gateDir: string;
beforeAll(async () => {
  server = await startTestServer();
  gateDir = await fs.mkdtemp(path.join(os.tmpdir(), "flux-sdk-gates-"));
});
afterAll(async () => {
  await server?.close();
  if (gateDir) await fs.rm(gateDir, { recursive: true, force: true });
});

const PROTOCOLS: [string, Pick<NodeFluxClientOptions, "protocol" | "httpVersion">][] = [
  ["connect over HTTP/1.1", { protocol: "connect" }],
  ["connect over HTTP/2", { protocol: "connect", httpVersion: "2" }],
  ["grpc", { protocol: "grpc" }],
  ["grpc-web", { protocol: "grpc-web" }],
];

async function waitFor(client: FluxClient, id: string, state: JobState) {
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
    const job = await client.get(id);
    if (job.state === state) return job;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`job ${id} never reached ${JobState[state]}`);
}

describe.each(PROTOCOLS)("the SDK over %s", (_name, protocolOptions) => {
  let client: FluxClient;
  beforeAll(() => {
    client = createFluxClient({ baseUrl: server.url, env: {}, ...protocolOptions });
  });

  it("submits, gets and reads a job's output", async () => {
    const id = await client.submit({ command: ["sh", "-c", "echo out; echo err >&2; exit 5"], name: "sdk-basic" });
    expect(id).toMatch(/^ƒ/);

    const job = await waitFor(client, id, JobState.INACTIVE);
    expect(job).toMatchObject({ id, name: "sdk-basic", result: JobResult.FAILED, returncode: 5 });

    const out = await client.output(id);
    expect(out.complete).toBe(true);
    const text = (stream: OutputStream) =>
      Buffer.concat(out.chunks.filter((c) => c.stream === stream).map((c) => c.data)).toString();
    expect([text(OutputStream.STDOUT), text(OutputStream.STDERR)]).toEqual(["out\n", "err\n"]);
  });

  it("streamOutput follows a running job to its end", async () => {
    // The job prints "two" only once the stream has delivered "one" (the test then opens the
    // gate), so "two" can only have come through a stream that was still open: no timing involved.
    const gate = path.join(gateDir, `stream-${_name.replace(/\W+/g, "-")}`);
    const script = 'echo one; while [ ! -e "$0" ]; do sleep 0.05; done; echo two; exit 3';
    const id = await client.submit({ command: ["sh", "-c", script, gate] });
    await waitFor(client, id, JobState.RUN);

    const items: OutputItem[] = [];
    let gateOpenedAfter = -1;
    for await (const item of client.streamOutput(id)) {
      items.push(item);
      if (gateOpenedAfter < 0 && item.case === "chunk" && Buffer.from(item.value.data).toString().includes("one")) {
        gateOpenedAfter = items.length - 1;
        await fs.writeFile(gate, "");
      }
    }

    const chunks = items.flatMap((i) => (i.case === "chunk" ? [Buffer.from(i.value.data).toString()] : []));
    expect(chunks.join("")).toBe("one\ntwo\n");
    expect(items.at(-1)).toMatchObject({ case: "end", value: { exitCode: 3 } });
    const two = items.findIndex((i) => i.case === "chunk" && Buffer.from(i.value.data).toString().includes("two"));
    expect(gateOpenedAfter).toBeGreaterThanOrEqual(0);
    expect(two).toBeGreaterThan(gateOpenedAfter);
    expect((await client.get(id)).state).toBe(JobState.INACTIVE);
  });

  it("watchEvents replays and follows the eventlog until clean", async () => {
    const id = await client.submit({ command: ["sleep", "0.3"] });
    const names: string[] = [];
    for await (const event of client.watchEvents(id)) names.push(event.name);
    expect(names[0]).toBe("submit");
    expect(names).toContain("start");
    expect(names).toContain("finish");
    expect(names.at(-1)).toBe("clean");
  });

  it("lists jobs page by page with filters", async () => {
    const name = `paged-${protocolOptions.protocol}-${protocolOptions.httpVersion ?? "1"}`;
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await client.submit({ command: ["true"], name, urgency: 0 }));

    const pages = [];
    for await (const page of client.list({ name, pageSize: 2 })) pages.push(page);

    expect(pages.map((p) => p.jobs.length)).toEqual([2, 2, 1]);
    expect(pages[0]!.totalSize).toBe(5);
    expect(pages.flatMap((p) => p.jobs.map((j) => j.id)).sort()).toEqual([...ids].sort());
    const pendingOnly = [];
    for await (const page of client.list({ name, stateMask: PENDING })) pendingOnly.push(...page.jobs);
    expect(pendingOnly).toHaveLength(5);
    for (const id of ids) await client.cancel(id);
  });

  it("cancels, and reports errors as ConnectErrors with their codes", async () => {
    const id = await client.submit({ command: ["sleep", "30"] });
    await client.cancel(id, "from the sdk");
    const job = await waitFor(client, id, JobState.INACTIVE);
    expect(job.result).toBe(JobResult.CANCELED);

    const codeOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => ConnectError.from(e).code);
    expect(await codeOf(client.cancel(id))).toBe(Code.FailedPrecondition);
    expect(await codeOf(client.get("ƒ2Xyz9"))).toBe(Code.NotFound);
    expect(await codeOf(client.get("not an id"))).toBe(Code.InvalidArgument);
    expect(await codeOf(client.submit({ command: [] }))).toBe(Code.InvalidArgument);
  });

  it("describes the nodes and the server", async () => {
    const nodes = await client.nodes();
    expect(nodes[0]).toMatchObject({ rank: 0, cores: server.config.localCores });
    const me = await client.whoAmI();
    expect(me.authenticated).toBe(false);
    expect(me.server).toMatchObject({ backend: "local", authRequired: false });
  });
});

describe("createFluxClient defaults", () => {
  it("takes the base URL from FLUX_RESTFUL_HOST", async () => {
    const client = createFluxClient({ env: { FLUX_RESTFUL_HOST: server.url } });
    expect((await client.nodes()).length).toBeGreaterThan(0);
  });

  it("fills unset options from the environment, then the defaults", () => {
    const env = { FLUX_RESTFUL_HOST: "http://h:1", FLUX_USER: "u", FLUX_TOKEN: "t", FLUX_SECRET_KEY: "k" };
    expect(resolveNodeOptions({ env })).toMatchObject({ baseUrl: "http://h:1", user: "u", token: "t", secretKey: "k" });
    expect(resolveNodeOptions({ env, baseUrl: "http://mine:2", user: "me" })).toMatchObject({ baseUrl: "http://mine:2", user: "me", token: "t" });
    expect(resolveNodeOptions({ env: { FLUX_RESTFUL_HOST: "" } })).toMatchObject({ baseUrl: "http://127.0.0.1:5000", user: undefined });
  });

  it("refuses an unknown protocol", () => {
    expect(() => createFluxClient({ protocol: "carrier-pigeon" as never, env: {} })).toThrow('unknown protocol "carrier-pigeon"');
  });
});
