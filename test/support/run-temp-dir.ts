/**
 * vitest globalSetup: one temporary folder for the whole run, removed at its end, for files
 * that helpers make once per test process (a test process is ended without its exit hooks
 * running, so a folder of its own would be left behind). Its path reaches the test processes
 * as FLUX_RESTFUL_TEST_RUN_DIR.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export default async function setup(): Promise<() => Promise<void>> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "flux-restful-test-run-"));
  process.env.FLUX_RESTFUL_TEST_RUN_DIR = dir;
  return async () => {
    await fs.rm(dir, { recursive: true, force: true });
  };
}
