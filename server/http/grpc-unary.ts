/**
 * Plain gRPC unary calls answered by Connect's unary protocol handler for the same method.
 *
 * connect-es runs every gRPC call, unary ones too, through its streaming pipeline: a dozen
 * chained async generators per call, which made a gRPC SubmitJob cost about 1.6 times a Connect
 * one. A unary gRPC call is one message each way plus a status, which Connect's unary handler
 * serves through the same interceptors and service code: the request is rewritten as a Connect
 * unary request, and the answer back into gRPC framing and trailers, with Connect's own helpers
 * for the error status (trailerDemux, errorFromJsonBytes, setTrailerStatus).
 *
 * Only the common case is rewritten: a POST of binary gRPC over HTTP/2, an uncompressed message and no
 * deadline header. Anything else (grpc-web, JSON, compression, grpc-timeout) keeps Connect's
 * gRPC handler, so the rewrite never has to mirror those parts of the protocol.
 */
import { ConnectError } from "@connectrpc/connect";
import type { UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";
import { codeFromHttpStatus, errorFromJsonBytes, trailerDemux } from "@connectrpc/connect/protocol-connect";
import { contentTypeProto, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";

const PLAIN_GRPC = /^application\/grpc(\+proto)?$/i;

/** Headers that belong to one protocol's framing and do not carry over to the other. */
const GRPC_ONLY = ["te", "grpc-encoding", "grpc-accept-encoding", "accept-encoding", "content-length"];
const CONNECT_ONLY = ["content-type", "content-length", "content-encoding"];

/** True when a gRPC request can be answered through the Connect unary handler. */
export function isPlainGrpcUnary(req: UniversalServerRequest): boolean {
  const encoding = req.header.get("grpc-encoding");
  return (
    req.method === "POST" &&
    req.httpVersion.startsWith("2") &&
    PLAIN_GRPC.test(req.header.get("content-type") ?? "") &&
    (encoding === null || encoding === "identity") &&
    !req.header.has("grpc-timeout")
  );
}

/**
 * The Connect unary request carrying a gRPC request's message (without its envelope) and
 * metadata. The request's headers are rewritten in place: they are this call's own.
 */
export function toConnectUnary(req: UniversalServerRequest, body: AsyncIterable<Uint8Array>): UniversalServerRequest {
  const header = req.header;
  for (const name of GRPC_ONLY) header.delete(name);
  // No accept-encoding: the answer comes back uncompressed, as gRPC allows.
  header.set("content-type", "application/proto");
  return { ...req, header, body };
}

async function readAll(body: AsyncIterable<Uint8Array> | undefined): Promise<Uint8Array> {
  if (body === undefined) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return chunks.length === 1 ? chunks[0]! : new Uint8Array(Buffer.concat(chunks));
}

/** Connect's unary answer as a gRPC one: the message in an envelope, the status in the trailers. */
export async function toGrpcAnswer(res: UniversalServerResponse): Promise<UniversalServerResponse> {
  const bytes = await readAll(res.body);
  const [header, trailer] = trailerDemux(res.header ?? new Headers());
  for (const name of CONNECT_ONLY) header.delete(name);
  header.set("content-type", contentTypeProto);
  if (res.status !== 200) {
    // Connect's unary error body; its HTTP status stands in for a body that is not one (thrown).
    let error: ConnectError;
    try {
      error = errorFromJsonBytes(bytes, undefined, new ConnectError(`HTTP ${res.status}`, codeFromHttpStatus(res.status)));
    } catch (fallback) {
      error = fallback as ConnectError;
    }
    // Connect sends an error's metadata (www-authenticate) as headers, gRPC in the trailers.
    header.forEach((value, name) => {
      if (name !== "content-type") trailer.append(name, value);
    });
    return { status: 200, header: new Headers({ "content-type": contentTypeProto }), trailer: setTrailerStatus(trailer, error) };
  }
  const envelope = new Uint8Array(5 + bytes.byteLength);
  new DataView(envelope.buffer).setUint32(1, bytes.byteLength); // flag byte 0: not compressed
  envelope.set(bytes, 5);
  return { status: 200, header, body: oneChunk(envelope), trailer: setTrailerStatus(trailer, undefined) };
}

async function* oneChunk(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}
