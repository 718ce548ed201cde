/**
 * The request decoding check in front of Connect: requests that do not decode are
 * InvalidArgument on every protocol (connect-es alone answers some of them internal or
 * unimplemented), Connect's bare refusals carry a message, and valid calls (unary,
 * compressed, bidi reflection with several messages) still go through untouched.
 */
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { envelope } from "../../hardening/malformed/wire.js";
import { createRawClient, type RawClient, type RawRequest } from "../../hardening/raw-client.js";
import { startTestServer, type TestServer } from "../../support/start-test-server.js";

const GET_JOB = "/flux.restful.v1.JobService/GetJob";
const STREAM = "/flux.restful.v1.JobService/StreamJobOutput";
const REFLECTION = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";
/** GetJobRequest{id: "f1"}: a well-formed request for a job that does not exist. */
const GET_F1 = Buffer.from([0x0a, 0x02, 0x66, 0x31]);
/** A protobuf body that does not parse (wire type 7). */
const GARBAGE = Buffer.from([0x0f]);

describe("request decoding check", () => {
  let server: TestServer;
  let client: RawClient;

  /** Sends and returns [HTTP status, protocol code, message]. */
  async function send(req: RawRequest): Promise<[number, string, string]> {
    const out = await client.send(req, 10_000);
    if (out.kind !== "answer") throw new Error(`no answer: ${JSON.stringify(out)}`);
    const a = out.answer;
    const grpcStatus = a.trailers["grpc-status"] ?? a.headers["grpc-status"];
    if (grpcStatus !== undefined) return [a.status, grpcStatus, decodeURIComponent(a.trailers["grpc-message"] ?? a.headers["grpc-message"] ?? "")];
    const text = a.body.toString("utf8");
    const json = text.startsWith("{") ? JSON.parse(text) : /\{.*\}/s.test(text) ? JSON.parse(/\{.*\}/s.exec(text)![0]) : {};
    const error = json.error ?? json;
    return [a.status, error.code ?? "", error.message ?? ""];
  }

  beforeAll(async () => {
    server = await startTestServer();
    client = createRawClient(server.url);
  });
  afterAll(async () => {
    client.close();
    await server.close();
  });

  it("answers protobuf that does not parse with InvalidArgument on every protocol", async () => {
    expect(await send({ httpVersion: "1.1", method: "POST", path: GET_JOB, headers: { "content-type": "application/proto" }, body: GARBAGE })).toEqual([
      400,
      "invalid_argument",
      "request message does not decode as flux.restful.v1.GetJobRequest: illegal tag: field no 1 wire type 7",
    ]);
    const grpc = await send({ httpVersion: "2", method: "POST", path: GET_JOB, headers: { "content-type": "application/grpc", te: "trailers" }, body: envelope(GARBAGE) });
    expect(grpc.slice(0, 2)).toEqual([200, "3"]);
    const stream = await send({ httpVersion: "1.1", method: "POST", path: STREAM, headers: { "content-type": "application/connect+proto" }, body: envelope(GARBAGE) });
    expect(stream.slice(0, 2)).toEqual([200, "invalid_argument"]);
    const get = await send({ httpVersion: "1.1", method: "GET", path: `${GET_JOB}?encoding=proto&base64=1&message=!!`, headers: {} });
    expect(get).toEqual([400, "invalid_argument", "message: is not valid base64"]);
  });

  it("refuses broken framing and unknown compression as InvalidArgument, not unimplemented or internal", async () => {
    const grpc = (body: Buffer, headers: Record<string, string> = {}) =>
      send({ httpVersion: "2", method: "POST", path: GET_JOB, headers: { "content-type": "application/grpc", te: "trailers", ...headers }, body });
    expect(await grpc(Buffer.concat([envelope(GET_F1), envelope(GET_F1)]))).toEqual([200, "3", "GetJob takes exactly one request message (more data follows the first)"]);
    expect(await grpc(Buffer.alloc(0))).toEqual([200, "3", "missing request message"]);
    expect(await grpc(envelope(GET_F1, 0x01))).toEqual([200, "3", "message is flagged compressed but the request names no compression"]);
    expect(await grpc(envelope(GET_F1, 0x80))).toEqual([200, "3", "invalid envelope flags 0x80"]);
    expect(await grpc(envelope(GET_F1, 0x01), { "grpc-encoding": "zstd" })).toEqual([200, "3", 'unknown compression "zstd": supported encodings are gzip, br']);
  });

  it("lets valid calls through, compressed ones too", async () => {
    expect(await send({ httpVersion: "2", method: "POST", path: GET_JOB, headers: { "content-type": "application/grpc", te: "trailers" }, body: envelope(GET_F1) })).toEqual([
      200,
      "5",
      'job "ƒ1" not found',
    ]);
    const gz = zlib.gzipSync(GET_F1);
    expect((await send({ httpVersion: "1.1", method: "POST", path: GET_JOB, headers: { "content-type": "application/proto", "content-encoding": "gzip" }, body: gz }))[1]).toBe("not_found");
    expect((await send({ httpVersion: "2", method: "POST", path: GET_JOB, headers: { "content-type": "application/grpc", te: "trailers", "grpc-encoding": "gzip" }, body: envelope(gz, 0x01) }))[1]).toBe("5");
  });

  it("answers a Connect GET whatever its Host header says (Connect parses the call's URL)", async () => {
    const path = `${GET_JOB}?encoding=proto&base64=1&message=${GET_F1.toString("base64url")}`;
    for (const host of ["a b", "host:99999", "x/y"]) {
      expect([host, ...(await send({ httpVersion: "1.1", method: "GET", path, headers: { host } }))]).toEqual([host, 404, "not_found", 'job "ƒ1" not found']);
    }
  });

  it("lets a bidi stream carry several messages, and refuses it over HTTP/1.1 with a 400", async () => {
    const listServices = Buffer.from([0x3a, 0x00]); // ServerReflectionRequest{list_services: ""}
    const out = await client.send({ httpVersion: "2", method: "POST", path: REFLECTION, headers: { "content-type": "application/grpc", te: "trailers" }, body: Buffer.concat([envelope(listServices), envelope(listServices)]) });
    expect(out.kind === "answer" && out.answer.trailers["grpc-status"]).toBe("0");
    expect(out.kind === "answer" && out.answer.body.toString("latin1").split("flux.restful.v1.JobService").length - 1).toBe(2);
    expect(await send({ httpVersion: "1.1", method: "POST", path: REFLECTION, headers: { "content-type": "application/grpc" }, body: envelope(listServices) })).toEqual([
      400,
      "invalid_argument",
      "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo streams in both directions and needs HTTP/2",
    ]);
  });

  it("says why Connect refuses a content type or method", async () => {
    const [status, code, message] = await send({ httpVersion: "1.1", method: "POST", path: GET_JOB, headers: { "content-type": "text/plain" }, body: Buffer.from("{}") });
    expect([status, code]).toEqual([415, "invalid_argument"]);
    expect(message).toContain('unsupported content type "text/plain"');
    const put = await client.send({ httpVersion: "1.1", method: "PUT", path: GET_JOB, headers: { "content-type": "application/json" }, body: Buffer.from("{}") });
    expect(put.kind === "answer" && [put.answer.status, put.answer.headers.allow]).toEqual([405, "POST, GET"]);
  });

  it("decodes JSON strictly: unknown fields and invalid UTF-8 are refused", async () => {
    const json = (body: Buffer) => send({ httpVersion: "1.1", method: "POST", path: GET_JOB, headers: { "content-type": "application/json" }, body });
    expect(await json(Buffer.from('{"id":"f1","idd":"x"}'))).toEqual([400, "invalid_argument", 'cannot decode message flux.restful.v1.GetJobRequest from JSON: key "idd" is unknown']);
    expect((await json(Buffer.from([0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])))[1]).toBe("invalid_argument");
  });
});
