/**
 * POST /v1/token (the 0.2 client's exchange: `Authorization: Bearer <payload signed with
 * FLUX_SECRET_KEY>`) and POST /v1/login/access-token (OAuth2 password form, as Swagger's
 * "Authorize" sends it), both answered by AuthService.CreateToken.
 *
 * Refused credentials are 400 {"Message": "Denied"} as in 0.2, never 401: the 0.2 client
 * answers a 401 by requesting a token, so a 401 here would make it recurse.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { AuthService, type CreateTokenRequestSchema } from "../../gen/flux/restful/v1/auth_service_pb.js";
import { headerOf, rejectUnknownParams, sendExactJson } from "./http-io.js";
import { RestInputError } from "./legacy-errors.js";
import type { RestContext, RestRouteDef } from "./rest-context.js";

/** Codes that mean "these credentials do not give a token". */
const DENIED = new Set([Code.Unauthenticated, Code.InvalidArgument, Code.FailedPrecondition, Code.PermissionDenied]);

async function issue(ctx: RestContext, request: MessageInitShape<typeof CreateTokenRequestSchema>, deniedDetail: string) {
  try {
    // Credentials travel in the message; the Authorization header is not forwarded.
    const res = await ctx.rpc.unary(AuthService.method.createToken, request, { ...ctx.call, authorization: undefined });
    sendExactJson(ctx.res, 200, { access_token: res.accessToken, token_type: res.tokenType });
  } catch (e) {
    const err = ConnectError.from(e);
    if (!DENIED.has(err.code)) throw e;
    sendExactJson(ctx.res, 400, { Message: "Denied", detail: deniedDetail, Errors: [err.rawMessage] });
  }
}

export const tokenRoute: RestRouteDef = {
  method: "POST",
  pattern: /^\/v1\/token$/,
  async handle(ctx) {
    rejectUnknownParams(ctx.query, []);
    // As 0.2: the last space-separated word, so "Bearer <jwt>" and a bare "<jwt>" both work.
    const payload = (headerOf(ctx.req, "authorization") ?? "").trim().split(/\s+/).pop() ?? "";
    if (payload === "") {
      sendExactJson(ctx.res, 400, { Message: "Denied", detail: "Missing credentials", Errors: ["authorization: is required"] });
      return;
    }
    await issue(ctx, { credentials: { case: "signedPayload", value: payload } }, "Could not validate credentials");
  },
};

const FORM_FIELDS = ["username", "password", "grant_type", "scope", "client_id", "client_secret"];

export const loginRoute: RestRouteDef = {
  method: "POST",
  pattern: /^\/v1\/login\/access-token$/,
  async handle(ctx) {
    rejectUnknownParams(ctx.query, []);
    const body = await ctx.body();
    let fields: Map<string, unknown>;
    if (body.kind === "form") fields = new Map(body.fields);
    else if (body.kind === "json" && typeof body.value === "object" && body.value !== null && !Array.isArray(body.value)) {
      fields = new Map(Object.entries(body.value));
    } else fields = new Map();
    const errors = [...fields.keys()].filter((k) => !FORM_FIELDS.includes(k)).map((k) => `${k}: unknown field`);
    const text = (name: string) => {
      const v = fields.get(name);
      if (v === undefined || v === null) return "";
      if (typeof v !== "string") errors.push(`${name}: must be a string`);
      return typeof v === "string" ? v : "";
    };
    const username = text("username");
    const password = text("password");
    const grantType = text("grant_type");
    if (username === "") errors.push("username: is required");
    if (password === "") errors.push("password: is required");
    if (grantType !== "" && grantType !== "password") errors.push(`grant_type: must be "password" (got "${grantType}")`);
    if (errors.length > 0) throw new RestInputError(errors, 400, "Invalid login request");
    await issue(ctx, { credentials: { case: "password", value: { username, password } } }, "Incorrect email or password");
  },
};
