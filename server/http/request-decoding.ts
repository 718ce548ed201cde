/**
 * Makes every request that does not decode an InvalidArgument, on every protocol.
 *
 * connect-es answers some undecodable requests with server-side codes: a protobuf body that
 * does not parse is `internal` (HTTP 500), an unknown compression is `unimplemented` (501), a
 * second or missing request message is `unimplemented`, a compressed message without an
 * encoding is `internal`, and a bad base64 GET query is a bare "internal error". Those are the
 * client's mistakes, and a 5xx tells clients and monitoring that the server broke. This wrapper
 * checks the request before the protocol handler parses it: the framing (one envelope per
 * single-message call, flags 0 or 1, compression named when used), the compression name, and
 * that binary messages decode as the method's input type. A request that fails gets
 * InvalidArgument with a message saying why; everything else goes through untouched (JSON is
 * decoded by Connect itself, strictly, with the server's JSON options).
 *
 * Bodies over readMaxBytes are passed through unchecked so Connect answers ResourceExhausted.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { base64Decode } from "@bufbuild/protobuf/wire";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Compression, UniversalHandler, UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";
import { isPlainGrpcUnary, toConnectUnary, toGrpcAnswer } from "./grpc-unary.js";

export interface RequestDecodingOptions {
  /** The server's request size limit (config.maxRequestBytes). */
  readMaxBytes: number;
  /** Compressions the server accepts (connect-node's gzip and br). */
  compressions: readonly Compression[];
}

type Framing = { kind: "unary"; binary: boolean; encodingHeader: string } | { kind: "enveloped"; binary: boolean; encodingHeader: string };

const ENVELOPE_HEADER_BYTES = 5;

/** A checked single-message body; `message` is the enveloped message when the check passed. */
type Checked = { body: AsyncIterable<Uint8Array>; message?: Uint8Array };
const FLAG_COMPRESSED = 0x01;

/** How a POST body is framed, from its content type; undefined for types Connect refuses itself (415). */
function framingOf(contentType: string | null): Framing | undefined {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  switch (type) {
    case "application/proto":
      return { kind: "unary", binary: true, encodingHeader: "content-encoding" };
    case "application/json":
      return { kind: "unary", binary: false, encodingHeader: "content-encoding" };
    case "application/connect+proto":
      return { kind: "enveloped", binary: true, encodingHeader: "connect-content-encoding" };
    case "application/connect+json":
      return { kind: "enveloped", binary: false, encodingHeader: "connect-content-encoding" };
    case "application/grpc":
    case "application/grpc+proto":
    case "application/grpc-web":
    case "application/grpc-web+proto":
      return { kind: "enveloped", binary: true, encodingHeader: "grpc-encoding" };
    case "application/grpc+json":
    case "application/grpc-web+json":
      return { kind: "enveloped", binary: false, encodingHeader: "grpc-encoding" };
    default:
      return undefined;
  }
}

const invalid = (message: string) => new ConnectError(message, Code.InvalidArgument);

/** A body that fails with `error` when read: Connect answers with the error's code in the protocol's own way. */
async function* failing(error: unknown): AsyncGenerator<Uint8Array> {
  yield* [];
  throw error;
}

async function* replay(read: Uint8Array[], rest: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* read;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}

/** A body of one chunk: cheaper for Connect to read than a generator. */
class OneChunk implements AsyncIterable<Uint8Array>, AsyncIterator<Uint8Array> {
  constructor(private bytes: Uint8Array | undefined) {}
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this;
  }
  next(): Promise<IteratorResult<Uint8Array>> {
    const bytes = this.bytes;
    this.bytes = undefined;
    return Promise.resolve(bytes === undefined ? { done: true, value: undefined } : { done: false, value: bytes });
  }
}

const once = (bytes: Uint8Array): AsyncIterable<Uint8Array> => new OneChunk(bytes);

function concat(chunks: Uint8Array[]): Uint8Array {
  return chunks.length === 1 ? chunks[0]! : new Uint8Array(Buffer.concat(chunks));
}

/** A Connect-style JSON error answer (clients of every protocol read the status; Connect clients the code too). */
function errorAnswer(status: number, message: string, header = new Headers()): UniversalServerResponse {
  const body = new TextEncoder().encode(JSON.stringify({ code: "invalid_argument", message }));
  header.set("content-type", "application/json");
  header.set("content-length", String(body.byteLength));
  return {
    status,
    header,
    body: (async function* () {
      yield body;
    })(),
  };
}

/**
 * Connect refuses a wrong content type (415), HTTP method (405) or HTTP version (505: a
 * bidi stream over HTTP/1.1) with a bare status. Say why; and the last is the client's
 * mistake, so it is a 400, not a server error.
 */
