/**
 * gRPC server reflection (grpc.reflection.v1 and v1alpha), so grpcurl, buf curl and
 * reflection clients can list the services and fetch their descriptors. Connect-ES has no
 * reflection package, so this answers the bidi stream itself.
 */
import { create, fromBinary, toBinary, type DescService, type MessageInitShape } from "@bufbuild/protobuf";
import type { FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { Code, type ConnectRouter } from "@connectrpc/connect";
import * as v1 from "../../../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import type { Logger } from "../../logger.js";
import { createDescriptorIndex, type DescriptorIndex } from "./descriptor-index.js";

export interface ReflectionOptions {
  /** The services to describe; the two reflection services are added to them. */
  services: readonly DescService[];
  /** The `buf build` image (gen/descriptors.binpb), for comments; without it the embedded descriptors serve. */
  descriptorSet?: FileDescriptorSet;
  logger?: Logger;
}

type ResponseInit = MessageInitShape<typeof v1.ServerReflectionResponseSchema>;

/**
 * Registers grpc.reflection.v1 and v1alpha on the router. Register it after the services it
 * describes, e.g. `registerReflection(router, { services: registeredServices(router) })`.
 */
export function registerReflection(router: ConnectRouter, options: ReflectionOptions): void {
  const index = createDescriptorIndex({
    services: [...options.services, v1.ServerReflection, v1alpha.ServerReflection],
    descriptorSet: options.descriptorSet,
  });
  if (index.imageRejectedReason !== undefined) {
    options.logger?.warn("reflection serves descriptors without comments: run npm run generate", {
      reason: index.imageRejectedReason,
    });
  }
  router.service(v1.ServerReflection, {
    async *serverReflectionInfo(requests) {
      const sent = new Set<string>();
      for await (const request of requests) yield answer(index, request, sent);
    },
  });
  // v1alpha is wire-identical to v1: translate through the bytes and answer once.
  router.service(v1alpha.ServerReflection, {
    async *serverReflectionInfo(requests) {
      const sent = new Set<string>();
      for await (const request of requests) {
        const asV1 = fromBinary(v1.ServerReflectionRequestSchema, toBinary(v1alpha.ServerReflectionRequestSchema, request));
        const response = create(v1.ServerReflectionResponseSchema, answer(index, asV1, sent));
        yield fromBinary(v1alpha.ServerReflectionResponseSchema, toBinary(v1.ServerReflectionResponseSchema, response));
      }
    },
  });
}

/** The distinct services registered on a router so far, in registration order. */
export function registeredServices(router: ConnectRouter): DescService[] {
  return [...new Map(router.handlers.map((h) => [h.service.typeName, h.service])).values()];
}

function answer(index: DescriptorIndex, request: v1.ServerReflectionRequest, sent: Set<string>): ResponseInit {
  const base = { validHost: request.host, originalRequest: request };
  const error = (code: Code, message: string): ResponseInit => ({
    ...base,
    messageResponse: { case: "errorResponse", value: { errorCode: code, errorMessage: message } },
  });
  const files = (fileName: string | undefined, notFound: string): ResponseInit => {
    const found = fileName === undefined ? undefined : index.fileWithImports(fileName);
    if (found === undefined) return error(Code.NotFound, notFound);
    // As grpc-go does: the file itself always, its imports only once per stream.
    const [file, ...imports] = found;
    const fresh = imports.filter((f) => !sent.has(f.name));
    for (const f of found) sent.add(f.name);
    return {
      ...base,
      messageResponse: {
        case: "fileDescriptorResponse",
        value: { fileDescriptorProto: [file, ...fresh].map((f) => f.bytes) },
      },
    };
  };

  const question = request.messageRequest;
  switch (question.case) {
    case "listServices":
      return {
        ...base,
        messageResponse: {
          case: "listServicesResponse",
          value: { service: index.serviceNames.map((name) => ({ name })) },
        },
      };
    case "fileByFilename":
      return files(question.value, `file "${question.value}" not found`);
    case "fileContainingSymbol":
      return files(index.fileOfSymbol(question.value), `symbol "${question.value}" not found`);
    case "fileContainingExtension": {
      const { containingType, extensionNumber } = question.value;
      return files(
        index.fileOfExtension(containingType, extensionNumber),
        `extension ${extensionNumber} of "${containingType}" not found`,
      );
    }
    case "allExtensionNumbersOfType": {
      const numbers = index.extensionNumbersOf(question.value);
      if (numbers === undefined) return error(Code.NotFound, `type "${question.value}" not found`);
      return {
        ...base,
        messageResponse: {
          case: "allExtensionNumbersResponse",
          value: { baseTypeName: question.value.replace(/^\./, ""), extensionNumber: numbers },
        },
      };
    }
    default:
      return error(Code.InvalidArgument, "the request asks nothing");
  }
}
