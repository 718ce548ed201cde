/**
 * One port for HTTP/1.1 and h2c: the real curl binary on both, a connection preface that
 * arrives in pieces, silent connections, and shutdown with streams still open.
 */
import { execFile } from "node:child_process";
import net from "node:net";
import { createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobService } from "../../../gen/flux/restful/v1/job_service_pb.js";
import { createOnePortServer } from "../../../server/http/one-port.js";
import { startTestServer, type TestServer } from "../../support/start-test-server.js";
import { createTransports } from "../../support/transports.js";

interface CurlResult {
  status: number;
  httpVersion: string;
  body: string;
}

/** Runs the curl binary; `-w` appends the status and HTTP version after the body. */
function curl(args: string[]): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    execFile("curl", ["-sS", "-w", "\n%{http_code} %{http_version}", ...args], { timeout: 10_000 }, (err, stdout) => {
      if (err) return reject(err);
      const cut = stdout.lastIndexOf("\n");
      const [status, httpVersion] = stdout.slice(cut + 1).split(" ");
      resolve({ status: Number(status), httpVersion, body: stdout.slice(0, cut) });
    });
  });
}

/**
 * Connects, writes each piece after a pause, and collects what the server sends until `enough`
 * says so, the server closes, or timeoutMs passes.
 */
async function rawExchange(
  port: number,
  pieces: (string | Buffer)[],
  enough: (received: Buffer) => boolean,
  timeoutMs = 10_000,
): Promise<Buffer> {
  const socket = net.connect(port, "127.0.0.1");
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  const received: Buffer[] = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  socket.on("data", (d: Buffer) => {
    received.push(d);
    if (enough(Buffer.concat(received))) done();
  });
  socket.once("close", () => done());
  for (const piece of pieces) {
    socket.write(piece);
    await new Promise((r) => setTimeout(r, 30));
  }
  await Promise.race([finished, new Promise((r) => setTimeout(r, timeoutMs))]);
  socket.destroy();
  return Buffer.concat(received);
}

/** An HTTP/2 frame header: 24-bit length, type, flags, stream id. */
function frame(type: number, flags: number, streamId: number, payload = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

const SETTINGS = 0x4;

describe("one port, one real server", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it.each([
    ["HTTP/1.1", [], "1.1"],
    ["h2c prior knowledge", ["--http2-prior-knowledge"], "2"],
  ])("serves GET /healthz to curl over %s", async (_name, flags, version) => {
    const res = await curl([...flags, `${server.url}/healthz`]);
    expect(res).toMatchObject({ status: 200, httpVersion: version });
    expect(JSON.parse(res.body)).toEqual({ status: "ok" });
  });

  it.each([
    ["HTTP/1.1", [], "1.1"],
    ["h2c prior knowledge", ["--http2-prior-knowledge"], "2"],
  ])("answers a Connect JSON call from curl over %s", async (_name, flags, version) => {
    const post = (procedure: string, body: unknown) =>
      curl([...flags, "-X", "POST", "-H", "Content-Type: application/json", "-d", JSON.stringify(body), `${server.url}/${procedure}`]);
    const submitted = await post("flux.restful.v1.JobService/SubmitJob", { command: ["true"], name: "curl" });
    expect(submitted).toMatchObject({ status: 200, httpVersion: version });
    const { id } = JSON.parse(submitted.body) as { id: string };
    const got = await post("flux.restful.v1.JobService/GetJob", { id });
    expect(got.status).toBe(200);
    expect(JSON.parse(got.body)).toMatchObject({ job: { id, name: "curl" } });
    const missing = await post("flux.restful.v1.JobService/GetJob", { id: "ƒ2Xyz9" });
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toMatchObject({ code: "not_found" });
  });

  it("recognises the HTTP/2 preface when it arrives split across writes", async () => {
    const bytes = await rawExchange(
      server.port,
      ["PR", "I * HT", "TP/2.0\r\n", "\r\nSM\r\n\r\n", frame(SETTINGS, 0, 0)],
      (b) => b.length >= 9,
    );
    // The server's connection preface is a SETTINGS frame on stream 0.
    expect(bytes.length).toBeGreaterThanOrEqual(9);
    expect(bytes[3]).toBe(SETTINGS);
    expect(bytes.readUInt32BE(5)).toBe(0);
  });

  it("serves HTTP/1.1 when the first bytes only look like the preface for a moment", async () => {
    const bytes = await rawExchange(
      server.port,
      ["P", "OST /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"],
      (b) => b.includes("\r\n\r\n"),
    );
    // POST /healthz is not allowed: the answer proves the h1 server parsed "P" + "OST" as one method.
    expect(bytes.toString("latin1")).toMatch(/^HTTP\/1\.1 405 /);
  });
});

