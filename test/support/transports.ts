/**
 * The four Connect-ES client transports the server must answer on one port.
 */
import type { Interceptor, Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";

export type TransportName = "connect-json-h1" | "connect-binary-h2" | "grpc" | "grpc-web";

export function createTransports(baseUrl: string, interceptors: Interceptor[] = []): Record<TransportName, Transport> {
  return {
    "connect-json-h1": createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors }),
    "connect-binary-h2": createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true, interceptors }),
    grpc: createGrpcTransport({ baseUrl, interceptors }),
    "grpc-web": createGrpcWebTransport({ baseUrl, httpVersion: "1.1", interceptors }),
  };
}
