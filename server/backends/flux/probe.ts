/**
 * probeFlux answers "is there a Flux instance to use?" for FLUX_RESTFUL_BACKEND=auto
 * (and the reason to print when FLUX_RESTFUL_BACKEND=flux cannot start): it runs
 * `flux getattr security.owner`, which needs a broker that answers.
 */
import type { Logger } from "../../logger.js";
import { createFluxCliCalls } from "./flux-cli.js";

export interface FluxProbeOptions {
  /** Defaults to "flux". */
  fluxCommand?: string;
  fluxUri?: string;
  baseEnvironment: Readonly<Record<string, string>>;
  logger: Pick<Logger, "debug" | "info" | "warn" | "error">;
  /** Defaults to 5000. */
  timeoutMs?: number;
}

export interface FluxProbeResult {
  ok: boolean;
  /** Why, in a sentence fit for the startup log. */
  reason: string;
}

export async function probeFlux(options: FluxProbeOptions): Promise<FluxProbeResult> {
  const calls = createFluxCliCalls({ ...options, commandTimeoutMs: options.timeoutMs ?? 5000 });
  const where = options.fluxUri !== undefined ? `FLUX_URI=${options.fluxUri}` : "the enclosing instance";
  try {
    const { ownerUid } = await calls.ping();
    return { ok: true, reason: `a flux instance answers at ${where} (owner uid ${ownerUid})` };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return { ok: false, reason: `no flux instance answers at ${where}: ${why}` };
  }
}
