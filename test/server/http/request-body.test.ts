/**
 * The request body reader Connect gets: every byte in order (with pauses for a slow reader),
 * a body cut short is an Aborted error, and a reader that stops early leaves the connection
 * usable for the next request.
 */
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readRequestBody } from "../../../server/http/request-body.js";

type Outcome = { bytes: number; sum: number; chunks: number } | { error: ConnectError };

describe("readRequestBody", () => {
  let server: http.Server;
  let port: number;
  /** What the server read from the last request with the given path. */
  const outcomes = new Map<string, Promise<Outcome>>();

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const path = req.url ?? "";
      const outcome = (async (): Promise<Outcome> => {
        let bytes = 0;
        let sum = 0;
        let chunks = 0;
        try {
          for await (const chunk of readRequestBody(req)) {
            chunks++;
            for (const b of chunk) sum = (sum + b * ((bytes++ % 251) + 1)) % 1_000_003;
            // A slow reader: the body waits (paused) rather than piling up in memory.
            if (path === "/slow") await new Promise((r) => setTimeout(r, 1));
            if (path === "/first" && bytes > 0) break;
          }
        } catch (e) {
          return { error: ConnectError.from(e) };
        }
        return { bytes, sum, chunks };
      })();
      outcomes.set(path, outcome);
      void outcome.then((o) => {
        if (!res.destroyed) res.end(JSON.stringify("bytes" in o ? o.bytes : o.error.code));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const body = Buffer.alloc(1024 * 1024 + 17, 0);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7919) % 256;
  let expectedSum = 0;
  for (let i = 0; i < body.length; i++) expectedSum = (expectedSum + body[i]! * ((i % 251) + 1)) % 1_000_003;

  async function post(path: string, data: Buffer, agent?: http.Agent): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = http.request({ port, host: "127.0.0.1", path, method: "POST", agent }, (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString()));
        res.on("end", () => resolve(text));
      });
      req.on("error", reject);
      req.end(data);
    });
  }

  it("reads every byte in order, also when the reader is slower than the client", async () => {
    expect(await post("/fast", body)).toBe(String(body.length));
    expect(await outcomes.get("/fast")).toMatchObject({ bytes: body.length, sum: expectedSum });
    expect(await post("/slow", body)).toBe(String(body.length));
    const slow = (await outcomes.get("/slow")) as { bytes: number; sum: number; chunks: number };
    expect(slow).toMatchObject({ bytes: body.length, sum: expectedSum });
    expect(slow.chunks).toBeGreaterThan(1);
  });

  it("ends an empty body at once", async () => {
    expect(await post("/empty", Buffer.alloc(0))).toBe("0");
  });

  it("fails with Aborted when the client goes away mid-body", async () => {
    const socket = await new Promise<net.Socket>((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => resolve(s));
    });
    socket.write(`POST /cut HTTP/1.1\r\nhost: x\r\ncontent-length: 100000\r\n\r\n${"a".repeat(1000)}`);
    for (let i = 0; i < 100 && !outcomes.has("/cut"); i++) await new Promise((r) => setTimeout(r, 10));
    socket.destroy();
    const outcome = await outcomes.get("/cut");
    expect(outcome && "error" in outcome ? outcome.error.code : outcome).toBe(Code.Aborted);
  });

  it("lets the rest of a body drain when the reader stops early, keeping the connection usable", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await post("/first", body, agent);
      expect(Number(first)).toBeGreaterThan(0);
      expect(Number(first)).toBeLessThan(body.length);
      expect(await post("/fast", body, agent)).toBe(String(body.length));
    } finally {
      agent.destroy();
    }
  });
});
