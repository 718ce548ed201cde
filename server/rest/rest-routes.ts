/**
 * The legacy flux-restful-api 0.2 routes (/v1/...) and GET /openapi.json, as one
 * HttpRoute. Each route translates HTTP to calls of the real services through the same
 * interceptors as Connect (rpc-client.ts), and the answers back to 0.2's shapes.
 *
 * ```ts
 * const httpRoutes = [createRestRoutes({ routes, interceptors, maxBodyBytes, logger }), ...];
 * ```
 */
import { ConnectError, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { pathOf, type HttpRoute } from "../http/http-route.js";
import type { Logger } from "../logger.js";
import { sendExactJson } from "./http-io.js";
import { cancelJobRoute, getJobRoute, jobOutputRoute } from "./job-routes.js";
import { toErrorAnswer } from "./legacy-errors.js";
import { listJobsRoute, searchJobsRoute } from "./list-routes.js";
import { openApiRoute } from "./openapi-route.js";
import { bodyReader, createCallContext, type RestContext, type RestRouteDef } from "./rest-context.js";
import { createRestRpc } from "./rpc-client.js";
import { listNodesRoute, stopServiceRoute } from "./service-routes.js";
import { streamOutputRoute } from "./stream-route.js";
import { submitJobRoute } from "./submit-route.js";
import { loginRoute, tokenRoute } from "./token-routes.js";

export interface RestRoutesOptions {
  /** The same routes function the Connect adapter serves. */
  routes: (router: ConnectRouter) => void;
  /** The same interceptors, in the same order (logging, auth). */
  interceptors: readonly Interceptor[];
  /** Largest request body accepted (config.maxRequestBytes). */
  maxBodyBytes: number;
  logger: Logger;
  /** Ends open output streams when the server shuts down. */
  shutdownSignal?: AbortSignal;
}

/** Every route; order matters where patterns overlap (search and submit before {id}). */
export const REST_ROUTES: readonly RestRouteDef[] = [
  tokenRoute,
  loginRoute,
  listJobsRoute,
  searchJobsRoute,
  submitJobRoute,
  getJobRoute,
  cancelJobRoute,
  jobOutputRoute,
  streamOutputRoute,
  listNodesRoute,
  stopServiceRoute,
  openApiRoute,
];

const RESERVED_IDS = new Set(["search", "submit"]);

export interface RestRouteMatch {
  route: RestRouteDef;
  params: string[];
}

/** The route for a path (without trailing slash) and method, and the methods the path allows. */
export function matchRestRoute(path: string, method: string): { found?: RestRouteMatch; allowed: string[] } {
  const allowed: string[] = [];
  for (const route of REST_ROUTES) {
    const m = route.pattern.exec(path);
    if (!m) continue;
    // "/v1/jobs/search" is not job "search", whatever the method.
    if (route.pattern === getJobRoute.pattern && RESERVED_IDS.has(m[1]!)) continue;
    const methods = route.method === "GET" ? ["GET", "HEAD"] : [route.method];
    allowed.push(...methods);
    if (methods.includes(method)) return { found: { route, params: m.slice(1) }, allowed };
  }
  return { allowed };
}

export function createRestRoutes(options: RestRoutesOptions): HttpRoute {
  const rpc = createRestRpc(options);
  const { logger } = options;

  return async (req, res) => {
    const rawPath = pathOf(req);
    if (!rawPath.startsWith("/v1/") && rawPath !== "/openapi.json") return false;
    const path = rawPath.length > 1 && rawPath.endsWith("/") ? rawPath.slice(0, -1) : rawPath;
    const method = req.method ?? "GET";
    const { found, allowed } = matchRestRoute(path, method);
    if (!found) {
      if (allowed.length > 0) {
        sendExactJson(res, 405, { Message: `method ${method} not allowed on ${path}` }, { allow: allowed.join(", ") });
      } else {
        sendExactJson(res, 404, { Message: `no route for ${method} ${path}` });
      }
      return true;
    }
    let params: string[];
    try {
      params = found.params.map((p) => decodeURIComponent(p));
    } catch {
      sendExactJson(res, 400, { Message: "malformed percent-encoding in the path", Errors: ["path: malformed percent-encoding"] });
      return true;
    }
    const rawQuery = /\?(.*)$/s.exec(req.url ?? "")?.[1] ?? "";
    try {
      // URLSearchParams would turn bad escapes and invalid UTF-8 into U+FFFD: refuse them instead.
      decodeURIComponent(rawQuery.replace(/\+/g, " "));
    } catch {
      sendExactJson(res, 400, { Message: "malformed percent-encoding in the query", Errors: ["query: malformed percent-encoding or invalid UTF-8"] });
      return true;
    }
    const body = bodyReader(req, options.maxBodyBytes);
    const ctx: RestContext = {
      req,
      res,
      query: new URLSearchParams(rawQuery),
      params,
      call: createCallContext(req, res),
      rpc,
      logger,
      body: body.parsed,
    };
    try {
      // Read (bounded) before acting, so a body over the limit is refused by routes that take none too.
      await body.raw();
      await found.route.handle(ctx);
    } catch (e) {
      if (res.headersSent) {
        res.destroy();
        return true;
      }
      const answer = toErrorAnswer(e, found.route.errorShape?.(ctx) ?? {});
      // A service's internal error was logged with its cause by the logging interceptor.
      if (answer.status === 500 && !(e instanceof ConnectError)) logger.error("legacy route failed", { method, path, cause: e });
      sendExactJson(res, answer.status, answer.body, answer.headers);
    }
    return true;
  };
}
