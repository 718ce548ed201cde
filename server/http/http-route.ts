/**
 * Plain HTTP routes (health, legacy REST, web UI) that Connect does not own.
 * A route answers and returns true, or returns false to let the next one try.
 */
import type http from "node:http";
import type { ConnectNodeAdapterOptions } from "@connectrpc/connect-node";

type NodeHandler = NonNullable<ConnectNodeAdapterOptions["fallback"]>;
/** The request and response types Connect's node adapter hands over: HTTP/1.1 or HTTP/2. */
export type HttpRequest = Parameters<NodeHandler>[0];
export type HttpResponse = Parameters<NodeHandler>[1];
export type HttpRoute = (req: HttpRequest, res: HttpResponse) => boolean | Promise<boolean>;

/** Writes a JSON body with the given status. */
export function sendJson(res: HttpResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  (res as http.ServerResponse).writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

/** The request path without the query string. */
export function pathOf(req: HttpRequest): string {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}
