/**
 * A protocol-level stand-in for a Flux broker's local:// socket: a UNIX socket server that
 * does the one-byte handshake, reads and writes the framing (./wire.ts), and hands every
 * request to a handler (recorded exchanges, ./recorded-handler.ts, or a fake instance
 * that really runs jobs, ./instance-handler.ts). Knobs make the edge cases happen on
 * purpose: responses split into tiny writes or coalesced into one, RFC-order magic,
 * 4-byte part sizes, a refused handshake, a dropped connection, a restart.
 *
 * ```ts
 * const broker = await startFakeBroker({ handler: createRecordedHandler(loadExchanges()) });
 * // FLUX_URI = broker.uri
 * await broker.stop();
 * ```
 */
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { isJsonObject, parseExactJson, type ExactJson } from "../../../server/backends/flux/exact-json.js";
import { createWireReader, writeFrame, type WireMessage } from "./wire.js";

export type JsonObject = { [key: string]: ExactJson };

export interface FakeRequest {
  /** Serial number of the connection it came on (1, 2, ... across restarts). */
  connection: number;
  topic: string;
  /** The payload text without its NUL, or undefined when the PAYLOAD flag was clear. */
  payloadText: string | undefined;
  payload: JsonObject | undefined;
  flags: number;
  matchtag: number;
  nodeid: number;
  userid: number;
  rolemask: number;
  streaming: boolean;
  noResponse: boolean;
  /** The route stack as sent (a client sends it empty: just the delimiter). */
  routes: number | undefined;
  magic: "host" | "rfc";
}

export interface Responder {
  /** A success response; an object is written with bigints exact, a string as given (plus the NUL). */
  ok(payload?: string | object): void;
  error(errnum: number, text?: string): void;
  /** ENODATA: the normal end of a stream. */
  end(): void;
  /** Sends the first `bytes` bytes of a success response, then closes the connection. */
  partialThenClose(payload: string, bytes: number): void;
  closeConnection(): void;
  /** Writes bytes as they are (a malformed frame, for tests). */
  writeRaw(bytes: Buffer): void;
  /** The request got its final response (or the connection closed). */
  readonly done: boolean;
  /** Runs when the connection closes (a watch stops polling). */
  onClose(listener: () => void): void;
}

export type BrokerHandler = (req: FakeRequest, res: Responder, broker: FakeBroker) => void | Promise<void>;

export type WriteMode = { kind: "whole" } | { kind: "split"; bytes: number } | { kind: "coalesce" };

export interface FakeBrokerOptions {
  handler: BrokerHandler;
  /** Defaults to a fresh temp dir's "local". */
  socketPath?: string;
  /** The handshake byte: 0 accepts, an errno refuses. Defaults to 0. */
  handshakeByte?: number;
  writeMode?: WriteMode;
  magic?: "host" | "rfc";
  longSizes?: boolean;
}

export interface FakeBroker {
  socketPath: string;
  uri: string;
  /** Every request received, oldest first. */
  readonly requests: FakeRequest[];
  /** Open connections now. */
  readonly connectionCount: number;
  /** Malformed frames seen (the real broker drops the connection on one, and so does this). */
  readonly protocolErrors: string[];
  /** Streams (by connection and matchtag) still open, for cancel handling. */
  openStream(connection: number, matchtag: number): Responder | undefined;
  setWriteMode(mode: WriteMode): void;
  setHandshakeByte(byte: number): void;
  set(options: Partial<Pick<FakeBrokerOptions, "magic" | "longSizes" | "handler">>): void;
  /** Stops (true) or resumes (false) reading every connection: a broker that hangs. */
  pauseReading(paused: boolean): void;
  /** Destroys every client connection (a broker crash, as clients see it). */
  dropConnections(): void;
  /** Stops listening and drops everyone; the socket file is removed. */
  stop(): Promise<void>;
  /** Listens again on the same path (after stop). */
  start(): Promise<void>;
}

const ENODATA = 61;
const EPROTO = 71;

