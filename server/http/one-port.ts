/**
 * One TCP port for every protocol. Node 20's http2 `allowHTTP1` only works over TLS
 * (ALPN), so a net.Server reads the first bytes of each connection: the HTTP/2
 * connection preface goes to an http2 server (gRPC over h2c, Connect over h2),
 * anything else to an http/1.1 server (Connect JSON, gRPC-Web, REST, web UI).
 */
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import type { AddressInfo } from "node:net";

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

export type RequestHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

export interface OnePortServerOptions {
  handler: RequestHandler;
  /** Connections that send nothing for this long are dropped before dispatch. Defaults to 10 s. */
  sniffTimeoutMs?: number;
  /**
   * Largest request header block: HTTP/1.1 answers 431 beyond it, HTTP/2 advertises it as
   * SETTINGS_MAX_HEADER_LIST_SIZE and refuses larger streams. Defaults to 16 KiB.
   */
  maxHeaderBytes?: number;
}

export interface OnePortServer {
  listen(port: number, host: string): Promise<AddressInfo>;
  /**
   * Stops accepting, lets in-flight requests finish for graceMs, then destroys what is left.
   * Resolves when every connection is gone.
   */
  close(graceMs: number): Promise<void>;
}

export function createOnePortServer(options: OnePortServerOptions): OnePortServer {
  const sniffTimeoutMs = options.sniffTimeoutMs ?? 10_000;
  const maxHeaderBytes = options.maxHeaderBytes ?? 16 * 1024;
  const h1 = http.createServer(
    { maxHeaderSize: maxHeaderBytes, requestTimeout: 60_000, keepAliveTimeout: 5_000 },
    options.handler as http.RequestListener,
  );
  // Node answers a request it cannot parse with a bare 400 or 431; say why, in the legacy
  // routes' error shape. A response already under way cannot be replaced: drop the socket.
  h1.on("clientError", (err: NodeJS.ErrnoException, socket: net.Socket) => {
    const answering = (socket as net.Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
    if (!socket.writable || answering || err.code === "ECONNRESET") {
      socket.destroy();
      return;
    }
    const [status, message] =
      err.code === "HPE_HEADER_OVERFLOW"
        ? [431, `request headers are too large (more than ${maxHeaderBytes} bytes)`]
        : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
          ? [408, "the request did not arrive in time"]
          : [400, "malformed HTTP request"];
    const body = JSON.stringify({ Message: message });
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
  // http.Server switches on its connection tracking (idle closing, header and request
  // timeouts) when it starts listening; this one never listens itself, so say it did.
  h1.emit("listening");
  const h2 = http2.createServer({ maxSessionMemory: 64, settings: { maxHeaderListSize: maxHeaderBytes } }, options.handler as (
    req: http2.Http2ServerRequest,
    res: http2.Http2ServerResponse,
  ) => void);
  const sockets = new Set<net.Socket>();
  /** Connections that have not sent their first bytes: they carry no request, so close() drops them at once. */
  const unsniffed = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  });

  const dispatch = (socket: net.Socket) => {
    sockets.add(socket);
    unsniffed.add(socket);
    socket.on("close", () => {
      sockets.delete(socket);
      unsniffed.delete(socket);
    });
    socket.on("error", () => socket.destroy());
    socket.setTimeout(sniffTimeoutMs, () => socket.destroy());
    let buffered: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const n = Math.min(buffered.length, PREFACE.length);
      const isH2 = buffered.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (isH2 && buffered.length < PREFACE.length) return; // the preface may arrive in pieces
      socket.removeListener("data", onData);
      unsniffed.delete(socket);
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(buffered);
      if (isH2) {
        // The http2 session reads the unshifted bytes itself; resuming here corrupts framing.
        h2.emit("connection", socket);
      } else {
        h1.emit("connection", socket);
        socket.resume();
      }
    };
    socket.on("data", onData);
  };
  const tcp = net.createServer({ noDelay: true }, dispatch);

  return {
    listen(port, host) {
      return new Promise((resolve, reject) => {
        tcp.once("error", reject);
        tcp.listen(port, host, () => {
          tcp.off("error", reject);
          resolve(tcp.address() as AddressInfo);
        });
      });
    },
    async close(graceMs) {
      const closed = new Promise<void>((resolve) => tcp.close(() => resolve()));
      for (const socket of unsniffed) socket.destroy();
      h1.close(); // stops the tracking timer and closes idle keep-alive connections
      for (const session of sessions) session.close(); // GOAWAY: no new streams, running ones finish
      h1.closeIdleConnections();
      const deadline = Date.now() + graceMs;
      while (sockets.size > 0 && Date.now() < deadline) {
        h1.closeIdleConnections();
        await new Promise((r) => setTimeout(r, 25));
      }
      for (const socket of sockets) socket.destroy();
      for (const session of sessions) session.destroy();
      await closed;
    },
  };
}
