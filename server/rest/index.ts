/**
 * The legacy flux-restful-api 0.2 REST surface: the /v1 routes and /openapi.json, and the
 * 0.2 resource caps.
 */
export { createRestRoutes, matchRestRoute, REST_ROUTES, type RestRoutesOptions } from "./rest-routes.js";
export { capBackendResources, type ResourceCaps } from "./resource-caps.js";
export { OPENAPI_DOCUMENT } from "./openapi.js";
export { stringifyExact, type ExactJsonValue } from "./exact-json.js";
