/**
 * The connection's writes over a real UNIX socket: requests made in one event-loop turn
 * leave in one write, in the order they were made.
 */
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createFluxConnection, createFrameDecoder, decodeMessageBody } from "../../../../../server/backends/flux/native/index.js";
import { waitUntil } from "../../../../support/wait-until.js";

type FluxConnection = ReturnType<typeof createFluxConnection>;

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** A connection to a socket server that collects every frame it is sent, and the client socket's write calls. */
async function connected() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "flux-connection-test-"));
  cleanup.push(() => fs.rm(dir, { recursive: true, force: true }));
  const socketPath = path.join(dir, "local");
  const decoder = createFrameDecoder();
  const tags: number[] = [];
  const server = net.createServer((peer) => peer.on("data", (chunk) => tags.push(...decoder.push(chunk).map((b) => decodeMessageBody(b).aux2))));
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const socket = net.connect(socketPath);
  await new Promise((resolve) => socket.once("connect", resolve));
  // Every chunk reaches the kernel through one of these (net.Socket's Writable implementation).
  const writes = { single: vi.spyOn(socket as unknown as { _write: () => void }, "_write"), batched: vi.spyOn(socket as unknown as { _writev: () => void }, "_writev") };
  const conn: FluxConnection = createFluxConnection({ socket });
  cleanup.push(() => conn.close());
  return { conn, tags, writes };
}

const send = (conn: FluxConnection, n: number) => Array.from({ length: n }, () => conn.send("job-ingest.submit", Buffer.from("{}\0"), {}, { onResponse() {}, onClose() {} }));
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));


describe("flux connection writes", () => {
  it("sends the requests of one event-loop turn in one write, in order", async () => {
    const { conn, tags, writes } = await connected();
    const sent = send(conn, 5);
    expect(writes.single).not.toHaveBeenCalled();
    expect(writes.batched).not.toHaveBeenCalled();
    await nextTurn();
    expect(writes.single).not.toHaveBeenCalled();
    expect(writes.batched).toHaveBeenCalledTimes(1);
    expect((writes.batched.mock.calls[0] as unknown[])[0]).toHaveLength(5);
    await waitUntil(() => tags.length === 5);
    expect(tags).toEqual(sent);
  });

  it("sends a later turn's requests in a write of their own", async () => {
    const { conn, tags, writes } = await connected();
    const first = send(conn, 2);
    await nextTurn();
    const second = send(conn, 1);
    await nextTurn();
    expect(writes.single.mock.calls.length + writes.batched.mock.calls.length).toBe(2);
    await waitUntil(() => tags.length === 3);
    expect(tags).toEqual([...first, ...second]);
  });
});
