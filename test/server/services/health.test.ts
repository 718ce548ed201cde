/**
 * grpc.health.v1: Check and Watch on a real server with the local backend, and the
 * readiness mapping with a backend whose readiness the test controls.
 */
import { Code, ConnectError, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../../../gen/flux/restful/v1/admin_service_pb.js";
import { AuthService } from "../../../gen/flux/restful/v1/auth_service_pb.js";
import { JobService } from "../../../gen/flux/restful/v1/job_service_pb.js";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../../gen/grpc/health/v1/health_pb.js";
import type { Readiness } from "../../../server/backends/backend.js";
import { createHealthService } from "../../../server/services/health.js";
import { codeOf } from "../../support/job-helpers.js";
import { startTestServer, type TestServer } from "../../support/start-test-server.js";

type HealthClient = Client<typeof Health>;

/** Reads a Watch stream into an array as messages arrive; stop() cancels it and waits for the end. */
function watch(client: HealthClient, service: string) {
  const abort = new AbortController();
  const seen: Status[] = [];
  let error: ConnectError | undefined;
  const done = (async () => {
    try {
      for await (const res of client.watch({ service }, { signal: abort.signal })) seen.push(res.status);
    } catch (e) {
      error = ConnectError.from(e);
    }
  })();
  return {
    seen,
    get error() {
      return error;
    },
    done,
    async stop() {
      abort.abort();
      await done;
    },
  };
}

describe("health on a real server", () => {
  let server: TestServer;
  let client: HealthClient;
  let realReady: () => Promise<Readiness>;

  beforeAll(async () => {
    server = await startTestServer();
    client = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    realReady = server.server.backend.ready.bind(server.server.backend);
  });
  afterAll(async () => {
    await server?.close();
  });

  it("answers SERVING for the server and every registered service while the backend is ready", async () => {
    expect(await realReady()).toMatchObject({ ready: true });
    for (const service of ["", JobService.typeName, AuthService.typeName, AdminService.typeName]) {
      expect((await client.check({ service })).status).toBe(Status.SERVING);
    }
  });

  it("answers NotFound for an unknown service, naming it", async () => {
    const { code, message } = await codeOf(() => client.check({ service: "no.Such" }));
    expect(code).toBe(Code.NotFound);
    expect(message).toBe('service "no.Such" not found');
  });

  it("Watch sends the status now and again when the backend's readiness changes", async () => {
    // The local backend is always ready; make it report not ready for a while.
    const backend = server.server.backend as { ready: () => Promise<Readiness> };
    const watcher = watch(client, JobService.typeName);
    try {
      await expect.poll(() => watcher.seen, { timeout: 5_000 }).toEqual([Status.SERVING]);
      backend.ready = async () => ({ ready: false, reason: "test says so" });
      await expect.poll(() => watcher.seen, { timeout: 5_000 }).toEqual([Status.SERVING, Status.NOT_SERVING]);
      expect((await client.check({ service: "" })).status).toBe(Status.NOT_SERVING);
      backend.ready = realReady;
      await expect
        .poll(() => watcher.seen, { timeout: 5_000 })
        .toEqual([Status.SERVING, Status.NOT_SERVING, Status.SERVING]);
    } finally {
      backend.ready = realReady;
      await watcher.stop();
    }
    expect(watcher.error?.code).toBe(Code.Canceled);
  });

  it("Watch of an unknown service sends SERVICE_UNKNOWN and keeps the call open", async () => {
    const watcher = watch(client, "no.Such");
    await expect.poll(() => watcher.seen, { timeout: 5_000 }).toEqual([Status.SERVICE_UNKNOWN]);
    await new Promise((r) => setTimeout(r, 200));
    expect(watcher.error).toBeUndefined();
    await watcher.stop();
    expect(watcher.seen).toEqual([Status.SERVICE_UNKNOWN]);
    expect(watcher.error?.code).toBe(Code.Canceled);
  });
});

describe("health readiness mapping", () => {
  function clientFor(ready: () => Promise<Readiness>, watchIntervalMs = 50) {
    const service = createHealthService({ backend: { ready }, services: ["a.Service"], watchIntervalMs });
    return createClient(Health, createRouterTransport((router) => router.service(Health, service)));
  }

  it("is NOT_SERVING when the readiness probe itself fails", async () => {
    const client = clientFor(async () => {
      throw new Error("broker unreachable");
    });
    expect((await client.check({ service: "a.Service" })).status).toBe(Status.NOT_SERVING);
  });

  it("shares one probe per interval between concurrent watchers", async () => {
    let probes = 0;
    const client = clientFor(async () => {
      probes++;
      return { ready: true };
    }, 100);
    const watchers = Array.from({ length: 8 }, () => watch(client, "a.Service"));
    await expect.poll(() => watchers.every((w) => w.seen.length === 1)).toBe(true);
    const before = probes;
    const startedAt = performance.now();
    await new Promise((r) => setTimeout(r, 550));
    const during = probes - before;
    const intervals = (performance.now() - startedAt) / 100;
    await Promise.all(watchers.map((w) => w.stop()));
    // One probe per interval when shared, 8 if every watcher probed alone. Late timers on a
    // busy machine mean fewer probes, never more, so the bound is by the time that really passed.
    expect(during).toBeGreaterThanOrEqual(1);
    expect(during).toBeLessThanOrEqual(Math.ceil(intervals) + 1);
    for (const w of watchers) expect(w.seen).toEqual([Status.SERVING]);
  });
});
