/**
 * The web UI on the server side: its pages and assets (createWebRoutes, an HttpRoute for
 * app.ts's route list, first so that it owns "/"), and the cross-origin guard wrapped around
 * the whole request handler (createOriginGuard).
 */
export { createOriginGuard, crossOriginProblem } from "./origin-guard.js";
export type { OriginGuardOptions } from "./origin-guard.js";
export { createWebAssets, DEFAULT_ASSETS_DIR } from "./web-assets.js";
export type { Asset, WebAssets } from "./web-assets.js";
export { CONTENT_SECURITY_POLICY, createWebRoutes } from "./web-routes.js";
export type { WebRoutesOptions } from "./web-routes.js";