describe("silent connections", () => {
  it("drops a connection that sends nothing after the sniff timeout while serving others", async () => {
    const listener = createOnePortServer({ handler: (_req, res) => res.end("ok"), sniffTimeoutMs: 300 });
    const { port } = await listener.listen(0, "127.0.0.1");
    try {
      const silent = net.connect(port, "127.0.0.1");
      const openedAt = Date.now();
      const closedAfterMs = new Promise<number>((resolve) => silent.once("close", () => resolve(Date.now() - openedAt)));
      silent.on("error", () => {});
      const res = await curl([`http://127.0.0.1:${port}/`]);
      expect(res).toMatchObject({ status: 200, body: "ok" });
      const ms = await closedAfterMs;
      expect(ms).toBeGreaterThanOrEqual(250);
      expect(ms).toBeLessThan(10_000);
    } finally {
      const startedAt = Date.now();
      await listener.close(5_000);
      // Nothing is left to wait for: close does not sit out the grace period.
      expect(Date.now() - startedAt).toBeLessThan(2_500);
    }
  });

  it("does not hold a real server's close beyond the grace period", async () => {
    const server = await startTestServer();
    const silent = net.connect(server.port, "127.0.0.1");
    silent.on("error", () => {});
    await new Promise<void>((resolve) => silent.once("connect", () => resolve()));
    const startedAt = Date.now();
    await server.close();
    expect(Date.now() - startedAt).toBeLessThan(server.config.shutdownGraceMs + 1_000);
    await expect.poll(() => silent.destroyed || silent.readableEnded).toBe(true);
  });
});

describe("close() with open streams", () => {
  it("ends output streams on HTTP/1.1 and HTTP/2 at once, without sitting out the grace period", async () => {
    // A long grace, so "at once" (under half of it) has room on a busy machine.
    const server = await startTestServer({ env: { FLUX_RESTFUL_SHUTDOWN_GRACE_MS: "20000" } });
    const transports = createTransports(server.url);
    // Also leaves an idle keep-alive HTTP/1.1 connection behind, as browsers and SDK clients do.
    const submitter = createClient(JobService, transports["connect-json-h1"]);
    const { id } = await submitter.submitJob({ command: ["sh", "-c", "while :; do echo tick; sleep 0.05; done"] });

    const names = ["connect-json-h1", "grpc", "connect-binary-h2", "grpc-web"] as const;
    const streams = names.map((name) => {
      let firstChunk!: () => void;
      const first = new Promise<void>((resolve) => (firstChunk = resolve));
      const outcome = (async () => {
        try {
          for await (const msg of createClient(JobService, transports[name]).streamJobOutput({ id })) {
            if (msg.item.case === "chunk") firstChunk();
          }
          return "ended";
        } catch (e) {
          return `failed: ${String(e)}`;
        }
      })();
      return { first, outcome };
    });
    await Promise.all(streams.map((s) => s.first));

    const startedAt = Date.now();
    await server.close();
    const tookMs = Date.now() - startedAt;
    // Shutdown ends every stream at once and idle connections have nothing to finish, so nothing
    // needs the grace period (which is for requests still being answered).
    expect(tookMs).toBeLessThan(server.config.shutdownGraceMs / 2);
    const outcomes = await Promise.race([
      Promise.all(streams.map((s) => s.outcome)),
      new Promise<string>((r) => setTimeout(() => r("streams still open"), 10_000)),
    ]);
    expect(outcomes).toEqual(names.map(() => "ended"));
  });
});
