/**
 * 0.2's settings with the meaning they keep: FLUX_OPTION_FLAGS are default shell options for
 * every submission (REST and Connect alike, never changed by a request); FLUX_NUMBER_NODES
 * and FLUX_HAS_GPUS only cap what the backend discovers.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Code, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobService } from "../../../gen/flux/restful/v1/job_service_pb.js";
import type { JobBackend, JobRequest, NodeInfo } from "../../../server/backends/backend.js";
import { createLocalBackend } from "../../../server/backends/local/index.js";
import { createSilentLogger } from "../../../server/logger.js";
import { capBackendResources } from "../../../server/rest/index.js";
import { codeOf } from "../../support/job-helpers.js";
import { startTestServer, type TestServer } from "../../support/start-test-server.js";
import { createTransports } from "../../support/transports.js";
import { createRestClient, type RestClient } from "./rest-helpers.js";

/** A real local backend (2 gpus) that remembers every request it was asked to submit. */
function recordingLocalBackend(dataDir: string) {
  const submitted: JobRequest[] = [];
  const backend = createLocalBackend({
    dataDir,
    cores: 8,
    gpus: 2,
    logger: createSilentLogger(),
    baseEnvironment: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
  });
  const recording = new Proxy(backend, {
    get(target, prop) {
      if (prop === "submit") {
        return (request: JobRequest, owner: Parameters<JobBackend["submit"]>[1]) => {
          submitted.push(structuredClone(request));
          return target.submit(request, owner);
        };
      }
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { backend: recording as JobBackend, submitted };
}

async function start(env: Record<string, string>) {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "rest-caps-"));
  const { backend, submitted } = recordingLocalBackend(path.join(dataDir, "local"));
  const server = await startTestServer({ dataDir, env, deps: { backend } });
  return {
    server,
    submitted,
    api: createRestClient(server.url),
    jobs: createClient(JobService, createTransports(server.url)["connect-json-h1"]),
    async close() {
      await server.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

describe("with FLUX_OPTION_FLAGS, FLUX_NUMBER_NODES=1 and FLUX_HAS_GPUS=false", () => {
  let s: Awaited<ReturnType<typeof start>>;
  let api: RestClient;
  beforeAll(async () => {
    s = await start({ FLUX_OPTION_FLAGS: "-ompi=openmpi@5 -o cpu-affinity=per-task", FLUX_NUMBER_NODES: "1", FLUX_HAS_GPUS: "false" });
    api = s.api;
  });
  afterAll(async () => {
    await s?.close();
  });

  it("gives every submission the default shell options, over REST and Connect, a request's own winning", async () => {
    const defaults = { mpi: "openmpi@5", "cpu-affinity": "per-task" };
    await api.submit("true");
    await api.submit("true", { option_flags: "mpi=none,pty=true" });
    await api.submit("true");
    await s.jobs.submitJob({ command: ["true"], shellOptions: { verbose: "2" } });
    await s.jobs.submitJob({ command: ["true"] });
    expect(s.submitted.map((r) => r.shellOptions)).toEqual([
      defaults,
      { mpi: "none", "cpu-affinity": "per-task", pty: "true" },
      defaults,
      { ...defaults, verbose: "2" },
      defaults,
    ]);
    // 0.2 merged into its global defaults, so one user's flags stuck for the next.
    expect(s.server.config.optionFlags).toEqual(defaults);
  });

  it("reports no gpus and refuses gpu requests on every API, though the backend has 2", async () => {
    const { nodes } = await s.jobs.listNodes({});
    expect(nodes.map((n) => n.gpus)).toEqual([0]);
    const rest = await api.post("/v1/jobs/submit?command=true&gpus_per_task=1");
    expect(rest.status).toBe(400);
    expect(rest.json.Errors).toEqual(["gpus_per_task: this server does not support gpus (FLUX_HAS_GPUS is false)"]);
    const rpc = await codeOf(() => s.jobs.submitJob({ command: ["true"], gpusPerTask: 1 }));
    expect(rpc).toEqual({ code: Code.InvalidArgument, message: "gpus_per_task: this server does not support gpus (FLUX_HAS_GPUS is false)" });
  });

  it("refuses more nodes than FLUX_NUMBER_NODES", async () => {
    const res = await api.post("/v1/jobs/submit?command=true&num_nodes=2&num_tasks=2");
    expect(res.status).toBe(400);
    expect(res.json.Errors).toEqual(["num_nodes: the server only has 1 nodes, you requested 2"]);
    expect((await api.get("/v1/nodes")).json.nodes).toEqual([os.hostname()]);
  });
});

describe("without those settings", () => {
  it("submits with no default shell options and lets the backend's gpus be used", async () => {
    const s = await start({});
    try {
      const id = await s.api.submit("true", { gpus_per_task: "1" });
      expect((await s.api.waitFor(id)).json).toMatchObject({ result: "COMPLETED", ngpus: 1 });
      expect(s.submitted[0]!.shellOptions).toEqual({});
      expect((await s.jobs.listNodes({})).nodes[0]!.gpus).toBe(2);
    } finally {
      await s.close();
    }
  });
});

describe("capBackendResources", () => {
  const node = (rank: number): NodeInfo => ({ rank, hostname: `node${rank}`, state: "up", cores: 4, coresAllocated: 0, gpus: 1, gpusAllocated: 1 });
  // Only nodes() is called here; a stand-in avoids needing a multi-node backend.
  const threeNodes = { name: "stub", nodes: async () => [node(2), node(0), node(1)] } as unknown as JobBackend;

  it("keeps the first FLUX_NUMBER_NODES nodes by rank and hides gpus", async () => {
    const capped = capBackendResources(threeNodes, { maxNodes: 2, gpus: false });
    expect(await capped.nodes()).toEqual([
      { ...node(0), gpus: 0, gpusAllocated: 0 },
      { ...node(1), gpus: 0, gpusAllocated: 0 },
    ]);
    expect(capped.name).toBe("stub");
  });

  it("is the backend itself when there is nothing to cap", () => {
    expect(capBackendResources(threeNodes, {})).toBe(threeNodes);
    expect(capBackendResources(threeNodes, { gpus: true })).toBe(threeNodes);
  });
});
