/**
 * The flux-restful SDK, browser-safe: no Node modules and no environment reads. In Node,
 * import clients/sdk/node.js instead to get the environment defaults and the gRPC protocol.
 *
 * ```ts
 * import { createFluxClient, ACTIVE } from "./clients/sdk/index.js";
 * const client = createFluxClient({ baseUrl: location.origin });
 * const id = await client.submit({ command: ["sh", "-c", "echo hi"] });
 * for await (const item of client.streamOutput(id)) if (item.case === "chunk") show(item.value.data);
 * ```
 */
import type { Interceptor, Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { createFluxClientOverTransport, type FluxClient, type FluxCredentials } from "./flux-client.js";

/** The wire protocol: Connect (the default), gRPC (Node only), or gRPC-Web. */
export type FluxProtocol = "connect" | "grpc" | "grpc-web";

export interface FluxClientOptions extends FluxCredentials {
  /** The server's base URL. Defaults to the page's origin in a browser, else http://127.0.0.1:5000. */
  baseUrl?: string;
  /** Defaults to "connect". Ignored when a transport is given. */
  protocol?: FluxProtocol;
  /** A ready transport (any protocol, any runtime); baseUrl and protocol are then unused. */
  transport?: Transport;
  /** Interceptors for the transport built from baseUrl and protocol. */
  interceptors?: Interceptor[];
  /** Deadline of the CreateToken exchange. Defaults to 30000. */
  tokenTimeoutMs?: number;
}

/** The default base URL (flux-restful-api's port on the loopback address). */
export const DEFAULT_BASE_URL = "http://127.0.0.1:5000";

const PROTOCOLS: readonly FluxProtocol[] = ["connect", "grpc", "grpc-web"];

/** Throws for a protocol name that is not one of FluxProtocol. */
export function checkProtocol(protocol: string): FluxProtocol {
  if (!(PROTOCOLS as readonly string[]).includes(protocol)) {
    throw new RangeError(`unknown protocol "${protocol}" (expected one of ${PROTOCOLS.join(", ")})`);
  }
  return protocol as FluxProtocol;
}

function defaultBaseUrl(): string {
  const origin = (globalThis as { location?: { origin?: string } }).location?.origin;
  return origin && origin !== "null" ? origin : DEFAULT_BASE_URL;
}

/** Creates a client over fetch (Connect or gRPC-Web), for browsers and any runtime with fetch. */
export function createFluxClient(options: FluxClientOptions = {}): FluxClient {
  const transport = options.transport ?? createFetchTransport(options);
  return createFluxClientOverTransport({ ...options, transport });
}

function createFetchTransport(options: FluxClientOptions): Transport {
  const baseUrl = options.baseUrl ?? defaultBaseUrl();
  const protocol = checkProtocol(options.protocol ?? "connect");
  const interceptors = options.interceptors ?? [];
  if (protocol === "grpc") {
    throw new RangeError(`protocol "grpc" needs HTTP/2 trailers, which fetch does not expose: use "connect" or "grpc-web", or the node entry`);
  }
  return protocol === "grpc-web"
    ? createGrpcWebTransport({ baseUrl, interceptors })
    : createConnectTransport({ baseUrl, interceptors });
}

export { createFluxClientOverTransport } from "./flux-client.js";
export type { FluxClient, FluxCredentials, FluxClientCoreOptions, ListJobsFilter, OutputItem, SubmitJobInit } from "./flux-client.js";
export {
  ACTIVE,
  INACTIVE,
  PENDING,
  RESULT_NAMES,
  RUNNING,
  STATE_NAMES,
  parseJobFilter,
  resultName,
  stateName,
} from "./job-states.js";
export type { JobFilterMasks } from "./job-states.js";
export { signLegacyPayload } from "./legacy-payload.js";
export { JobResult, JobState, NodeState, OutputStream } from "../../gen/flux/restful/v1/job_pb.js";
export type { Job, JobEvent, JobException, Node, OutputChunk } from "../../gen/flux/restful/v1/job_pb.js";
export type { User } from "../../gen/flux/restful/v1/admin_service_pb.js";
export type { WhoAmIResponse } from "../../gen/flux/restful/v1/auth_service_pb.js";
export type { GetJobOutputResponse, ListJobsResponse } from "../../gen/flux/restful/v1/job_service_pb.js";
export { Code, ConnectError } from "@connectrpc/connect";
