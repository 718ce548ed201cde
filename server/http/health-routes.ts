/**
 * GET /healthz: the process serves requests (liveness).
 * GET /readyz: the backend can take work now (e.g. the Flux instance answers); 503 otherwise.
 */
import type { JobBackend } from "../backends/backend.js";
import { pathOf, sendJson, type HttpRoute } from "./http-route.js";

export function createHealthRoutes(backend: JobBackend): HttpRoute {
  return async (req, res) => {
    const path = pathOf(req);
    if (path !== "/healthz" && path !== "/readyz") return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      sendJson(res, 405, { Message: `method ${req.method} not allowed` }, { allow: "GET, HEAD" });
      return true;
    }
    if (path === "/healthz") {
      sendJson(res, 200, { status: "ok" });
      return true;
    }
    const readiness = await backend.ready().catch((e: unknown) => ({ ready: false, reason: String(e) }));
    sendJson(res, readiness.ready ? 200 : 503, {
      status: readiness.ready ? "ready" : "not ready",
      backend: backend.name,
      ...(readiness.reason ? { reason: readiness.reason } : {}),
    });
    return true;
  };
}
