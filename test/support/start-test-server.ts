/**
 * Starts a real server on 127.0.0.1 port 0 with its own temporary data dir, for one
 * test file or describe block. close() stops it and removes the data dir.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createServer, type FluxRestfulServer, type ServerDeps } from "../../server/app.js";
import { loadConfig, type Config } from "../../server/config.js";
import { createJsonLogger } from "../../server/logger.js";

export interface TestServer {
  url: string;
  port: number;
  server: FluxRestfulServer;
  config: Config;
  dataDir: string;
  /** Every log line the server wrote, parsed. */
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** Environment the config is read from (PORT, HOST and the data dir are set for you). */
  env?: Record<string, string>;
  overrides?: Partial<Config>;
  deps?: ServerDeps;
  /** Reuse a data dir (restart tests); it is then not removed on close. */
  dataDir?: string;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), "flux-restful-test-")));
  const config = loadConfig(
    {
      PATH: process.env.PATH,
      LANG: "C.UTF-8",
      FLUX_RESTFUL_BACKEND: "local",
      FLUX_RESTFUL_SHUTDOWN_GRACE_MS: "1000",
      ...options.env,
      HOST: "127.0.0.1",
      PORT: "0",
      FLUX_RESTFUL_DATA_DIR: dataDir,
    },
    [],
    options.overrides,
  );
  const logs: Record<string, unknown>[] = [];
  const logger = createJsonLogger({ level: "debug", write: (line) => logs.push(JSON.parse(line)) });
  let server: FluxRestfulServer;
  try {
    server = await createServer(config, { logger, ...options.deps });
  } catch (e) {
    if (ownDir) await fs.rm(dataDir, { recursive: true, force: true });
    throw e;
  }
  const { url, address } = await server.listen();
  return {
    url,
    port: address.port,
    server,
    config,
    dataDir,
    logs,
    async close() {
      await server.close();
      if (ownDir) await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