export async function startFakeBroker(options: FakeBrokerOptions): Promise<FakeBroker> {
  let tmpDir: string | undefined;
  let socketPath = options.socketPath;
  if (socketPath === undefined) {
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-broker-"));
    socketPath = path.join(tmpDir, "local");
  }
  const requests: FakeRequest[] = [];
  const protocolErrors: string[] = [];
  const sockets = new Set<net.Socket>();
  const streams = new Map<string, Responder>();
  let handler = options.handler;
  let handshakeByte = options.handshakeByte ?? 0;
  let writeMode: WriteMode = options.writeMode ?? { kind: "whole" };
  let magic = options.magic ?? "host";
  let longSizes = options.longSizes ?? false;
  let serial = 0;
  let server: net.Server | undefined;
  const uid = process.getuid?.() ?? 0;

  function makeWriter(socket: net.Socket) {
    let pendingCoalesce: Buffer[] = [];
    let splitQueue: Promise<void> = Promise.resolve();
    return (frame: Buffer) => {
      if (socket.destroyed) return;
      const mode = writeMode;
      if (mode.kind === "whole") socket.write(frame);
      else if (mode.kind === "coalesce") {
        pendingCoalesce.push(frame);
        if (pendingCoalesce.length === 1) {
          setTimeout(() => {
            const all = Buffer.concat(pendingCoalesce);
            pendingCoalesce = [];
            if (!socket.destroyed) socket.write(all);
          }, 5);
        }
      } else {
        splitQueue = splitQueue.then(async () => {
          for (let i = 0; i < frame.length && !socket.destroyed; i += mode.bytes) {
            socket.write(frame.subarray(i, i + mode.bytes));
            await new Promise((r) => setImmediate(r));
          }
        });
      }
    };
  }

  function onConnection(socket: net.Socket) {
    const connection = ++serial;
    sockets.add(socket);
    const closeListeners: Array<() => void> = [];
    socket.on("close", () => {
      sockets.delete(socket);
      for (const [key] of streams) if (key.startsWith(`${connection}:`)) streams.delete(key);
      for (const l of closeListeners) l();
    });
    socket.on("error", () => {});
    socket.write(Buffer.from([handshakeByte]));
    if (handshakeByte !== 0) {
      socket.end();
      return;
    }
    const write = makeWriter(socket);
    const read = createWireReader(
      (msg, frameMagic) => {
        if (msg.type !== 1 || msg.topic === undefined) return;
        let payload: JsonObject | undefined;
        let payloadText: string | undefined;
        let nulOk = true;
        if (msg.payload !== undefined) {
          nulOk = msg.payload.length > 0 && msg.payload[msg.payload.length - 1] === 0;
          payloadText = msg.payload.subarray(0, nulOk ? msg.payload.length - 1 : msg.payload.length).toString("utf8");
          try {
            const v = parseExactJson(payloadText);
            if (isJsonObject(v)) payload = v;
          } catch {
            // left undefined: the handler answers EPROTO
          }
        }
        const req: FakeRequest = {
          connection,
          topic: msg.topic,
          payloadText,
          payload,
          flags: msg.flags,
          matchtag: msg.aux2,
          nodeid: msg.aux1,
          userid: msg.userid,
          rolemask: msg.rolemask,
          streaming: (msg.flags & 0x40) !== 0,
          noResponse: (msg.flags & 0x04) !== 0,
          routes: msg.routes?.length,
          magic: frameMagic,
        };
        requests.push(req);
        const res = makeResponder(socket, write, req, closeListeners);
        if (req.streaming) streams.set(`${connection}:${req.matchtag}`, res);
        if (!nulOk) {
          // flux_request_unpack: a payload without its NUL is not a string (EPROTO).
          res.error(EPROTO, "payload is not NUL terminated");
          return;
        }
        Promise.resolve(handler(req, res, broker)).catch((e: unknown) => {
          if (!res.done) res.error(EPROTO, e instanceof Error ? e.message : String(e));
        });
      },
      (why) => {
        protocolErrors.push(why);
        socket.destroy();
      },
    );
    socket.on("data", read);
  }

  function makeResponder(socket: net.Socket, write: (f: Buffer) => void, req: FakeRequest, closeListeners: Array<() => void>): Responder {
    let done = false;
    const key = `${req.connection}:${req.matchtag}`;
    const frame = (errnum: number, payload: Buffer | undefined, final: boolean) => {
      // ROUTE|TOPIC, PAYLOAD when there is one, STREAMING echoed: as the broker answers.
      const flags = 0x08 | 0x01 | (payload !== undefined ? 0x02 : 0) | (req.streaming ? 0x40 : 0);
      const msg: WireMessage = { type: 2, flags, userid: uid, rolemask: 5, aux1: errnum, aux2: req.matchtag, routes: [], topic: req.topic, payload };
      if (final) {
        done = true;
        streams.delete(key);
      }
      return writeFrame(msg, { magic, longSizes });
    };
    const send = (errnum: number, payload: Buffer | undefined, final: boolean) => {
      if (done || req.noResponse || socket.destroyed) return;
      write(frame(errnum, payload, final));
    };
    const text = (p: string | object) => Buffer.from((typeof p === "string" ? p : stringify(p)) + "\0", "utf8");
    return {
      ok(payload) {
        send(0, payload === undefined ? undefined : text(payload), !req.streaming);
      },
      error(errnum, message) {
        send(errnum, message === undefined || message === "" ? undefined : Buffer.from(message + "\0", "utf8"), true);
      },
      end() {
        send(ENODATA, undefined, true);
      },
      partialThenClose(payload, bytes) {
        const f = frame(0, text(payload), true);
        socket.write(f.subarray(0, bytes), () => socket.destroy());
      },
      closeConnection() {
        socket.destroy();
      },
      writeRaw(bytes) {
        if (!socket.destroyed) socket.write(bytes);
      },
      get done() {
        return done || socket.destroyed;
      },
      onClose(listener) {
        if (socket.destroyed) listener();
        else closeListeners.push(listener);
      },
    };
  }

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      try {
        fs.rmSync(socketPath!, { force: true });
      } catch {
        // nothing to remove
      }
      server = net.createServer(onConnection);
      server.once("error", reject);
      server.listen(socketPath!, () => resolve());
    });

  const broker: FakeBroker = {
    socketPath,
    uri: `local://${socketPath}`,
    requests,
    protocolErrors,
    get connectionCount() {
      return sockets.size;
    },
    openStream: (connection, matchtag) => streams.get(`${connection}:${matchtag}`),
    setWriteMode(mode) {
      writeMode = mode;
    },
    setHandshakeByte(byte) {
      handshakeByte = byte;
    },
    set(next) {
      if (next.magic !== undefined) magic = next.magic;
      if (next.longSizes !== undefined) longSizes = next.longSizes;
      if (next.handler !== undefined) handler = next.handler;
    },
    pauseReading(paused) {
      for (const s of sockets) {
        if (paused) s.pause();
        else s.resume();
      }
    },
    dropConnections() {
      for (const s of sockets) s.destroy();
    },
    async stop() {
      const s = server;
      server = undefined;
      for (const sock of sockets) sock.destroy();
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
      fs.rmSync(socketPath!, { force: true });
      if (tmpDir !== undefined) fs.rmSync(tmpDir, { recursive: true, force: true });
    },
    async start() {
      if (tmpDir !== undefined) fs.mkdirSync(tmpDir, { recursive: true });
      await listen();
    },
  };
  await listen();
  return broker;
}

/** JSON with bigints as integers (job ids past 2^53). */
export function stringify(value: unknown): string {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return `[${value.map(stringify).join(",")}]`;
  if (value !== null && typeof value === "object") {
    if (typeof (value as { toJSON?: unknown }).toJSON === "function") return stringify((value as { toJSON(): unknown }).toJSON());
    return `{${Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${JSON.stringify(k)}:${stringify(v)}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}
