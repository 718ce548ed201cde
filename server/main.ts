/**
 * The server's entry point: the only place that reads the environment and argv,
 * listens, and handles signals. `flux-restful-server [--host H] [--port P] [--data-dir D] [--backend B]`.
 */
import { createServer } from "./app.js";
import { runUsersCli } from "./auth/users-cli.js";
import { ConfigError, describeSecrets, loadConfig } from "./config.js";
import { createJsonLogger } from "./logger.js";

const VERSION = "0.1.0";
/** Time the backend gets, after the grace, to end its jobs and close (the local backend's kill grace is 5 s). */
const JOB_TEARDOWN_MS = 10_000;

async function main(argv: string[]): Promise<number> {
  if (argv[0] === "users") {
    const { stdin, stdout, stderr } = process;
    return runUsersCli({ argv: argv.slice(1), env: process.env, stdin, stdout, stderr });
  }
  if (argv[0] === "--version" || argv[0] === "-V") {
    process.stdout.write(`flux-restful-server ${VERSION}\n`);
    return 0;
  }
  if (argv[0] === "--help" || argv[0] === "-h") {
    process.stdout.write(
      "usage: flux-restful-server [--host HOST] [--port PORT] [--data-dir DIR] [--backend auto|local|flux] [--log-level LEVEL]\n" +
        "       flux-restful-server users add|list|remove|passwd|activate|deactivate ... (see `users help`)\n" +
        "Settings can also come from the environment; see README.md.\n",
    );
    return 0;
  }
  let config;
  try {
    config = loadConfig(process.env, argv);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`flux-restful-server: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const logger = createJsonLogger({ level: config.logLevel });
  process.on("unhandledRejection", (reason) => logger.error("unhandled rejection", { cause: reason }));
  process.on("uncaughtException", (err) => logger.error("uncaught exception", { cause: err }));

  let requestStop = (_reason: string) => {};
  let server;
  try {
    server = await createServer(config, { logger, version: VERSION, requestStop: () => requestStop("StopService") });
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`flux-restful-server: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const { url } = await server.listen();
  // Which secrets are set, never their values.
  logger.info("listening", {
    url,
    backend: server.backend.name,
    version: VERSION,
    serverMode: config.serverMode,
    requireAuth: config.requireAuth,
    secrets: describeSecrets(config),
  });

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info("shutting down", { signal });
      // A stuck close must not keep the process alive past the limit. Requests get the grace;
      // then the backend ends its jobs as `flux shutdown` does (SIGTERM, SIGKILL after 5 s for
      // a job that ignores it) and closes its stores, which the limit must leave room for.
      setTimeout(() => {
        logger.warn("shutdown took too long; exiting");
        process.exit(1);
      }, config.shutdownGraceMs + JOB_TEARDOWN_MS).unref();
      void server.close().then(resolve);
    };
    requestStop = (reason) => stop(reason);
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  logger.info("stopped");
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`flux-restful-server: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
