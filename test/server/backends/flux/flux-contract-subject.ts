/**
 * A started flux backend as the JobBackend contract's subject: its live followers are its
 * attach processes, and cleanup closes it before whatever it ran on (stand-in, broker).
 */
import type { createFluxBackend } from "../../../../server/backends/flux/index.js";
import type { ContractSubject } from "../../../support/backend-contract.js";

export function fluxContractSubject(backend: ReturnType<typeof createFluxBackend>, stopRest: () => Promise<void> = async () => {}): ContractSubject {
  return {
    backend,
    followerCount: () => backend.attach.activePids().length,
    async cleanup() {
      await backend.close();
      await stopRest();
    },
  };
}
