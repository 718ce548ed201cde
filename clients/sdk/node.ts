/**
 * The SDK's Node entry: createFluxClient with the environment as defaults (FLUX_RESTFUL_HOST,
 * FLUX_USER, FLUX_TOKEN, FLUX_SECRET_KEY, as flux-restful-api 0.2's client read them) and
 * Node's HTTP transports, which add gRPC and HTTP/2.
 *
 * ```ts
 * import { createFluxClient } from "./clients/sdk/node.js";
 * const client = createFluxClient({ protocol: "grpc" });
 * console.log(await client.nodes());
 * ```
 */
import type { Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { createFluxClientOverTransport, type FluxClient } from "./flux-client.js";
import { checkProtocol, DEFAULT_BASE_URL, type FluxClientOptions } from "./index.js";

export interface NodeFluxClientOptions extends FluxClientOptions {
  /** HTTP version for "connect" and "grpc-web" ("grpc" is always HTTP/2). Defaults to "1.1". */
  httpVersion?: "1.1" | "2";
  /** Where defaults come from. Defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Options with every unset credential and the base URL taken from the environment. */
export function resolveNodeOptions(options: NodeFluxClientOptions = {}): NodeFluxClientOptions {
  const env = options.env ?? process.env;
  const nonEmpty = (v: string | undefined) => (v === undefined || v === "" ? undefined : v);
  return {
    ...options,
    baseUrl: options.baseUrl ?? nonEmpty(env.FLUX_RESTFUL_HOST) ?? DEFAULT_BASE_URL,
    user: options.user ?? nonEmpty(env.FLUX_USER),
    token: options.token ?? nonEmpty(env.FLUX_TOKEN),
    secretKey: options.secretKey ?? nonEmpty(env.FLUX_SECRET_KEY),
  };
}

/** Creates a Node transport for a protocol. */
export function createNodeTransport(options: NodeFluxClientOptions & { baseUrl: string }): Transport {
  const { baseUrl, interceptors = [] } = options;
  const httpVersion = options.httpVersion ?? "1.1";
  switch (checkProtocol(options.protocol ?? "connect")) {
    case "grpc":
      return createGrpcTransport({ baseUrl, interceptors });
    case "grpc-web":
      return createGrpcWebTransport({ baseUrl, httpVersion, interceptors });
    case "connect":
      return createConnectTransport({ baseUrl, httpVersion, interceptors });
  }
}

/** Creates a client; unset options come from the environment, then the defaults. */
export function createFluxClient(options: NodeFluxClientOptions = {}): FluxClient {
  const resolved = resolveNodeOptions(options);
  const transport = resolved.transport ?? createNodeTransport({ ...resolved, baseUrl: resolved.baseUrl! });
  return createFluxClientOverTransport({ ...resolved, transport });
}

export * from "./index.js";
