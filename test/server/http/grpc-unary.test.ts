/**
 * Plain gRPC unary calls go through Connect's unary handler and are rewritten back: each
 * answer must match what Connect's own gRPC handler gives for the same call (reached here by
 * adding a grpc-timeout, which keeps a call on that handler), for success, errors with
 * metadata, and a client of each kind.
 */
import http2 from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GetJobRequestSchema, JobService, SubmitJobRequestSchema, SubmitJobResponseSchema } from "../../../gen/flux/restful/v1/job_service_pb.js";
import { startTestServer, type TestServer } from "../../support/start-test-server.js";

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  trailers: Record<string, string>;
}

/** Headers whose values differ from call to call. */
const VARYING = new Set(["date", "x-request-id"]);

function plain(h: http2.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (!k.startsWith(":") && !VARYING.has(k) && v !== undefined) out[k] = String(v);
  return out;
}

describe("gRPC unary calls through Connect's unary handler", () => {
  let server: TestServer;
  let session: http2.ClientHttp2Session;

  beforeAll(async () => {
    server = await startTestServer({ env: { FLUX_REQUIRE_AUTH: "false" } });
    session = http2.connect(server.url);
  });
  afterAll(async () => {
    session.close();
    await server.close();
  });

  function call(method: string, message: Uint8Array, extra: Record<string, string> = {}): Promise<Answer> {
    const framed = Buffer.alloc(5 + message.length);
    framed.writeUInt32BE(message.length, 1);
    framed.set(message, 5);
    return new Promise((resolve, reject) => {
      const stream = session.request({
        ":method": "POST",
        ":path": `/flux.restful.v1.JobService/${method}`,
        "content-type": "application/grpc",
        te: "trailers",
        ...extra,
      });
      const answer: Answer = { status: 0, headers: {}, body: Buffer.alloc(0), trailers: {} };
      const chunks: Buffer[] = [];
      stream.on("response", (h) => {
        answer.status = Number(h[":status"]);
        answer.headers = plain(h);
      });
      stream.on("trailers", (t) => (answer.trailers = plain(t)));
      stream.on("data", (d: Buffer) => chunks.push(d));
      stream.on("error", reject);
      stream.on("end", () => resolve({ ...answer, body: Buffer.concat(chunks) }));
      stream.end(framed);
    });
  }

  const viaGrpcHandler = { "grpc-timeout": "60S" };

  it("answers a call like Connect's gRPC handler: framing, headers and trailers", async () => {
    const submit = toBinary(SubmitJobRequestSchema, create(SubmitJobRequestSchema, { command: ["true"], urgency: 0 }));
    const rewritten = await call("SubmitJob", submit);
    const reference = await call("SubmitJob", submit, viaGrpcHandler);
    expect(rewritten.trailers).toEqual({ "grpc-status": "0" });
    expect(rewritten.trailers).toEqual(reference.trailers);
    expect(rewritten.headers).toEqual(reference.headers);
    expect(rewritten.headers["content-type"]).toBe("application/grpc+proto");
    // Two different jobs: compare the framing and that each decodes to a job id.
    for (const a of [rewritten, reference]) {
      expect(a.status).toBe(200);
      expect(a.body[0]).toBe(0);
      expect(a.body.readUInt32BE(1)).toBe(a.body.length - 5);
      expect(fromBinary(SubmitJobResponseSchema, a.body.subarray(5)).id).toMatch(/^ƒ/);
    }
  });

  it("answers an error like Connect's gRPC handler: no body, the status and message in the trailers", async () => {
    const get = toBinary(GetJobRequestSchema, create(GetJobRequestSchema, { id: "ƒ1" }));
    const rewritten = await call("GetJob", get);
    const reference = await call("GetJob", get, viaGrpcHandler);
    expect(rewritten).toEqual(reference);
    expect(rewritten.trailers["grpc-status"]).toBe(String(Code.NotFound));
    expect(rewritten.body.length).toBe(0);
  });

  it("serves a gRPC client, with an error's code and message", async () => {
    const client = createClient(JobService, createGrpcTransport({ baseUrl: server.url }));
    const { id } = await client.submitJob({ command: ["true"], urgency: 0 });
    expect((await client.getJob({ id })).job?.id).toBe(id);
    const error = await client.getJob({ id: "nonsense!" }).catch((e: unknown) => ConnectError.from(e));
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.InvalidArgument);
    expect((error as ConnectError).rawMessage).toMatch(/^id: /);
  });
});

describe("gRPC unary errors with metadata through Connect's unary handler", () => {
  let server: TestServer;
  let session: http2.ClientHttp2Session;

  beforeAll(async () => {
    server = await startTestServer({
      env: { FLUX_REQUIRE_AUTH: "true", FLUX_SECRET_KEY: "a-test-secret-key-that-is-long-enough-0123456789", FLUX_USER: "boss", FLUX_TOKEN: "boss-pw-0123456789" },
    });
    session = http2.connect(server.url);
  });
  afterAll(async () => {
    session.close();
    await server.close();
  });

  it("sends an error's metadata in the trailers, as Connect's gRPC handler does", async () => {
    const answers = await Promise.all(
      [{}, { "grpc-timeout": "60S" }].map(
        (extra) =>
          new Promise<Record<string, string>>((resolve, reject) => {
            const stream = session.request({ ":method": "POST", ":path": "/flux.restful.v1.JobService/ListJobs", "content-type": "application/grpc", te: "trailers", ...extra });
            let trailers: Record<string, string> = {};
            stream.on("trailers", (t) => (trailers = plain(t)));
            stream.on("data", () => {});
            stream.on("error", reject);
            stream.on("end", () => resolve(trailers));
            stream.end(Buffer.from([0, 0, 0, 0, 0]));
          }),
      ),
    );
    expect(answers[0]!["grpc-status"]).toBe(String(Code.Unauthenticated));
    expect(answers[0]!["www-authenticate"]).toMatch(/^Bearer realm=/);
    expect(answers[0]).toEqual(answers[1]);
  });
});
