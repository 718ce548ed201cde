/**
 * Which brokers the native transport talks to. Flux does not version its service
 * payloads, so the transport checks the broker's "version" attribute (what `flux version`
 * prints as "broker:") at every connect and refuses versions outside the range below.
 *
 * Lower bound 0.61.0: resource.sched-status (flux-core 81da377, 0.61.0) is the newest RPC
 * used; job-list constraints date from 0.53.0, urgency from 0.22. Verified against
 * 0.88.0 (../shared/reference/flux-wire.md). Upper bound: the next major version, whose
 * payloads nobody has seen.
 */

export interface FluxVersion {
  major: number;
  minor: number;
  patch: number;
}

export const MIN_SUPPORTED_VERSION: FluxVersion = { major: 0, minor: 61, patch: 0 };
/** Exclusive. */
export const MAX_SUPPORTED_VERSION: FluxVersion = { major: 1, minor: 0, patch: 0 };
export const SUPPORTED_RANGE_TEXT = ">= 0.61.0, < 1.0.0";

/** "0.88.0-59-g4a5e79f56" -> {0, 88, 0}; undefined when it does not start with N.N.N. */
export function parseFluxVersion(text: string): FluxVersion | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(text.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

function compare(a: FluxVersion, b: FluxVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

/** undefined when supported, else why not (a sentence for the log and the error). */
export function unsupportedVersionReason(text: string): string | undefined {
  const v = parseFluxVersion(text);
  if (!v) return `the flux broker reports version "${text}", which is not a release version (supported: ${SUPPORTED_RANGE_TEXT})`;
  if (compare(v, MIN_SUPPORTED_VERSION) < 0 || compare(v, MAX_SUPPORTED_VERSION) >= 0) {
    return `flux-core "${text}" is outside the native transport's supported range ${SUPPORTED_RANGE_TEXT}`;
  }
  return undefined;
}
