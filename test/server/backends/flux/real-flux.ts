/**
 * Whether a real Flux instance is reachable for the real-Flux variants of these tests:
 * FLUX_URI set and a `flux` on PATH that answers. Otherwise the tests are skipped, and
 * a warning says so once per file.
 */
import { execFileSync } from "node:child_process";

export interface RealFlux {
  uri: string;
  baseEnvironment: Record<string, string>;
}

/** The environment jobs and flux commands get in the real-Flux tests. */
export function realFluxEnvironment(uri: string): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", LANG: "C.UTF-8", FLUX_URI: uri };
}

export function realFlux(): RealFlux | undefined {
  const uri = process.env.FLUX_URI;
  if (!uri) {
    process.emitWarning("real-Flux tests skipped: FLUX_URI is not set", { code: "FLUX_RESTFUL_REAL_FLUX_SKIPPED" });
    return undefined;
  }
  const baseEnvironment = realFluxEnvironment(uri);
  try {
    execFileSync("flux", ["getattr", "security.owner"], { env: baseEnvironment, stdio: "ignore", timeout: 5000 });
  } catch {
    process.emitWarning(`real-Flux tests skipped: no flux on PATH answers at FLUX_URI=${uri}`, { code: "FLUX_RESTFUL_REAL_FLUX_SKIPPED" });
    return undefined;
  }
  return { uri, baseEnvironment };
}
