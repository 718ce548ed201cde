/**
 * grpc.health.v1.Health: the standard gRPC health check, so load balancers, Kubernetes
 * gRPC probes and grpc-health-probe can ask whether this server can take work. The server
 * ("") and every registered service are SERVING while the backend is ready, NOT_SERVING
 * otherwise.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";
import type { JobBackend } from "../backends/backend.js";

export interface HealthServiceOptions {
  backend: Pick<JobBackend, "ready">;
  /** Fully-qualified names of the services this server answers for; "" (the whole server) is always known. */
  services: readonly string[];
  /** How often Watch re-reads the backend's readiness; concurrent watchers share a reading. Defaults to 1000. */
  watchIntervalMs?: number;
}

export function createHealthService(options: HealthServiceOptions): ServiceImpl<typeof Health> {
  const known = new Set(["", ...options.services]);
  const watchIntervalMs = options.watchIntervalMs ?? 1000;

  const probe = async (): Promise<Status> => {
    const readiness = await options.backend.ready().catch(() => ({ ready: false }));
    return readiness.ready ? Status.SERVING : Status.NOT_SERVING;
  };
  // One reading at a time, reused for watchIntervalMs, so many watchers cost one probe per interval.
  let shared: { atMs: number; status: Promise<Status> } | undefined;
  const sharedStatus = () => {
    const now = Date.now();
    if (shared === undefined || now - shared.atMs >= watchIntervalMs) shared = { atMs: now, status: probe() };
    return shared.status;
  };

  return {
    async check(request) {
      if (!known.has(request.service)) {
        throw new ConnectError(`service "${request.service.length > 64 ? `${request.service.slice(0, 64)}…` : request.service}" not found`, Code.NotFound);
      }
      return { status: await probe() };
    },

    async *watch(request, ctx) {
      if (!known.has(request.service)) {
        // The health protocol: answer SERVICE_UNKNOWN and keep the call open, never an error.
        yield { status: Status.SERVICE_UNKNOWN };
        await aborted(ctx.signal);
        return;
      }
      let last: Status | undefined;
      while (!ctx.signal.aborted) {
        const status = await sharedStatus();
        if (status !== last) {
          last = status;
          yield { status };
        }
        try {
          await sleep(watchIntervalMs, undefined, { signal: ctx.signal });
        } catch {
          return; // aborted: client gone, deadline or server shutdown
        }
      }
    },
  };
}

function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}