function explainRefusal(res: UniversalServerResponse, req: UniversalServerRequest, handler: UniversalHandler): UniversalServerResponse {
  if (res.body !== undefined) return res;
  const path = handler.requestPath;
  const type = (req.header.get("content-type") ?? "").slice(0, 100);
  switch (res.status) {
    case 415:
      return errorAnswer(415, `unsupported content type "${type}" for ${path}: use application/json or application/proto (Connect), application/grpc (gRPC) or application/grpc-web (gRPC-web)`, new Headers(res.header));
    case 405:
      return errorAnswer(
        405,
        `method ${req.method.slice(0, 20)} not allowed for ${path} (allowed: ${handler.allowedMethods.join(", ")})`,
        new Headers({ ...Object.fromEntries(res.header ?? []), allow: handler.allowedMethods.join(", ") }),
      );
    case 505:
      // Keeps Connect's "connection: close": a client expecting full duplex must not wait on this connection.
      return errorAnswer(400, `${path} streams in both directions and needs HTTP/2`, new Headers(res.header));
    default:
      return res;
  }
}

export function createRequestDecodingCheck(options: RequestDecodingOptions): (handler: UniversalHandler) => UniversalHandler {
  const { readMaxBytes } = options;
  const known = new Map(options.compressions.map((c) => [c.name, c]));
  const supported = [...known.keys()].join(", ");

  /** The named compression; undefined for none; throws InvalidArgument for one the server does not have. */
  function compressionOf(name: string | null): Compression | undefined {
    if (name === null || name === "" || name === "identity") return undefined;
    const c = known.get(name.toLowerCase());
    if (c === undefined) throw invalid(`unknown compression "${name.slice(0, 64)}": supported encodings are ${supported}`);
    return c;
  }

  function decodeCheck(handler: UniversalHandler, bytes: Uint8Array): void {
    try {
      fromBinary(handler.method.input, bytes);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw invalid(`request message does not decode as ${handler.method.input.typeName}: ${why}`);
    }
  }

  async function checkMessage(handler: UniversalHandler, framing: Framing, raw: Uint8Array, compression: Compression | undefined, compressed: boolean) {
    if (compressed && compression === undefined) throw invalid("message is flagged compressed but the request names no compression");
    let bytes = raw;
    if (compressed && compression !== undefined) {
      try {
        bytes = await compression.decompress(raw, readMaxBytes);
      } catch (e) {
        if (e instanceof ConnectError && e.code === Code.ResourceExhausted) throw e;
        throw invalid(`message does not decompress as ${compression.name}`);
      }
    }
    if (framing.binary) decodeCheck(handler, bytes);
  }

  /**
   * Single-message calls: reads the whole body (bounded) and checks it before Connect runs, and
   * returns the body Connect gets: the bytes read, or one that fails with the check's error.
   */
  async function checkedSingle(
    handler: UniversalHandler,
    framing: Framing,
    body: AsyncIterable<Uint8Array>,
    compression: Compression | undefined,
  ): Promise<Checked> {
    const source = body[Symbol.asyncIterator]();
    const read: Uint8Array[] = [];
    let size = 0;
    let tooLarge = false;
    try {
      for (let next = await source.next(); !next.done; next = await source.next()) {
        read.push(next.value);
        size += next.value.byteLength;
        if (size > readMaxBytes + 2 * ENVELOPE_HEADER_BYTES) {
          tooLarge = true;
          break;
        }
      }
    } catch (e) {
      // The body broke off (the client went away): Connect reports it as it would have.
      return { body: failing(e) };
    }
    try {
      // Over the limit: Connect refuses it with ResourceExhausted.
      if (tooLarge) return { body: replay(read, source) };
      const bytes = concat(read);
      if (framing.kind === "unary") {
        await checkMessage(handler, framing, bytes, compression, compression !== undefined);
        return { body: once(bytes) };
      }
      if (bytes.byteLength < ENVELOPE_HEADER_BYTES) {
        throw invalid(bytes.byteLength === 0 ? "missing request message" : "incomplete request envelope");
      }
      const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const flags = view[0]!;
      const length = view.readUInt32BE(1);
      if (length > readMaxBytes) return { body: once(bytes) };
      if ((flags & ~FLAG_COMPRESSED) !== 0) throw invalid(`invalid envelope flags 0x${flags.toString(16).padStart(2, "0")}`);
      const end = ENVELOPE_HEADER_BYTES + length;
      if (bytes.byteLength < end) throw invalid(`incomplete request envelope (${length} bytes announced, ${bytes.byteLength - ENVELOPE_HEADER_BYTES} sent)`);
      if (bytes.byteLength > end) throw invalid(`${handler.method.name} takes exactly one request message (more data follows the first)`);
      const message = bytes.subarray(ENVELOPE_HEADER_BYTES, end);
      await checkMessage(handler, framing, message, compression, (flags & FLAG_COMPRESSED) !== 0);
      return { body: once(bytes), message };
    } catch (e) {
      // Connect answers the check's errors in the protocol's own way (and anything else as internal).
      return { body: failing(e) };
    }
  }

  /** Client and bidi streams: each envelope is checked as it arrives, so replies can interleave. */
  async function* checkedStream(handler: UniversalHandler, framing: Framing, body: AsyncIterable<Uint8Array>, compression: Compression | undefined) {
    let pending = Buffer.alloc(0);
    let unchecked = false;
    for await (const chunk of body) {
      if (unchecked) {
        yield chunk;
        continue;
      }
      pending = pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([pending, chunk]);
      while (pending.length >= ENVELOPE_HEADER_BYTES) {
        const flags = pending[0]!;
        const length = pending.readUInt32BE(1);
        if (length > readMaxBytes) {
          // Connect refuses it with ResourceExhausted; the rest goes through as it comes.
          yield new Uint8Array(pending);
          pending = Buffer.alloc(0);
          unchecked = true;
          break;
        }
        if ((flags & ~FLAG_COMPRESSED) !== 0) throw invalid(`invalid envelope flags 0x${flags.toString(16).padStart(2, "0")}`);
        if (pending.length < ENVELOPE_HEADER_BYTES + length) break;
        const envelope = pending.subarray(0, ENVELOPE_HEADER_BYTES + length);
        await checkMessage(handler, framing, envelope.subarray(ENVELOPE_HEADER_BYTES), compression, (flags & FLAG_COMPRESSED) !== 0);
        yield new Uint8Array(envelope);
        pending = pending.subarray(envelope.length);
      }
    }
    if (pending.length > 0) throw invalid("incomplete request envelope");
  }

  /** Connect GET: the message is in the query; answers a Connect unary error itself. */
  async function checkGet(handler: UniversalHandler, req: UniversalServerRequest): Promise<ConnectError | undefined> {
    const query = new URL(req.url).searchParams;
    const encoding = query.get("encoding");
    if (encoding !== "proto" && encoding !== "json") return undefined; // Connect answers 415
    try {
      const compression = compressionOf(query.get("compression"));
      const text = query.get("message") ?? "";
      let bytes: Uint8Array;
      if (query.get("base64") === "1") {
        if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) throw invalid("message: is not valid base64");
        bytes = base64Decode(text);
      } else bytes = new TextEncoder().encode(text);
      await checkMessage(handler, { kind: "unary", binary: encoding === "proto", encodingHeader: "" }, bytes, compression, compression !== undefined);
    } catch (e) {
      if (e instanceof ConnectError) return e;
      throw e;
    }
    return undefined;
  }

  return (handler) => {
    const unary = handler.method.methodKind === "unary";
    const single = unary || handler.method.methodKind === "server_streaming";
    const route = async (req: UniversalServerRequest): Promise<UniversalServerResponse> => {
      // GET is Connect's for side-effect-free methods only; Connect refuses it (405) elsewhere.
      if (req.method === "GET" && handler.allowedMethods.includes("GET")) {
        const error = await checkGet(handler, req);
        return error === undefined ? handler(req) : errorAnswer(400, error.rawMessage);
      }
      const framing = framingOf(req.header.get("content-type"));
      const body = req.body;
      if (framing === undefined || body === null || typeof body !== "object" || !(Symbol.asyncIterator in body)) return handler(req);
      const bytes = body as AsyncIterable<Uint8Array>;
      let compression: Compression | undefined;
      try {
        compression = compressionOf(req.header.get(framing.encodingHeader));
      } catch (e) {
        // Connect would refuse the name with Unimplemented before reading; without the header it reads the body, which fails.
        const header = new Headers(req.header);
        header.delete(framing.encodingHeader);
        return handler({ ...req, header, body: failing(e) });
      }
      // Connect unary JSON: nothing to check before Connect's own (strict) decoding.
      if (framing.kind === "unary" && !framing.binary && compression === undefined) return handler(req);
      if (!single) return handler({ ...req, body: checkedStream(handler, framing, bytes, compression) });
      const checked = await checkedSingle(handler, framing, bytes, compression);
      if (unary && checked.message !== undefined && isPlainGrpcUnary(req)) {
        return toGrpcAnswer(await handler(toConnectUnary(req, once(checked.message))));
      }
      return handler({ ...req, body: checked.body });
    };
    const checked = async (req: UniversalServerRequest) => explainRefusal(await route(req), req, handler);
    return Object.assign(checked, {
      protocolNames: handler.protocolNames,
      service: handler.service,
      method: handler.method,
      requestPath: handler.requestPath,
      allowedMethods: handler.allowedMethods,
      supportedContentType: handler.supportedContentType,
    });
  };
}
