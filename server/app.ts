/**
 * createServer(config) builds the whole server without listening: backend, services,
 * interceptors, plain HTTP routes, and the one-port listener. main.ts and tests call it.
 */
import os from "node:os";
import type { AddressInfo } from "node:net";
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { JobService } from "../gen/flux/restful/v1/job_service_pb.js";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import type { JobBackend } from "./backends/backend.js";
import { selectBackend } from "./backends/select-backend.js";
import type { Config } from "./config.js";
import type { Caller } from "./context.js";
import { createHealthRoutes } from "./http/health-routes.js";
import { sendJson, type HttpRoute } from "./http/http-route.js";
import { createOnePortServer } from "./http/one-port.js";
import { createLoggingInterceptor } from "./interceptors/logging.js";
import type { Logger } from "./logger.js";
import { createSilentLogger } from "./logger.js";
import { createHealthService } from "./services/health.js";
import { createJobService } from "./services/job-service.js";
import { loadDescriptorSet, registerReflection, registeredServices } from "./services/reflection/index.js";

export interface ServerDeps {
  logger?: Logger;
  /** A ready-made backend (tests); otherwise one is chosen from config. */
  backend?: JobBackend;
}

export interface FluxRestfulServer {
  readonly backend: JobBackend;
  /** Listens on config.host:config.port; resolves with the bound address and base URL. */
  listen(): Promise<{ address: AddressInfo; url: string }>;
  /** Graceful stop: ends streams, lets requests finish within the grace period, closes the backend. */
  close(): Promise<void>;
}

export async function createServer(config: Config, deps: ServerDeps = {}): Promise<FluxRestfulServer> {
  const logger = deps.logger ?? createSilentLogger();
  const backend = deps.backend ?? (await selectBackend(config, logger));
  await backend.start();

  const shutdown = new AbortController();
  const anonymousCaller: Caller = { name: os.userInfo().username, superuser: true, authenticated: false };
  const jobService = createJobService({
    backend,
    limits: { launchers: config.launchers, defaultShellOptions: {} },
    anonymousCaller,
    ownerFor: async (caller) => ({ name: caller.name }),
  });

  const interceptors: Interceptor[] = [createLoggingInterceptor(logger.child({ component: "rpc" }))];
  const descriptorSet = await loadDescriptorSet();
  const routes = (router: ConnectRouter) => {
    router.service(JobService, jobService);
    // Health and reflection last: they answer for every service registered above.
    const services = registeredServices(router);
    router.service(Health, createHealthService({ backend, services: services.map((s) => s.typeName) }));
    registerReflection(router, { services: [...services, Health], descriptorSet, logger });
  };
  const httpRoutes: HttpRoute[] = [createHealthRoutes(backend)];

  const connectHandler = connectNodeAdapter({
    routes,
    interceptors,
    shutdownSignal: shutdown.signal,
    readMaxBytes: config.maxRequestBytes,
    jsonOptions: { alwaysEmitImplicit: true },
    fallback: (req, res) => {
      void (async () => {
        for (const route of httpRoutes) if (await route(req, res)) return;
        sendJson(res, 404, { Message: `no route for ${req.method} ${req.url}` });
      })().catch((e: unknown) => {
        logger.error("http route failed", { url: req.url, cause: e });
        if (!res.headersSent) sendJson(res, 500, { Message: "internal error" });
        else res.destroy();
      });
    },
  });

  const listener = createOnePortServer({ handler: connectHandler });
  let closing: Promise<void> | undefined;

  return {
    backend,
    async listen() {
      const address = await listener.listen(config.port, config.host);
      const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
      return { address, url: `http://${host}:${address.port}` };
    },
    close() {
      closing ??= (async () => {
        shutdown.abort();
        await listener.close(config.shutdownGraceMs);
        await backend.close();
      })();
      return closing;
    },
  };
}
