/**
 * Writes Connect's answer to a unary call in one go: head, body and trailers. connect-node's
 * general writer (universalResponseToNodeResponse) suits streams, but costs a promise with
 * "error" and "drain" listeners per chunk and another one for "end": a noticeable share of a
 * small call. A unary answer is one message (bounded by the write limit), so it is collected
 * first; streams keep the general writer, which sends each message as it comes.
 */
import type http from "node:http";
import type http2 from "node:http2";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";

type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

/** Headers as Node's writeHead takes them; repeated names (set-cookie) become arrays. */
function toNodeHeaders(header: Headers): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  header.forEach((value, name) => {
    const existing = out[name];
    out[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  });
  return out;
}

export async function writeUnaryResponse(uRes: UniversalServerResponse, res: NodeResponse): Promise<void> {
  const chunks: Uint8Array[] = [];
  if (uRes.body !== undefined) {
    // The trailers (gRPC's status) are complete once the body has been read to its end.
    for await (const chunk of uRes.body) chunks.push(chunk);
  }
  (res as http.ServerResponse).writeHead(uRes.status, uRes.header === undefined ? undefined : toNodeHeaders(uRes.header));
  if (uRes.trailer !== undefined) res.addTrailers(toNodeHeaders(uRes.trailer));
  res.end(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
}
