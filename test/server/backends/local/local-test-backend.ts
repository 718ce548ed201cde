/**
 * A local backend on a fresh temporary data dir, for tests; cleanup() closes it and removes the dir.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createLocalBackend, type LocalBackend, type LocalBackendOptions } from "../../../../server/backends/local/index.js";

export interface LogLine {
  level: string;
  msg: string;
  fields?: Record<string, unknown>;
}

export interface TestBackend {
  backend: LocalBackend;
  dataDir: string;
  logs: LogLine[];
  followerCount(): number;
  cleanup(): Promise<void>;
}

export function makeTempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "flux-restful-local-"));
}

/** Creates and starts a local backend; `dataDir` reuses a directory (then it is not removed). */
export async function startTestBackend(options: Partial<LocalBackendOptions> = {}): Promise<TestBackend> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? makeTempDir();
  const logs: LogLine[] = [];
  const log = (level: string) => (msg: string, fields?: Record<string, unknown>) => logs.push({ level, msg, fields });
  const backend = createLocalBackend({
    cores: 4,
    killGraceMs: 1000,
    baseEnvironment: { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8" },
    logger: { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") },
    ...options,
    dataDir,
  });
  await backend.start();
  return {
    backend,
    dataDir,
    logs,
    followerCount: () => backend.followerCount(),
    async cleanup() {
      await backend.close();
      if (ownDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
