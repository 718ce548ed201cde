/**
 * The embedded local backend: jobs as local processes with Flux semantics, state in SQLite.
 */
export { createLocalBackend } from "./local-backend.js";
export type { LocalBackend } from "./local-backend.js";
export type { LocalBackendLogger, LocalBackendOptions } from "./local-backend-options.js";
export { RESTART_EXCEPTION } from "./recovery.js";
export { DB_FILE } from "./job-store.js";
