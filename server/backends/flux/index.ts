/**
 * The flux backend: drives a real Flux instance with the flux C subcommands and
 * streams output through `flux job attach` in a pty. See docs/flux-backend.md.
 */
export { createFluxBackend } from "./flux-backend.js";
export type { FluxBackendOptions, FluxServerMode } from "./flux-backend.js";
export { probeFlux } from "./probe.js";
export type { FluxProbeOptions, FluxProbeResult } from "./probe.js";
export { createFluxCliCalls } from "./flux-cli.js";
export type { FluxCliOptions } from "./flux-cli.js";
export type { FluxCalls, JobListRecord, RawEvent, ResourceSnapshot, SubmitOptions } from "./flux-calls.js";
export type { FluxAttach, AttachItem } from "./flux-attach.js";

/** Symbols below are for tests and the benchmarks, not for app code. */
export { buildJobspec } from "./jobspec.js";
export type { JobspecV1, JobspecOptions } from "./jobspec.js";
export { parseExactJson } from "./exact-json.js";
export { fluxErrorToBackendError, FluxCommandError } from "./flux-error.js";
