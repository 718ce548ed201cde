/**
 * The fake broker (instance mode) as its own process, for benchmarks and for dry runs of
 * the real-Flux tests: prints `FLUX_URI=local://...` on stdout once listening, then serves
 * until SIGTERM or SIGINT, when it stops every job it started and removes its directory.
 * With --synthetic it answers at once from templates instead (./synthetic-handler.ts).
 *
 *   node --import tsx test/support/fake-broker/run-fake-broker.ts [--cores N] [--synthetic [JOBS]]
 */
import path from "node:path";
import { createFakeFlux } from "../fake-flux/fake-flux.js";
import { startFakeBroker } from "./fake-broker.js";
import { createInstanceHandler } from "./instance-handler.js";
import { createSyntheticHandler } from "./synthetic-handler.js";

const coresArg = process.argv.indexOf("--cores");
const cores = coresArg > 0 ? Number(process.argv[coresArg + 1]) : 64;
const fake = await createFakeFlux({ nodes: [{ hostname: "fake", cores, gpus: 0 }] });
const syntheticArg = process.argv.indexOf("--synthetic");
const handler =
  syntheticArg > 0
    ? createSyntheticHandler({ jobs: Number(process.argv[syntheticArg + 1] ?? 1000) || 1000 })
    : await createInstanceHandler({ dir: fake.dir });
const broker = await startFakeBroker({ socketPath: path.join(fake.dir, "local"), handler });
process.stdout.write(`FLUX_URI=${broker.uri}\nFAKE_FLUX_COMMAND=${fake.fluxCommand}\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await broker.stop();
  await fake.stop();
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
