/**
 * createServer(config) builds the whole server without listening: backend, services,
 * interceptors, plain HTTP routes, and the one-port listener. main.ts and tests call it.
 */
import { setMaxListeners } from "node:events";
import { processUser } from "./process-user.js";
import type { AddressInfo } from "node:net";
import { createContextValues, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import { AdminService } from "../gen/flux/restful/v1/admin_service_pb.js";
import { AuthService } from "../gen/flux/restful/v1/auth_service_pb.js";
import { JobService } from "../gen/flux/restful/v1/job_service_pb.js";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { createAuth, type Auth, type AuthTuning } from "./auth/index.js";
import type { JobBackend } from "./backends/backend.js";
import { selectBackend } from "./backends/select-backend.js";
import type { Config } from "./config.js";
import { kPeerAddress, type Caller } from "./context.js";
import { createHealthRoutes } from "./http/health-routes.js";
import { sendJson, type HttpRoute } from "./http/http-route.js";
import { createConnectAdapter } from "./http/connect-adapter.js";
import { createOnePortServer } from "./http/one-port.js";
import { createRequestDecodingCheck } from "./http/request-decoding.js";
import { createLoggingInterceptor } from "./interceptors/logging.js";
import type { Logger } from "./logger.js";
import { createSilentLogger } from "./logger.js";
import { createAdminService } from "./services/admin-service.js";
import { createAuthService } from "./services/auth-service.js";
import { createHealthService } from "./services/health.js";
import { createJobService } from "./services/job-service.js";
import { loadDescriptorSet, registerReflection, registeredServices } from "./services/reflection/index.js";
import { createOriginGuard, createWebRoutes } from "./web/index.js";
import { capBackendResources, createRestRoutes } from "./rest/index.js";

export interface ServerDeps {
  logger?: Logger;
  /** A ready-made backend (tests); otherwise one is chosen from config. */
  backend?: JobBackend;
  /** Reported by WhoAmI. */
  version?: string;
  /** What AdminService.StopService does; defaults to close(). main.ts passes its SIGTERM path. */
  requestStop?: () => void;
  /** Cheaper password hashing, faster slowdown, fake account lookup (tests). */
  authTuning?: AuthTuning;
}

export interface FluxRestfulServer {
  readonly backend: JobBackend;
  /** Users store, tokens, and the authenticateHttpRequest helper for plain HTTP routes. */
  readonly auth: Auth;
  /** Listens on config.host:config.port; resolves with the bound address and base URL. */
  listen(): Promise<{ address: AddressInfo; url: string }>;
  /** Graceful stop: ends streams, lets requests finish within the grace period, closes the backend. */
  close(): Promise<void>;
}

export async function createServer(config: Config, deps: ServerDeps = {}): Promise<FluxRestfulServer> {
  const logger = deps.logger ?? createSilentLogger();
  const anonymousCaller: Caller = { name: processUser().username, superuser: true, authenticated: false };
  // Before the backend: a refused auth setup must not leave jobs or stores open.
  const auth = await createAuth({
    config,
    logger: logger.child({ component: "auth" }),
    anonymousCaller,
    tuning: deps.authTuning,
  });
  let backend: JobBackend;
  try {
    // FLUX_NUMBER_NODES and FLUX_HAS_GPUS cap what the backend discovers, for every API.
    backend = capBackendResources(deps.backend ?? (await selectBackend(config, logger)), {
      maxNodes: config.numberNodes,
      gpus: config.hasGpus,
    });
    await backend.start();
  } catch (e) {
    auth.close();
    throw e;
  }

  const shutdown = new AbortController();
  // Every in-flight request listens on the shutdown signal; thousands at once is normal here.
  setMaxListeners(0, shutdown.signal);
  const jobService = createJobService({
    backend,
    limits: { launchers: config.launchers, defaultShellOptions: config.optionFlags },
    anonymousCaller,
    ownerFor: auth.ownerFor,
  });

  const interceptors: Interceptor[] = [createLoggingInterceptor(logger.child({ component: "rpc" })), auth.interceptor];
  const descriptorSet = await loadDescriptorSet();
  const routes = (router: ConnectRouter) => {
    router.service(JobService, jobService);
    router.service(
      AuthService,
      createAuthService({
        authenticator: auth.authenticator,
        tokens: auth.tokens,
        secretKey: config.secretKey,
        anonymousCaller,
        info: {
          version: deps.version ?? "dev",
          backend: backend.name,
          serverMode: config.serverMode,
          authRequired: config.requireAuth,
        },
        logger: logger.child({ component: "auth" }),
      }),
    );
    router.service(
      AdminService,
      createAdminService({
        users: auth.users,
        anonymousCaller,
        requestStop: () => (deps.requestStop ? deps.requestStop() : void close()),
        logger: logger.child({ component: "admin" }),
      }),
    );
    // Health and reflection last: they answer for every service registered above.
    const services = registeredServices(router);
    router.service(Health, createHealthService({ backend, services: services.map((s) => s.typeName) }));
    registerReflection(router, { services: [...services, Health], descriptorSet, logger });
  };
  // The web UI first: it owns "/" and its page paths.
  const httpRoutes: HttpRoute[] = [
    createWebRoutes({ logger: logger.child({ component: "web" }) }),
    createHealthRoutes(backend),
    // The legacy /v1 routes call the same services through the same interceptors.
    createRestRoutes({
      routes,
      interceptors,
      maxBodyBytes: config.maxRequestBytes,
      logger: logger.child({ component: "rest" }),
      shutdownSignal: shutdown.signal,
    }),
  ];

  const compressions = [compressionGzip, compressionBrotli];
  // Strict JSON: a misspelt field or invalid UTF-8 is refused, never silently dropped or replaced.
  // (textDecoder is read by connect-es's JSON serialization; the adapter's option type omits it.)
  const jsonOptions = { alwaysEmitImplicit: true, ignoreUnknownFields: false, textDecoder: new TextDecoder("utf-8", { fatal: true }) };
  // Undecodable requests are InvalidArgument on every protocol (connect-es says internal or unimplemented to some).
  const checkDecoding = createRequestDecodingCheck({ readMaxBytes: config.maxRequestBytes, compressions });
  const connectHandler = createConnectAdapter({
    routes,
    wrapHandler: checkDecoding,
    logger: logger.child({ component: "rpc" }),
    interceptors,
    contextValues: (req) => createContextValues().set(kPeerAddress, req.socket?.remoteAddress ?? ""),
    shutdownSignal: shutdown.signal,
    readMaxBytes: config.maxRequestBytes,
    acceptCompression: compressions,
    jsonOptions,
    fallback: (req, res) => {
      // The size limit holds on every plain route too, before any of them reads (or ignores) the body.
      if (Number(req.headers["content-length"] ?? 0) > config.maxRequestBytes) {
        const tooLarge = `is too large (more than ${config.maxRequestBytes} bytes)`;
        // The legacy routes' error shape, {Message, Errors}; h1: close rather than read the body to discard it.
        sendJson(res, 413, { Message: `request body ${tooLarge}`, Errors: [`body: ${tooLarge}`] }, req.httpVersionMajor === 1 ? { connection: "close" } : {});
        return;
      }
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

  const listener = createOnePortServer({ maxHeaderBytes: config.maxHeaderBytes, handler: createOriginGuard(connectHandler, { logger: logger.child({ component: "web" }) }) });
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      shutdown.abort();
      await listener.close(config.shutdownGraceMs);
      await backend.close();
      auth.close();
    })();
    return closing;
  };

  return {
    backend,
    auth,
    async listen() {
      const address = await listener.listen(config.port, config.host);
      const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
      return { address, url: `http://${host}:${address.port}` };
    },
    close,
  };
}
