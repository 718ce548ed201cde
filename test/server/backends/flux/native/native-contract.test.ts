/**
 * The shared JobBackend contract over the native transport: the flux backend with
 * native FluxCalls talking to the fake broker in instance mode, which runs jobs in the
 * stand-in flux's state directory (so `flux job attach`, the stand-in command, streams
 * their output); and against a real instance when FLUX_URI's broker answers. The same
 * suite runs over the CLI transport in ../flux-contract.test.ts.
 */
import path from "node:path";
import { describe, it } from "vitest";
import { createFluxBackend } from "../../../../../server/backends/flux/index.js";
import { createNativeFluxCalls } from "../../../../../server/backends/flux/native/index.js";
import { createSilentLogger } from "../../../../../server/logger.js";
import { describeBackendContract } from "../../../../support/backend-contract.js";
import { startFakeBroker } from "../../../../support/fake-broker/fake-broker.js";
import { createInstanceHandler } from "../../../../support/fake-broker/instance-handler.js";
import { createFakeFlux } from "../../../../support/fake-flux/fake-flux.js";
import { fluxContractSubject } from "../flux-contract-subject.js";
import { realFluxEnvironment } from "../real-flux.js";
import { realBroker } from "./real-broker.js";

describeBackendContract("flux (native transport, fake broker)", async () => {
  const fake = await createFakeFlux();
  const broker = await startFakeBroker({ socketPath: path.join(fake.dir, "local"), handler: await createInstanceHandler({ dir: fake.dir }) });
  const logger = createSilentLogger();
  const calls = createNativeFluxCalls({ fluxUri: fake.uri, logger });
  const backend = createFluxBackend({ fluxCommand: fake.fluxCommand, fluxUri: fake.uri, baseEnvironment: fake.baseEnvironment, logger, killGraceMs: 500, calls });
  await backend.start();
  return {
    backend,
    followerCount: () => backend.attach.activePids().length,
    async cleanup() {
      // The suite passing proves little unless the calls went over the socket: only attach may use the command.
      const commands = fake.calls().filter((argv) => !(argv[0] === "job" && argv[1] === "attach"));
      const topics = new Set(broker.requests.map((r) => r.topic));
      await backend.close();
      await calls.close();
      await broker.stop();
      await fake.stop();
      if (commands.length > 0) throw new Error(`flux commands other than attach ran: ${JSON.stringify(commands.slice(0, 3))}`);
      for (const topic of ["job-ingest.submit", "job-list.list", "job-list.list-id", "job-manager.raise", "job-info.eventlog-watch", "job-info.lookup", "resource.sched-status"]) {
        if (!topics.has(topic)) throw new Error(`the suite never sent ${topic} to the broker`);
      }
    },
  };
});

const real = await realBroker();
if ("uri" in real) {
  describeBackendContract("flux (native transport, real instance)", async () => {
    const logger = createSilentLogger();
    const calls = createNativeFluxCalls({ fluxUri: real.uri, logger });
    const backend = createFluxBackend({ fluxUri: real.uri, baseEnvironment: realFluxEnvironment(real.uri), logger, calls });
    await backend.start();
    return fluxContractSubject(backend, () => calls.close());
  });
} else {
  process.emitWarning(`real-Flux native contract skipped: ${real.skip}`, { code: "FLUX_RESTFUL_REAL_FLUX_SKIPPED" });
  describe("JobBackend contract: flux (native transport, real instance)", () => {
    it.skip(`skipped: ${real.skip}`, () => {});
  });
}
