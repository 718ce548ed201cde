/**
 * Errors a JobBackend throws. Each carries what the API layer needs to choose a code
 * (services/error-mapping.ts is the one place that turns them into ConnectErrors).
 * Guards check `name`, not instanceof, so they survive duplicated module copies.
 */

/** The job id is not known to the backend. */
export class JobNotFoundError extends Error {
  override name = "JobNotFoundError" as const;
  constructor(readonly jobId: string) {
    super(`job "${jobId}" not found`);
  }
}

/** The request cannot be run as asked; `field` names the offending submit field. */
export class InvalidJobRequestError extends Error {
  override name = "InvalidJobRequestError" as const;
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** The job is INACTIVE, so the operation (e.g. cancel) no longer applies. */
export class JobInactiveError extends Error {
  override name = "JobInactiveError" as const;
  constructor(readonly jobId: string) {
    super(`job "${jobId}" is inactive`);
  }
}

/** The backend cannot be reached (e.g. the Flux broker is down) or cannot take work now. */
export class BackendUnavailableError extends Error {
  override name = "BackendUnavailableError" as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The backend's storage refused a write (e.g. disk full); reads may still work. */
export class BackendStorageError extends Error {
  override name = "BackendStorageError" as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

function hasName(e: unknown, name: string): boolean {
  return typeof e === "object" && e !== null && (e as { name?: unknown }).name === name;
}

export const isJobNotFoundError = (e: unknown): e is JobNotFoundError => hasName(e, "JobNotFoundError");
export const isInvalidJobRequestError = (e: unknown): e is InvalidJobRequestError =>
  hasName(e, "InvalidJobRequestError");
export const isJobInactiveError = (e: unknown): e is JobInactiveError => hasName(e, "JobInactiveError");
export const isBackendUnavailableError = (e: unknown): e is BackendUnavailableError =>
  hasName(e, "BackendUnavailableError");
export const isBackendStorageError = (e: unknown): e is BackendStorageError => hasName(e, "BackendStorageError");
