/**
 * gRPC server reflection, v1 and v1alpha: a real server answering grpc-js-reflection-client
 * and a Connect gRPC client, plus the descriptor choice (image with comments, or embedded).
 */
import fs from "node:fs/promises";
import { clone, create, fromBinary, toBinary, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import { Code, createClient, createRouterTransport, type ConnectRouter, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { GrpcReflection } from "grpc-js-reflection-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../../../gen/flux/restful/v1/admin_service_pb.js";
import { AuthService } from "../../../gen/flux/restful/v1/auth_service_pb.js";
import { JobService } from "../../../gen/flux/restful/v1/job_service_pb.js";
import { Health } from "../../../gen/grpc/health/v1/health_pb.js";
import * as v1 from "../../../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { createJsonLogger } from "../../../server/logger.js";
import {
  GENERATED_DESCRIPTOR_SET_PATH,
  loadDescriptorSet,
  registerReflection,
  registeredServices,
} from "../../../server/services/reflection/index.js";
import { startTestServer, type TestServer } from "../../support/start-test-server.js";

type Version = "v1" | "v1alpha";
type ReflectionRequestInit = { host?: string; messageRequest: v1.ServerReflectionRequest["messageRequest"] };

/** Sends requests on one reflection stream and returns the responses, as v1 messages. */
async function ask(transport: Transport, version: Version, requests: ReflectionRequestInit[]) {
  const out: v1.ServerReflectionResponse[] = [];
  async function* input() {
    for (const r of requests) yield create(v1.ServerReflectionRequestSchema, r);
  }
  if (version === "v1") {
    for await (const res of createClient(v1.ServerReflection, transport).serverReflectionInfo(input())) out.push(res);
  } else {
    // v1alpha has the same fields; only the package differs.
    async function* alpha() {
      for await (const r of input()) {
        yield create(v1alpha.ServerReflectionRequestSchema, {
          host: r.host,
          messageRequest: r.messageRequest as v1alpha.ServerReflectionRequest["messageRequest"],
        });
      }
    }
    const client = createClient(v1alpha.ServerReflection, transport);
    for await (const res of client.serverReflectionInfo(alpha())) {
      out.push(fromBinary(v1.ServerReflectionResponseSchema, toBinary(v1alpha.ServerReflectionResponseSchema, res)));
    }
  }
  return out;
}

function fileNames(res: v1.ServerReflectionResponse): string[] {
  if (res.messageResponse.case !== "fileDescriptorResponse") throw new Error(`got ${res.messageResponse.case}`);
  return res.messageResponse.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b).name);
}

