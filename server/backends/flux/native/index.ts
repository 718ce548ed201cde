/**
 * The native Flux transport: FluxCalls spoken directly on the broker's local:// socket
 * (docs/flux-native-transport.md).
 */
export { createNativeFluxCalls } from "./native-calls.js";
export type { EventlogPath, NativeFluxCalls, NativeFluxCallsOptions, NativeListOptions } from "./native-calls.js";
export { jobListConstraint } from "./job-list-constraint.js";
export type { JobListFilter, Rfc31Constraint } from "./job-list-constraint.js";
export { SUPPORTED_RANGE_TEXT, parseFluxVersion, unsupportedVersionReason } from "./broker-version.js";
export { localSocketPath } from "./connect-local.js";
export { FluxTransportError, selectFluxTransport } from "./select-transport.js";
export type { FluxTransportChoice, FluxTransportSetting, SelectFluxTransportOptions } from "./select-transport.js";

/** Symbols below are for tests and the benchmarks, not for app code. */
export { createBrokerClient } from "./broker-client.js";
export type { BrokerClient, BrokerClientOptions, RpcOptions, StreamOptions } from "./broker-client.js";
export { createFluxConnection } from "./flux-connection.js";
export { connectLocal } from "./connect-local.js";
export { createFrameDecoder } from "./frame-decoder.js";
export { decodeMessageBody, encodeMessage, FluxProtocolError } from "./message-codec.js";
export type { FluxMessage } from "./message-codec.js";
export { decodeJsonPayload, encodeJsonPayload, parseJsonExactFast, stringifyExact } from "./payload-json.js";
export { FluxRpcError, isFluxRpcError } from "./rpc-error.js";
export { signNone, unwrapNone } from "./sign-none.js";
export { Errno, MsgFlag, MsgType } from "./wire-constants.js";
