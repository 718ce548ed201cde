/**
 * One hostile request and what may answer it.
 */
import type { RawRequest } from "../raw-client.js";
import type { ClientCode } from "./rpc-catalog.js";

/** How the answer is read: the RPC protocols carry their code in their own way; plain HTTP in the status. */
export type AnswerKind = "connect-unary" | "connect-stream" | "grpc" | "grpc-web" | "http";

export interface Expectation {
  /** Protocol codes (Connect names) that are right for this request. */
  codes: ClientCode[];
  /** HTTP statuses that are right when the refusal comes before the protocol (415, 405, 404, 413, 431...). */
  statuses?: number[];
  /** HTTP/2 headers over the limit: nghttp2 refuses the stream before any answer exists. */
  refusedStream?: boolean;
}

export interface MalformedCase {
  /** The kind of malformation, e.g. "json-wrong-type". */
  family: string;
  /** The RPC or route, e.g. "flux.restful.v1.JobService/GetJob over grpc". */
  target: string;
  /** A few words on this very request. */
  note: string;
  request: RawRequest;
  answer: AnswerKind;
  expect: Expectation;
}

export const invalidArgument: Expectation = { codes: ["invalid_argument"] };
