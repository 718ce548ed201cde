/**
 * The Node adapter in front of Connect's router: calls on every protocol and HTTP version,
 * paths it does not own go to the fallback, a client that goes away mid-stream aborts the
 * handler's signal with Canceled, and a finished call's request signal is left alone.
 */
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, createClient, type HandlerContext, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UniversalServerRequest } from "@connectrpc/connect/protocol";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../../gen/grpc/health/v1/health_pb.js";
import { createConnectAdapter } from "../../../server/http/connect-adapter.js";
import { createSilentLogger } from "../../../server/logger.js";

describe("connect adapter", () => {
  let h1: http.Server;
  let h2: http2.Http2Server;
  let h1Url: string;
  let h2Url: string;
  const sessions = new Set<http2.ServerHttp2Session>();
  /** The handler contexts of the watches, in call order. */
  const watches: HandlerContext[] = [];
  /** The request signals the adapter made, by procedure, in call order. */
  const requestSignals: Record<string, AbortSignal[]> = { Check: [], Watch: [] };

  beforeAll(async () => {
    const handler = createConnectAdapter({
      routes: (router) =>
        router.service(Health, {
          check(req, ctx) {
            ctx.responseHeader.append("x-answer", "1");
            ctx.responseHeader.append("set-cookie", "a=1");
            ctx.responseHeader.append("set-cookie", "b=2");
            ctx.responseTrailer.set("x-trailer", "2");
            if (req.service !== "") throw new ConnectError(`service "${req.service}" not found`, Code.NotFound);
            return { status: Status.SERVING };
          },
          async *watch(_req, ctx) {
            watches.push(ctx);
            yield { status: Status.SERVING };
            await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
          },
        }),
      fallback: (req, res) => {
        (res as http.ServerResponse).writeHead(404, { "content-type": "text/plain" });
        res.end(`fallback ${req.method} ${req.url}`);
      },
      wrapHandler: (handler) =>
        Object.assign((req: UniversalServerRequest) => {
          requestSignals[handler.method.name]!.push(req.signal);
          return handler(req);
        }, handler),
      logger: createSilentLogger(),
    });
    h1 = http.createServer(handler);
    h2 = http2.createServer(handler);
    h2.on("session", (session) => sessions.add(session));
    await new Promise<void>((r) => h1.listen(0, "127.0.0.1", r));
    await new Promise<void>((r) => h2.listen(0, "127.0.0.1", r));
    h1Url = `http://127.0.0.1:${(h1.address() as AddressInfo).port}`;
    h2Url = `http://127.0.0.1:${(h2.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    h1.closeAllConnections();
    await new Promise((r) => h1.close(r));
    for (const session of sessions) session.destroy();
    await new Promise((r) => h2.close(r));
  });

  const transports = (): Record<string, Transport> => ({
    "connect json h1": createConnectTransport({ baseUrl: h1Url, httpVersion: "1.1" }),
    "connect binary h2": createConnectTransport({ baseUrl: h2Url, httpVersion: "2", useBinaryFormat: true }),
    grpc: createGrpcTransport({ baseUrl: h2Url }),
    "grpc-web h1": createGrpcWebTransport({ baseUrl: h1Url, httpVersion: "1.1" }),
  });

  it("answers unary calls and errors on every protocol", async () => {
    for (const [name, transport] of Object.entries(transports())) {
      const client = createClient(Health, transport);
      expect((await client.check({ service: "" })).status, name).toBe(Status.SERVING);
      const error = await client.check({ service: "missing" }).catch((e: unknown) => ConnectError.from(e));
      expect([name, error instanceof ConnectError ? error.rawMessage : error]).toEqual([name, 'service "missing" not found']);
    }
  });

  it("sends a unary call's response headers and trailers on every protocol", async () => {
    for (const [name, transport] of Object.entries(transports())) {
      let header: Headers | undefined;
      let trailer: Headers | undefined;
      await createClient(Health, transport).check({ service: "" }, { onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) });
      expect([name, header?.get("x-answer"), header?.getSetCookie(), trailer?.get("x-trailer")]).toEqual([name, "1", ["a=1", "b=2"], "2"]);
    }
  });

  it("leaves the request signal of a finished call alone (Connect ends the call's own signal)", async () => {
    const before = requestSignals.Check!.length;
    const client = createClient(Health, transports()["connect binary h2"]!);
    await client.check({ service: "" });
    await client.check({ service: "" });
    // The first call's stream has closed by the time the second one is answered.
    await new Promise((r) => setTimeout(r, 50));
    const signals = requestSignals.Check!.slice(before);
    expect(signals).toHaveLength(2);
    expect(signals.map((s) => s.aborted)).toEqual([false, false]);
  });

  it("hands paths it does not own, with their query, to the fallback", async () => {
    const res = await fetch(`${h1Url}/v1/jobs?limit=3`);
    expect([res.status, await res.text()]).toEqual([404, "fallback GET /v1/jobs?limit=3"]);
    const query = await fetch(`${h1Url}/grpc.health.v1.Health/Check?x=1`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(await query.json()).toEqual({ status: "SERVING" });
  });

  /** Opens a watch, reads its first message, then leaves: returns the watch's handler context and request signal. */
  async function watchAndLeave(name: string): Promise<[HandlerContext, AbortSignal]> {
    const before = watches.length;
    if (name === "connect json h1") {
      // connect-node's HTTP/1.1 client keeps the socket when a stream is left; fetch drops it.
      const aborter = new AbortController();
      const envelope = Buffer.from([0, 0, 0, 0, 2, 0x7b, 0x7d]); // one uncompressed message: {}
      const res = await fetch(`${h1Url}/grpc.health.v1.Health/Watch`, {
        method: "POST",
        headers: { "content-type": "application/connect+json" },
        body: envelope,
        signal: aborter.signal,
      });
      await res.body!.getReader().read();
      aborter.abort();
    } else {
      // A client that gives up resets the HTTP/2 stream (CANCEL).
      const session = http2.connect(h2Url);
      try {
        const contentType = name === "grpc" ? "application/grpc+proto" : "application/connect+proto";
        const stream = session.request({ ":method": "POST", ":path": "/grpc.health.v1.Health/Watch", "content-type": contentType, te: "trailers" });
        stream.end(Buffer.from([0, 0, 0, 0, 0])); // one empty message: HealthCheckRequest{}
        await new Promise((resolve, reject) => stream.once("data", resolve).once("error", reject));
        stream.close(http2.constants.NGHTTP2_CANCEL);
        await new Promise((resolve) => stream.once("close", resolve));
      } finally {
        session.close();
      }
    }
    return [watches[before]!, requestSignals.Watch![before]!];
  }

  it("aborts the handler's signal with Canceled when the client goes away mid-stream", async () => {
    for (const name of ["connect json h1", "connect binary h2", "grpc"]) {
      const [ctx, requestSignal] = await watchAndLeave(name);
      for (let i = 0; i < 200 && !ctx.signal.aborted; i++) await new Promise((r) => setTimeout(r, 10));
      expect([name, ctx.signal.aborted]).toEqual([name, true]);
      expect([name, ConnectError.from(ctx.signal.reason).code]).toEqual([name, Code.Canceled]);
      expect([name, requestSignal.aborted, ConnectError.from(requestSignal.reason).rawMessage]).toEqual([
        name,
        true,
        name === "connect json h1" ? "the client went away" : "the client reset the stream (code 8)",
      ]);
    }
  });
});
