/**
 * Errors of the native transport before they become backend errors (native-error.ts).
 */
import { errnoName } from "./wire-constants.js";

/** The broker answered a request with an error response (errnum != 0, optional text). */
export class FluxRpcError extends Error {
  override name = "FluxRpcError" as const;
  constructor(
    readonly topic: string,
    readonly errnum: number,
    /** The service's own words, possibly "" (then the errno name stands in). */
    readonly errorText: string,
  ) {
    super(`${topic}: ${errorText !== "" ? errorText : errnoName(errnum)} (${errnoName(errnum)})`);
  }
}

export const isFluxRpcError = (e: unknown): e is FluxRpcError =>
  typeof e === "object" && e !== null && (e as { name?: unknown }).name === "FluxRpcError";
