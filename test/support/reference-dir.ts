/**
 * Where the shared reference material lives: ../shared beside the repository (as on a
 * developer's machine and in CI's clone), or FLUX_RESTFUL_SHARED_DIR when set.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

export const SHARED_DIR = process.env.FLUX_RESTFUL_SHARED_DIR ?? path.resolve(repoRoot, "..", "shared");

/** The recorded transcripts of real `flux` commands (flux-core 0.88). */
export const FLUX_REFERENCE_DIR = path.join(SHARED_DIR, "flux-reference");
