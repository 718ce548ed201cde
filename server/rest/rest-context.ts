/**
 * What a legacy route handler gets: the request, its query and path parameters, the
 * body reader, and the in-memory RPC client bound to this request's credentials.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { HttpRequest, HttpResponse } from "../http/http-route.js";
import type { Logger } from "../logger.js";
import { headerOf, parseBody, readBody, type ParsedBody } from "./http-io.js";
import type { ErrorShape } from "./legacy-errors.js";
import type { CallContext, RestRpc } from "./rpc-client.js";

export interface RestContext {
  req: HttpRequest;
  res: HttpResponse;
  query: URLSearchParams;
  /** Path parameters, percent-decoded, in pattern order. */
  params: string[];
  /** Forwards Authorization; aborted when the client goes away. */
  call: CallContext;
  rpc: RestRpc;
  logger: Logger;
  /** Reads and parses the body (bounded by the server's request size limit). */
  body(): Promise<ParsedBody>;
}

export interface RestRouteDef {
  method: "GET" | "POST";
  /** Matched against the path without a trailing slash; groups are the path parameters. */
  pattern: RegExp;
  handle(ctx: RestContext): Promise<void>;
  /** How this route words its errors. */
  errorShape?(ctx: RestContext): ErrorShape;
}

export function createCallContext(req: HttpRequest, res: HttpResponse): CallContext {
  const controller = new AbortController();
  // "close" also fires after a normal finish, when the call is over anyway: only a response
  // cut short aborts, with a reason (abort() without one builds a DOMException and its stack).
  res.once("close", () => {
    if (!res.writableEnded) controller.abort(new ConnectError("the client went away", Code.Canceled));
  });
  return {
    authorization: headerOf(req, "authorization"),
    requestId: headerOf(req, "x-request-id"),
    peer: req.socket?.remoteAddress ?? "",
    signal: controller.signal,
  };
}

/** Reads the body once, refusing more than maxBytes: raw() alone reads it, parsed() also parses it. */
export function bodyReader(req: HttpRequest, maxBytes: number): { raw(): Promise<Buffer>; parsed(): Promise<ParsedBody> } {
  let raw: Promise<Buffer> | undefined;
  let parsed: Promise<ParsedBody> | undefined;
  const readRaw = () => (raw ??= readBody(req, maxBytes));
  return { raw: readRaw, parsed: () => (parsed ??= readRaw().then((bytes) => parseBody(req, bytes))) };
}
