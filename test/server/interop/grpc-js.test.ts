/**
 * @grpc/grpc-js as an independent gRPC client (its own HTTP/2 and framing code, not
 * Connect's): the spine scenario over h2c against a real server, with protobuf-es doing
 * only the message (de)serialization.
 */
import {
  create,
  fromBinary,
  toBinary,
  type DescMessage,
  type DescMethodServerStreaming,
  type DescMethodUnary,
  type DescService,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobResult, JobState, OutputStream, type OutputChunk } from "../../../gen/flux/restful/v1/job_pb.js";
import { JobService } from "../../../gen/flux/restful/v1/job_service_pb.js";
import { startTestServer, type TestServer } from "../../support/start-test-server.js";

/** A grpc-js client for any protobuf-es service, with promise and async-iterator helpers. */
function createGrpcJsClient(service: DescService, address: string) {
  const definition: Record<string, grpc.MethodDefinition<MessageShape<DescMessage>, MessageShape<DescMessage>>> = {};
  for (const method of service.methods) {
    definition[method.name] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: (m: MessageShape<DescMessage>) => Buffer.from(toBinary(method.input, m)),
      requestDeserialize: (b: Buffer) => fromBinary(method.input, b),
      responseSerialize: (m: MessageShape<DescMessage>) => Buffer.from(toBinary(method.output, m)),
      responseDeserialize: (b: Buffer) => fromBinary(method.output, b),
      originalName: method.localName,
    };
  }
  const Ctor = grpc.makeGenericClientConstructor(definition, service.name);
  const client = new Ctor(address, grpc.credentials.createInsecure()) as grpc.Client &
    Record<string, (...args: unknown[]) => unknown>;
  return {
    close: () => client.close(),
    unary<I extends DescMessage, O extends DescMessage>(
      method: DescMethodUnary<I, O>,
      input: MessageInitShape<I>,
    ): Promise<MessageShape<O>> {
      return new Promise((resolve, reject) => {
        client[method.name](create(method.input, input), (err: grpc.ServiceError | null, res: MessageShape<O>) =>
          err ? reject(err) : resolve(res),
        );
      });
    },
    async *serverStream<I extends DescMessage, O extends DescMessage>(
      method: DescMethodServerStreaming<I, O>,
      input: MessageInitShape<I>,
    ): AsyncIterable<MessageShape<O>> {
      const call = client[method.name](create(method.input, input)) as grpc.ClientReadableStream<MessageShape<O>>;
      yield* call;
    },
  };
}

/** The gRPC status a call fails with. */
async function statusOf(fn: () => Promise<unknown>): Promise<{ code: grpc.status; details: string }> {
  try {
    await fn();
  } catch (e) {
    const err = e as grpc.ServiceError;
    return { code: err.code, details: err.details };
  }
  throw new Error("expected the call to fail");
}

describe("@grpc/grpc-js against the one-port server", () => {
  let server: TestServer;
  let client: ReturnType<typeof createGrpcJsClient>;
  const m = JobService.method;

  beforeAll(async () => {
    server = await startTestServer({ env: { FLUX_RESTFUL_LOCAL_CORES: "2" } });
    client = createGrpcJsClient(JobService, `127.0.0.1:${server.port}`);
  });
  afterAll(async () => {
    client?.close();
    await server?.close();
  });

  async function waitInactive(id: string) {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const { job } = await client.unary(m.getJob, { id });
      if (job?.state === JobState.INACTIVE) return job;
      if (Date.now() > deadline) throw new Error(`job ${id} still ${job && JobState[job.state]}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  function textOf(chunks: OutputChunk[], stream: OutputStream) {
    return Buffer.concat(chunks.filter((c) => c.stream === stream).map((c) => c.data)).toString("utf8");
  }

  it("submits echo pancakes 🥞, sees it COMPLETED, and reads the output byte-exact both ways", async () => {
    const { id } = await client.unary(m.submitJob, { command: ["echo", "pancakes 🥞"] });
    expect(id).toMatch(/^ƒ[1-9A-HJ-NP-Za-km-z]+$/);

    const job = await waitInactive(id);
    expect(job.result).toBe(JobResult.COMPLETED);
    expect(job.returncode).toBe(0);

    const page = await client.unary(m.getJobOutput, { id });
    expect(page.complete).toBe(true);
    expect(textOf(page.chunks, OutputStream.STDOUT)).toBe("pancakes 🥞\n");
    expect(Buffer.concat(page.chunks.map((c) => c.data))).toEqual(Buffer.from("pancakes 🥞\n", "utf8"));

    const streamed: OutputChunk[] = [];
    let exitCode: number | undefined;
    for await (const msg of client.serverStream(m.streamJobOutput, { id })) {
      if (msg.item.case === "chunk") streamed.push(msg.item.value);
      if (msg.item.case === "end") exitCode = msg.item.value.exitCode;
    }
    expect(textOf(streamed, OutputStream.STDOUT)).toBe("pancakes 🥞\n");
    expect(textOf(streamed, OutputStream.STDERR)).toBe("");
    expect(exitCode).toBe(0);
  });

  it("streams the output of a running job live and tells stdout from stderr", async () => {
    // The job goes on past "one" only once the test has received it (it then creates the gate
    // file): the first line provably came while the job ran, whatever the machine's load.
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "grpc-js-gate-"));
    const gate = path.join(dir, "go");
    try {
      const { id } = await client.unary(m.submitJob, {
        command: ["sh", "-c", 'echo one; while [ ! -e "$0" ]; do sleep 0.05; done; echo two >&2; sleep 0.3; echo three', gate],
      });
      const streamed: OutputChunk[] = [];
      let chunksBeforeGate = -1;
      for await (const msg of client.serverStream(m.streamJobOutput, { id })) {
        if (msg.item.case === "chunk") streamed.push(msg.item.value);
        if (chunksBeforeGate < 0 && textOf(streamed, OutputStream.STDOUT).includes("one")) {
          chunksBeforeGate = streamed.length;
          await fs.writeFile(gate, "");
        }
      }
      expect(chunksBeforeGate).toBeGreaterThan(0);
      expect(streamed.length).toBeGreaterThan(chunksBeforeGate);
      expect(textOf(streamed, OutputStream.STDOUT)).toBe("one\nthree\n");
      expect(textOf(streamed, OutputStream.STDERR)).toBe("two\n");
      expect(streamed.map((c) => Number(c.offset))).toEqual(streamed.map((_, i) => i));
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it("maps errors to gRPC status codes: NotFound, InvalidArgument", async () => {
    const unknown = await statusOf(() => client.unary(m.getJob, { id: "ƒ2Xyz9" }));
    expect(unknown.code).toBe(grpc.status.NOT_FOUND);
    const malformed = await statusOf(() => client.unary(m.getJob, { id: "not-a-job-id!" }));
    expect(malformed.code).toBe(grpc.status.INVALID_ARGUMENT);
    const empty = await statusOf(() => client.unary(m.submitJob, { command: [] }));
    expect(empty.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(empty.details).toContain("command");
  });

  it("cancels a running job and sees CANCELED", async () => {
    const { id } = await client.unary(m.submitJob, { command: ["sleep", "30"] });
    for (;;) {
      const { job } = await client.unary(m.getJob, { id });
      if (job?.state === JobState.RUN) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await client.unary(m.cancelJob, { id });
    expect((await waitInactive(id)).result).toBe(JobResult.CANCELED);
    const again = await statusOf(() => client.unary(m.cancelJob, { id }));
    expect(again.code).toBe(grpc.status.FAILED_PRECONDITION);
  });
});
