/**
 * The web UI's pages and assets, from this server and port (no CDN: clusters are often
 * offline). Every page path answers the same shell; the page's script draws the page and
 * fetches all data through Connect calls, which carry the credentials. The shell itself
 * holds no data, so it is served without credentials and the server never sends the
 * browser a Basic challenge it would cache (and could not forget on logout).
 *
 * GET and HEAD only: nothing here changes state.
 */
import type http from "node:http";
import type { Logger } from "../logger.js";
import { pathOf, type HttpRequest, type HttpResponse, type HttpRoute } from "../http/http-route.js";
import { createWebAssets, type Asset, type WebAssets } from "./web-assets.js";

export interface WebRoutesOptions {
  /** Where the built UI is; defaults to dist/web. */
  assetsDir?: string;
  /** Or ready assets (tests). */
  assets?: WebAssets;
  logger?: Logger;
}

/** The paths that show a page: home, jobs, submit, one job, users, login. */
const PAGE_PATHS = /^\/(?:|jobs|jobs\/submit|users|login|job\/[^/]+)$/;
const STATIC_PREFIX = "/static/";

/**
 * What the pages may load and talk to: only this origin, no inline script or style, no
 * framing. A job name or output that slipped into markup still could not run script.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

function header(req: HttpRequest, name: string): string {
  const value = req.headers[name];
  return (Array.isArray(value) ? value.join(",") : value) ?? "";
}

function send(req: HttpRequest, res: HttpResponse, status: number, headers: Record<string, string>, body: Buffer | string): void {
  const out = typeof body === "string" ? Buffer.from(body) : body;
  (res as http.ServerResponse).writeHead(status, { ...SECURITY_HEADERS, ...headers, "content-length": String(out.length) });
  if (req.method === "HEAD") res.end();
  else res.end(out);
}

function sendAsset(req: HttpRequest, res: HttpResponse, asset: Asset, cacheControl: string, extra: Record<string, string> = {}): void {
  const headers: Record<string, string> = { "content-type": asset.contentType, etag: asset.etag, "cache-control": cacheControl, vary: "accept-encoding", ...extra };
  if (header(req, "if-none-match").split(",").some((tag) => tag.trim() === asset.etag)) {
    (res as http.ServerResponse).writeHead(304, { ...SECURITY_HEADERS, etag: asset.etag, "cache-control": cacheControl, vary: "accept-encoding" });
    res.end();
    return;
  }
  if (asset.gzip && /\bgzip\b/.test(header(req, "accept-encoding"))) {
    send(req, res, 200, { ...headers, "content-encoding": "gzip" }, asset.gzip);
    return;
  }
  send(req, res, 200, headers, asset.body);
}

export function createWebRoutes(options: WebRoutesOptions = {}): HttpRoute {
  const assets = options.assets ?? createWebAssets(options.assetsDir);
  let warned = false;

  return async (req, res) => {
    const path = pathOf(req);
    const isPage = PAGE_PATHS.test(path);
    const name = path.startsWith(STATIC_PREFIX) ? path.slice(STATIC_PREFIX.length) : undefined;
    if (!isPage && name === undefined) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(req, res, 405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" }, `method ${req.method} not allowed\n`);
      return true;
    }
    const asset = await assets.get(isPage ? "index.html" : name!);
    if (asset && !(name !== undefined && (name === "index.html" || name.includes("/")))) {
      if (isPage) sendAsset(req, res, asset, "no-store", { "content-security-policy": CONTENT_SECURITY_POLICY });
      else sendAsset(req, res, asset, "no-cache");
      return true;
    }
    if (isPage && !asset) {
      if (!warned) options.logger?.warn("web UI not built: run `npm run build:web`");
      warned = true;
      // "/" stays 200: operator tooling (the Flux Operator SDK) polls it to learn the server is up.
      const status = path === "/" ? 200 : 503;
      send(req, res, status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" }, "flux-restful is running. The web interface is not built on this server: run `npm run build:web`. The API works without it.\n");
      return true;
    }
    send(req, res, 404, { "content-type": "text/plain; charset=utf-8" }, `no such file: ${path}\n`);
    return true;
  };
}
