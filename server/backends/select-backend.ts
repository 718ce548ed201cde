/**
 * Chooses and builds the job backend from config (the only place that names concrete
 * backends). With "auto", the flux backend is used when a Flux instance answers, else
 * the embedded local backend; "flux" refuses to start, with the reason, when none does.
 * The choice and the reason are logged.
 */
import path from "node:path";
import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import type { JobBackend } from "./backend.js";
import { createFluxBackend, createFluxCliCalls, probeFlux } from "./flux/index.js";
import { selectFluxTransport } from "./flux/native/index.js";
import { createLocalBackend } from "./local/index.js";

/** Thrown when FLUX_RESTFUL_BACKEND=flux and no instance answers; main.ts prints it and exits. */
export class BackendSelectionError extends Error {
  override name = "BackendSelectionError" as const;
}

function localBackend(config: Config, logger: Logger): JobBackend {
  return createLocalBackend({
    dataDir: path.join(config.dataDir, "local"),
    cores: config.localCores,
    gpus: config.localGpus,
    maxOutputBytesPerJob: config.maxOutputBytesPerJob,
    baseEnvironment: config.jobBaseEnvironment,
    logger: logger.child({ component: "local-backend" }),
  });
}

async function fluxBackend(config: Config, logger: Logger): Promise<JobBackend> {
  const options = {
    fluxCommand: config.fluxCommand,
    fluxUri: config.fluxUri,
    baseEnvironment: config.jobBaseEnvironment,
    mode: config.serverMode,
    logger: logger.child({ component: "flux-backend" }),
  };
  // FLUX_RESTFUL_FLUX_TRANSPORT: the broker socket or one command per call (docs/flux-native-transport.md).
  const transport = await selectFluxTransport({ setting: config.fluxTransport, fluxUri: config.fluxUri, logger: options.logger, cli: createFluxCliCalls(options) });
  const backend = createFluxBackend({ ...options, calls: transport.calls });
  const close = backend.close.bind(backend);
  backend.close = async () => {
    await close();
    await transport.close();
  };
  return backend;
}

export async function selectBackend(config: Config, logger: Logger): Promise<JobBackend> {
  if (config.backend === "local") {
    logger.info("backend selected", { backend: "local", reason: "FLUX_RESTFUL_BACKEND=local" });
    return localBackend(config, logger);
  }
  const probe = await probeFlux({
    fluxCommand: config.fluxCommand,
    fluxUri: config.fluxUri,
    baseEnvironment: config.jobBaseEnvironment,
    logger,
  });
  if (probe.ok) {
    logger.info("backend selected", { backend: "flux", reason: probe.reason });
    return await fluxBackend(config, logger);
  }
  if (config.backend === "flux") {
    throw new BackendSelectionError(`FLUX_RESTFUL_BACKEND=flux, but ${probe.reason}`);
  }
  logger.info("backend selected", { backend: "local", reason: `auto: ${probe.reason}` });
  return localBackend(config, logger);
}
