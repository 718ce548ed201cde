/**
 * The shared JobBackend contract, run against the flux backend driving the stand-in
 * `flux` (test/support/fake-flux), and against a real instance when one is reachable.
 */
import { execFileSync } from "node:child_process";
import { describe, it } from "vitest";
import { createFluxBackend } from "../../../../server/backends/flux/index.js";
import { createSilentLogger } from "../../../../server/logger.js";
import { describeBackendContract } from "../../../support/backend-contract.js";
import { createFakeFlux } from "../../../support/fake-flux/fake-flux.js";
import { fluxContractSubject } from "./flux-contract-subject.js";
import { realFlux } from "./real-flux.js";

describeBackendContract("flux (stand-in flux)", async () => {
  const fake = await createFakeFlux();
  const backend = createFluxBackend({
    fluxCommand: fake.fluxCommand,
    fluxUri: fake.uri,
    baseEnvironment: fake.baseEnvironment,
    logger: createSilentLogger(),
    killGraceMs: 500,
  });
  await backend.start();
  return fluxContractSubject(backend, () => fake.stop());
});

const real = realFlux();
if (real) {
  describeBackendContract("flux (real instance)", async () => {
    const backend = createFluxBackend({ fluxUri: real.uri, baseEnvironment: real.baseEnvironment, logger: createSilentLogger() });
    await backend.start();
    return fluxContractSubject(backend);
  });
} else {
  describe("JobBackend contract: flux (real instance)", () => {
    it.skip(`skipped: ${realFluxSkipReason()}`, () => {});
  });
}

function realFluxSkipReason(): string {
  try {
    execFileSync("flux", ["--version"], { stdio: "ignore" });
    return "FLUX_URI is not set";
  } catch {
    return "no `flux` on PATH (set FLUX_URI and put flux-core's flux on PATH to run against a real instance)";
  }
}
