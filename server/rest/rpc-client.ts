/**
 * Calls the real service implementations, through the real interceptors (logging, auth),
 * in memory: the legacy routes are a translation layer, never a second copy of the logic.
 *
 * The peer address travels as a private header that an extra first interceptor turns
 * into kPeerAddress: context values given to a router transport's unary()/stream() reach
 * only client-side interceptors (connect 2.1.2's in-memory client builds the handler's
 * request from url, method, headers and body alone). Only the headers listed here are
 * forwarded from the HTTP request, so a client cannot set the private one itself.
 */
import type { DescMessage, DescMethodServerStreaming, DescMethodUnary, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { createRouterTransport, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { kPeerAddress } from "../context.js";

const PEER_HEADER = "x-flux-restful-rest-peer";

export interface RestRpcOptions {
  /** The same routes function the Connect adapter serves. */
  routes: (router: ConnectRouter) => void;
  /** The same interceptors the Connect adapter uses, in the same order. */
  interceptors: readonly Interceptor[];
  /** Ends in-flight calls (streams) when the server shuts down. */
  shutdownSignal?: AbortSignal;
}

/** What one HTTP request passes on to the calls it makes. */
export interface CallContext {
  /** The Authorization header, forwarded as is (omitted for token exchange). */
  authorization?: string;
  /** The x-request-id header, so log lines of the REST request and its RPCs match. */
  requestId?: string;
  /** The client's address, for the auth layer's attempt limiting and logs. */
  peer: string;
  /** Aborted when the HTTP client goes away. */
  signal: AbortSignal;
}

export interface RestRpc {
  unary<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    input: MessageInitShape<I>,
    call: CallContext,
  ): Promise<MessageShape<O>>;
  /** Starts a server-streaming call; errors before the first message surface when it is first read. */
  stream<I extends DescMessage, O extends DescMessage>(
    method: DescMethodServerStreaming<I, O>,
    input: MessageInitShape<I>,
    call: CallContext,
  ): Promise<AsyncIterable<MessageShape<O>>>;
}

const peerInterceptor: Interceptor = (next) => async (req) => {
  const peer = req.header.get(PEER_HEADER);
  if (peer !== null) {
    req.header.delete(PEER_HEADER);
    req.contextValues.set(kPeerAddress, peer);
  }
  return next(req);
};

function headersOf(call: CallContext): Headers {
  const headers = new Headers();
  if (call.authorization !== undefined) headers.set("authorization", call.authorization);
  if (call.requestId !== undefined) headers.set("x-request-id", call.requestId);
  if (call.peer !== "") headers.set(PEER_HEADER, call.peer);
  return headers;
}

async function* once<T>(value: T): AsyncIterable<T> {
  yield value;
}

export function createRestRpc(options: RestRpcOptions): RestRpc {
  const transport = createRouterTransport(options.routes, {
    router: { interceptors: [peerInterceptor, ...options.interceptors], shutdownSignal: options.shutdownSignal },
  });
  return {
    async unary(method, input, call) {
      const res = await transport.unary(method, call.signal, undefined, headersOf(call), input);
      return res.message;
    },
    async stream(method, input, call) {
      const res = await transport.stream(method, call.signal, undefined, headersOf(call), once(input));
      return res.message;
    },
  };
}
