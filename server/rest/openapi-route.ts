/**
 * GET /openapi.json: the OpenAPI document of the legacy routes. Public, like 0.2's.
 */
import type http from "node:http";
import { rejectUnknownParams } from "./http-io.js";
import { OPENAPI_DOCUMENT } from "./openapi.js";
import type { RestRouteDef } from "./rest-context.js";

const TEXT = JSON.stringify(OPENAPI_DOCUMENT);

export const openApiRoute: RestRouteDef = {
  method: "GET",
  pattern: /^\/openapi\.json$/,
  async handle(ctx) {
    rejectUnknownParams(ctx.query, []);
    (ctx.res as http.ServerResponse).writeHead(200, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(TEXT),
      "cache-control": "no-cache",
    });
    ctx.res.end(TEXT);
  },
};
