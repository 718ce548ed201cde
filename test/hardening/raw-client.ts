/**
 * A raw HTTP client for hostile requests: any method, path, headers and body bytes, over
 * HTTP/1.1 (keep-alive) or h2c, with nothing checked or fixed up on the way out. Each answer
 * comes back whole (status, headers, trailers, body) or as a transport error; a request that
 * gets no answer within timeoutMs is reported as a hang.
 */
import http from "node:http";
import http2 from "node:http2";

export interface RawRequest {
  httpVersion: "1.1" | "2";
  method: string;
  /** Sent as is, including path tricks and bad percent-encoding. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Send the body without a content-length (HTTP/1.1: chunked). */
  chunked?: boolean;
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  trailers: Record<string, string>;
  body: Buffer;
}

export type RawOutcome =
  | { kind: "answer"; answer: RawAnswer }
  /** The connection or stream ended without a complete answer. */
  | { kind: "transport-error"; error: string }
  | { kind: "hang" };

function flatten(headers: http.IncomingHttpHeaders | http2.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(", ") : String(v);
  return out;
}

export interface RawClient {
  send(request: RawRequest, timeoutMs?: number): Promise<RawOutcome>;
  close(): void;
}

/** A client for one server; HTTP/1.1 requests share a keep-alive pool, h2 requests one session (reopened if it dies). */
export function createRawClient(baseUrl: string, options: { maxSockets?: number } = {}): RawClient {
  const url = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 8 });
  let session: http2.ClientHttp2Session | undefined;
  const guarded = new WeakSet<object>();

  const h2session = (): http2.ClientHttp2Session => {
    if (session === undefined || session.closed || session.destroyed) {
      const s = http2.connect(baseUrl);
      s.on("error", () => {});
      s.on("goaway", () => {
        if (session === s) session = undefined;
      });
      s.unref();
      session = s;
    }
    return session;
  };

  function sendH1(request: RawRequest, timeoutMs: number): Promise<RawOutcome> {
    return new Promise((resolve) => {
      const headers: Record<string, string> = { ...request.headers };
      if (request.body !== undefined && !request.chunked) headers["content-length"] = String(request.body.length);
      // Node sends GET bodies unframed unless told: say chunked, so the server reads a body, not a next request.
      if (request.body !== undefined && request.chunked) headers["transfer-encoding"] = "chunked";
      let req: http.ClientRequest;
      try {
        req = http.request({
        agent,
        host: url.hostname,
        port: url.port,
        method: request.method,
        path: request.path,
        headers,
        // Hostile paths and header values go out untouched.
        insecureHTTPParser: true,
        });
      } catch (e) {
        resolve({ kind: "transport-error", error: `not sent: ${(e as Error).message}` });
        return;
      }
      const timer = setTimeout(() => {
        req.destroy();
        resolve({ kind: "hang" });
      }, timeoutMs);
      req.on("error", (e) => {
        clearTimeout(timer);
        resolve({ kind: "transport-error", error: e.message });
      });
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", (e) => {
          clearTimeout(timer);
          resolve({ kind: "transport-error", error: e.message });
        });
        res.on("end", () => {
          clearTimeout(timer);
          resolve({
            kind: "answer",
            answer: { status: res.statusCode ?? 0, headers: flatten(res.headers), trailers: flatten(res.trailers), body: Buffer.concat(chunks) },
          });
        });
      });
      // A server that answers before reading the whole body may reset the rest: the answer still counts.
      // Once per socket: the keep-alive pool hands the same socket to many requests.
      req.on("socket", (s) => {
        if (!guarded.has(s)) {
          guarded.add(s);
          s.on("error", () => {});
        }
      });
      if (request.body !== undefined) req.end(request.body);
      else req.end();
    });
  }

  function sendH2(request: RawRequest, timeoutMs: number): Promise<RawOutcome> {
    // Each answer must belong to its own request. Node's client closes its whole session when
    // the peer refuses a header block as too large, and a large body answered early leaves the
    // session's flow control to be untangled by resets: such requests get a session of their own.
    const headerBytes = request.path.length + Object.entries(request.headers).reduce((n, [k, v]) => n + k.length + v.length, 0);
    const own = headerBytes > 8 * 1024 || (request.body?.length ?? 0) > 64 * 1024 ? http2.connect(baseUrl).on("error", () => {}) : undefined;
    return new Promise<RawOutcome>((resolve) => {
      let stream: http2.ClientHttp2Stream;
      try {
        stream = (own ?? h2session()).request(
          {
            ":method": request.method,
            ":path": request.path,
            ...(request.body !== undefined && !request.chunked ? { "content-length": String(request.body.length) } : {}),
            ...request.headers,
          },
          { endStream: request.body === undefined },
        );
      } catch (e) {
        resolve({ kind: "transport-error", error: (e as Error).message });
        return;
      }
      let status = 0;
      let headers: Record<string, string> = {};
      let trailers: Record<string, string> = {};
      const chunks: Buffer[] = [];
      const timer = setTimeout(() => {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        resolve({ kind: "hang" });
      }, timeoutMs);
      stream.on("response", (h) => {
        status = Number(h[":status"] ?? 0);
        headers = flatten(h);
      });
      stream.on("trailers", (t) => (trailers = flatten(t)));
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("error", () => {});
      const finish = () => {
        clearTimeout(timer);
        if (status === 0) {
          resolve({ kind: "transport-error", error: `stream closed with code ${stream.rstCode}` });
        } else {
          resolve({ kind: "answer", answer: { status, headers, trailers, body: Buffer.concat(chunks) } });
        }
      };
      // The answer is complete when the server ends its side, even if it stopped reading the
      // request early (an oversized body on a session of its own, destroyed afterwards).
      stream.on("end", finish);
      stream.on("close", finish);
      if (request.body !== undefined) stream.end(request.body);
    }).finally(() => own?.destroy());
  }

  return {
    send(request, timeoutMs = 15_000) {
      return request.httpVersion === "2" ? sendH2(request, timeoutMs) : sendH1(request, timeoutMs);
    },
    close() {
      agent.destroy();
      session?.destroy();
    },
  };
}