/** The comment above `service JobService` in the proto, as protoc records it (leading_comments). */
async function jobServiceComment(): Promise<string> {
  const lines = (await fs.readFile("proto/flux/restful/v1/job_service.proto", "utf8")).split("\n");
  const at = lines.findIndex((l) => l.startsWith("service JobService"));
  let first = at;
  while (first > 0 && lines[first - 1].startsWith("//")) first--;
  return lines.slice(first, at).map((l) => l.replace(/^\/\//, "")).join("\n") + "\n";
}

describe("reflection on a real server", () => {
  let server: TestServer;
  let transport: Transport;
  const target = () => `127.0.0.1:${server.port}`;

  beforeAll(async () => {
    server = await startTestServer();
    transport = createGrpcTransport({ baseUrl: server.url });
  });
  afterAll(async () => {
    await server?.close();
  });

  describe.each<Version>(["v1", "v1alpha"])("grpc-js-reflection-client %s", (version) => {
    let reflection: GrpcReflection;
    beforeAll(() => {
      reflection = new GrpcReflection(target(), grpc.credentials.createInsecure(), {}, version);
    });

    it("lists every registered service, reflection and health included, each once", async () => {
      const services = await reflection.listServices();
      expect(services).toEqual(
        expect.arrayContaining([
          JobService.typeName,
          AuthService.typeName,
          AdminService.typeName,
          Health.typeName,
          v1.ServerReflection.typeName,
          v1alpha.ServerReflection.typeName,
        ]),
      );
      expect(new Set(services).size).toBe(services.length);
    });

    it("lists the methods of JobService", async () => {
      const methods = await reflection.listMethods(JobService.typeName);
      expect(methods.map((m) => m.name).sort()).toEqual(JobService.methods.map((m) => m.name).sort());
    });

    it("serves a descriptor that a grpc-js client can call SubmitJob and ListJobs with", async () => {
      const descriptor = await reflection.getDescriptorBySymbol(JobService.typeName);
      const pkg = descriptor.getPackageObject({ longs: String, enums: String, defaults: true, oneofs: true });
      const Ctor = (pkg.flux as grpc.GrpcObject).restful as grpc.GrpcObject;
      const JobServiceClient = (Ctor.v1 as grpc.GrpcObject).JobService as grpc.ServiceClientConstructor;
      const client = new JobServiceClient(target(), grpc.credentials.createInsecure());
      try {
        const unary = <T>(method: string, request: object) =>
          new Promise<T>((resolve, reject) =>
            (client[method] as grpc.requestCallback<T> & ((...a: unknown[]) => void))(
              request,
              (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res)),
            ),
          );
        const { id } = await unary<{ id: string }>("SubmitJob", { command: ["true"], name: `reflected-${version}` });
        expect(id).toMatch(/^ƒ/);
        const { jobs } = await unary<{ jobs: { id: string; name: string }[] }>("ListJobs", {
          name: `reflected-${version}`,
        });
        expect(jobs.map((j) => j.id)).toEqual([id]);
      } finally {
        client.close();
      }
    });

    it("rejects an unknown symbol", async () => {
      await expect(reflection.getDescriptorBySymbol("flux.restful.v1.NoSuchService")).rejects.toThrow(
        /NoSuchService/,
      );
    });
  });

  describe.each<Version>(["v1", "v1alpha"])("raw %s stream", (version) => {
    it("answers an unknown symbol with error_response NOT_FOUND and keeps the stream open", async () => {
      const [unknown, list] = await ask(transport, version, [
        { messageRequest: { case: "fileContainingSymbol", value: "no.such.Symbol" } },
        { messageRequest: { case: "listServices", value: "" } },
      ]);
      expect(unknown.messageResponse.case).toBe("errorResponse");
      if (unknown.messageResponse.case !== "errorResponse") return;
      expect(unknown.messageResponse.value.errorCode).toBe(Code.NotFound);
      expect(unknown.messageResponse.value.errorMessage).toContain('"no.such.Symbol"');
      expect(unknown.originalRequest?.messageRequest).toEqual({ case: "fileContainingSymbol", value: "no.such.Symbol" });
      expect(list.messageResponse.case).toBe("listServicesResponse");
    });

    it("sends a file's imports once per stream, the file itself every time", async () => {
      const [first, again, job] = await ask(transport, version, [
        { messageRequest: { case: "fileContainingSymbol", value: "flux.restful.v1.JobService.GetJob" } },
        { messageRequest: { case: "fileByFilename", value: "flux/restful/v1/job_service.proto" } },
        { messageRequest: { case: "fileContainingSymbol", value: "flux.restful.v1.JobState" } },
      ]);
      const expected = [JobService.file, ...JobService.file.dependencies];
      expect(fileNames(first)).toEqual(expect.arrayContaining(expected.map((f) => f.proto.name)));
      expect(fileNames(first)[0]).toBe("flux/restful/v1/job_service.proto");
      expect(fileNames(again)).toEqual(["flux/restful/v1/job_service.proto"]);
      expect(fileNames(job)).toEqual(["flux/restful/v1/job.proto"]);
    });

    it("serves the proto comments, so describe shows them", async () => {
      const [res] = await ask(transport, version, [
        { messageRequest: { case: "fileContainingSymbol", value: JobService.typeName } },
      ]);
      if (res.messageResponse.case !== "fileDescriptorResponse") throw new Error(res.messageResponse.case);
      const file = fromBinary(FileDescriptorProtoSchema, res.messageResponse.value.fileDescriptorProto[0]);
      // FileDescriptorProto.service is field 6: path [6, 0] is the first service.
      const location = file.sourceCodeInfo?.location.find((l) => l.path.join(".") === "6.0");
      expect(location?.leadingComments).toBe(await jobServiceComment());
    });

    it("reports the extension numbers of a message, and NOT_FOUND for an unknown one", async () => {
      const [known, unknown] = await ask(transport, version, [
        { messageRequest: { case: "allExtensionNumbersOfType", value: "flux.restful.v1.Job" } },
        { messageRequest: { case: "allExtensionNumbersOfType", value: "flux.restful.v1.Nope" } },
      ]);
      expect(known.messageResponse).toEqual({
        case: "allExtensionNumbersResponse",
        value: expect.objectContaining({ baseTypeName: "flux.restful.v1.Job", extensionNumber: [] }),
      });
      expect(unknown.messageResponse.case === "errorResponse" && unknown.messageResponse.value.errorCode).toBe(
        Code.NotFound,
      );
    });
  });
});

describe("which descriptors reflection serves", () => {
  const logs: Record<string, unknown>[] = [];
  const logger = createJsonLogger({ level: "debug", write: (line) => logs.push(JSON.parse(line)) });

  function routerWith(services: DescService[], descriptorSet: FileDescriptorSet | undefined) {
    return createRouterTransport((router: ConnectRouter) => {
      for (const service of services) router.service(service, {});
      registerReflection(router, { services: registeredServices(router), descriptorSet, logger });
    });
  }

  async function firstFile(transport: Transport) {
    const [res] = await ask(transport, "v1", [
      { messageRequest: { case: "fileContainingSymbol", value: JobService.typeName } },
    ]);
    if (res.messageResponse.case !== "fileDescriptorResponse") throw new Error(res.messageResponse.case);
    return fromBinary(FileDescriptorProtoSchema, res.messageResponse.value.fileDescriptorProto[0]);
  }

  it("the generated image exists (npm run generate writes it)", async () => {
    await expect(fs.stat(GENERATED_DESCRIPTOR_SET_PATH)).resolves.toBeTruthy();
  });

  it("lists exactly the services registered on the router before it, and itself", async () => {
    const [res] = await ask(routerWith([Health], await loadDescriptorSet()), "v1", [
      { messageRequest: { case: "listServices", value: "" } },
    ]);
    expect(res.messageResponse.case === "listServicesResponse" && res.messageResponse.value.service.map((s) => s.name))
      .toEqual([Health.typeName, v1.ServerReflection.typeName, v1alpha.ServerReflection.typeName]);
  });

  it("does not describe a service that is not registered", async () => {
    const [res] = await ask(routerWith([Health], await loadDescriptorSet()), "v1", [
      { messageRequest: { case: "fileContainingSymbol", value: JobService.typeName } },
    ]);
    expect(res.messageResponse.case === "errorResponse" && res.messageResponse.value.errorCode).toBe(Code.NotFound);
  });

  it("falls back to the embedded descriptors, without comments, when there is no image", async () => {
    const file = await firstFile(routerWith([JobService], undefined));
    expect(file.service.map((s) => s.name)).toEqual(["JobService"]);
    expect(file.sourceCodeInfo).toBeUndefined();
  });

  it("refuses a stale image that no longer matches the generated code, and says so", async () => {
    const image = await loadDescriptorSet();
    if (!image) throw new Error("no image");
    const stale = clone(FileDescriptorSetSchema, image);
    const jobProto = stale.file.find((f) => f.name === "flux/restful/v1/job_service.proto");
    jobProto?.service[0].method.pop();
    logs.length = 0;
    const file = await firstFile(routerWith([JobService], stale));
    expect(file.service[0].method.map((m) => m.name)).toEqual(JobService.methods.map((m) => m.name));
    expect(file.sourceCodeInfo).toBeUndefined();
    expect(logs).toContainEqual(
      expect.objectContaining({ level: "warn", reason: 'file "flux/restful/v1/job_service.proto" differs from the generated code' }),
    );
  });
});
