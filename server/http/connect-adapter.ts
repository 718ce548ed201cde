/**
 * The Node HTTP handler in front of Connect's router, in place of connect-node's
 * connectNodeAdapter. Same routing and responses; it differs in what a request costs:
 *
 * - connect-node aborts every request's AbortController when the request closes, also after a
 *   normal finish, and without a reason, so Node builds a DOMException with a stack trace per
 *   request (about 10 µs each). Here the signal aborts only when the request ends before its
 *   response did (the client went away or reset the stream), with a Canceled reason; after a
 *   normal finish Connect's own handler context has been aborted already.
 * - the body is read from the request's events, not through the stream's async iterator.
 * - a unary call's answer is written in one go (unary-response.ts).
 * - a handler that fails after its response started is logged through the server's logger.
 */
import type http from "node:http";
import type http2 from "node:http2";
import { Code, ConnectError, createConnectRouter, type ConnectRouter, type ConnectRouterOptions, type ContextValues } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerRequest } from "@connectrpc/connect/protocol";
import { universalResponseToNodeResponse } from "@connectrpc/connect-node";
import type { Logger } from "../logger.js";
import { readRequestBody } from "./request-body.js";
import { writeUnaryResponse } from "./unary-response.js";

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

export interface ConnectAdapterOptions extends ConnectRouterOptions {
  /** Registers the services. */
  routes: (router: ConnectRouter) => void;
  /** Wraps each registered handler (the request decoding check). */
  wrapHandler?: (handler: UniversalHandler) => UniversalHandler;
  /** Answers every path Connect has no handler for. */
  fallback: (req: NodeRequest, res: NodeResponse) => void;
  /** Values every call's context starts with. */
  contextValues?: (req: NodeRequest) => ContextValues;
  logger: Logger;
}

/** A host name or address with an optional port, as a URL takes it. */
const AUTHORITY = /^([A-Za-z0-9.\-_~]+|\[[0-9A-Fa-f:.]+\])(:(6553[0-5]|655[0-2]\d|65[0-4]\d\d|6[0-4]\d{3}|[1-5]\d{4}|\d{1,4}))?$/;

/** The h2 stream's RST code when a client reset it, for the abort reason. */
function resetCodeOf(req: NodeRequest): number | undefined {
  return "stream" in req ? req.stream.rstCode : undefined;
}

export function createConnectAdapter(options: ConnectAdapterOptions): (req: NodeRequest, res: NodeResponse) => void {
  const router = createConnectRouter(options);
  options.routes(router);
  const paths = new Map<string, UniversalHandler>();
  for (const handler of router.handlers) paths.set(handler.requestPath, options.wrapHandler ? options.wrapHandler(handler) : handler);
  const { logger } = options;

  return (req, res) => {
    const url = req.url ?? "";
    const q = url.indexOf("?");
    const handler = paths.get(q === -1 ? url : url.slice(0, q));
    if (handler === undefined) {
      options.fallback(req, res);
      return;
    }
    const unary = handler.method.methodKind === "unary";
    const given = "authority" in req ? req.authority : req.headers.host;
    // Connect parses the URL of GET calls; a Host that would not parse must not fail them.
    const authority = given !== undefined && AUTHORITY.test(given) ? given : "localhost";
    const controller = new AbortController();
    res.once("close", () => {
      if (res.writableEnded) return; // answered: Connect's handler context has ended the call
      const rst = resetCodeOf(req);
      controller.abort(new ConnectError(rst ? `the client reset the stream (code ${rst})` : "the client went away", Code.Canceled));
    });
    const header = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (name.charCodeAt(0) === 58 /* ":" */ || value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) header.append(name, v);
      else header.append(name, String(value));
    }
    const uReq: UniversalServerRequest = {
      httpVersion: req.httpVersion,
      method: req.method ?? "",
      // Connect reads the query of GET calls from it; "encrypted" is never true here (h2c and plain h1).
      url: `http://${authority}${url}`,
      header,
      body: readRequestBody(req),
      signal: controller.signal,
      contextValues: options.contextValues?.(req),
    };
    handler(uReq)
      .then((uRes) => (unary ? writeUnaryResponse(uRes, res) : universalResponseToNodeResponse(uRes, res)))
      .catch((e: unknown) => {
        // A client that went away mid-response is not a server failure.
        if (ConnectError.from(e).code === Code.Aborted || controller.signal.aborted) return;
        logger.error("rpc response failed", { procedure: `${handler.service.typeName}/${handler.method.name}`, cause: e });
        if (!res.headersSent) {
          (res as http.ServerResponse).writeHead(500);
          res.end();
        } else res.destroy();
      });
  };
}
