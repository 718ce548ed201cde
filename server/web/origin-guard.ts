/**
 * Refuses requests that could change state when a browser sends them on behalf of another
 * site (cross-site request forgery). Browsers mark every POST with an Origin header, and
 * with Sec-Fetch-Site; a request that comes from a page of another origin is answered 403
 * before any route or RPC sees it. GET, HEAD and OPTIONS pass: none of them changes state
 * here (Connect only allows GET for side-effect-free methods). Clients that are not browsers
 * (the SDK in Node, the CLI, gRPC, curl) send neither header and pass.
 *
 * The web UI's own calls are same-origin Connect POSTs with a JSON body, so they pass.
 */
import type http from "node:http";
import type { RequestHandler } from "../http/one-port.js";
import type { Logger } from "../logger.js";

export interface OriginGuardOptions {
  /** Origins allowed besides the server's own (e.g. "https://portal.example.org"). */
  allowedOrigins?: readonly string[];
  logger?: Logger;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

type AnyRequest = Parameters<RequestHandler>[0];

function header(req: AnyRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The host names the request was sent to: Host (or HTTP/2 :authority), and X-Forwarded-Host behind a proxy. */
function hostsOf(req: AnyRequest): string[] {
  const hosts = [header(req, "host"), header(req, ":authority"), header(req, "x-forwarded-host")?.split(",")[0]?.trim()];
  return hosts.filter((h): h is string => !!h).map((h) => h.toLowerCase());
}

/** Why a request must be refused, or undefined when it may go on. */
export function crossOriginProblem(req: AnyRequest, allowedOrigins: ReadonlySet<string>): string | undefined {
  if (SAFE_METHODS.has(req.method ?? "GET")) return undefined;
  const origin = header(req, "origin");
  const site = header(req, "sec-fetch-site");
  if (origin === undefined) {
    // No Origin: not a browser, or a browser that says where the request came from this way.
    return site === "cross-site" || site === "same-site" ? `request from another site refused (sec-fetch-site: ${site})` : undefined;
  }
  if (allowedOrigins.has(origin.toLowerCase())) return undefined;
  let host: string;
  try {
    host = new URL(origin).host.toLowerCase();
  } catch {
    return `request from origin "${origin.slice(0, 200)}" refused`;
  }
  if (origin !== "null" && hostsOf(req).includes(host)) return undefined;
  return `request from origin "${origin.slice(0, 200)}" refused: it is not this server`;
}

/** Wraps the server's request handler with the cross-origin check. */
export function createOriginGuard(handler: RequestHandler, options: OriginGuardOptions = {}): RequestHandler {
  const allowed = new Set((options.allowedOrigins ?? []).map((o) => o.toLowerCase()));
  return (req, res) => {
    const problem = crossOriginProblem(req, allowed);
    if (problem === undefined) {
      handler(req, res);
      return;
    }
    options.logger?.warn("cross-origin request refused", { method: req.method, url: req.url, origin: header(req, "origin") });
    // A Connect error body: Connect clients read the code and message from it; others see JSON.
    const body = JSON.stringify({ code: "permission_denied", message: problem });
    (res as http.ServerResponse).writeHead(403, {
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(body)),
      "cache-control": "no-store",
    });
    res.end(body);
  };
}
