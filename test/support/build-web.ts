/**
 * vitest globalSetup: builds the web UI (dist/web) once before the test files run, so the
 * servers they start serve the current pages. A failed build does not stop other suites: it
 * is reported, and the old bundle is removed so the web UI tests fail (pages answer 503)
 * instead of passing against stale code.
 */
import fs from "node:fs/promises";
import { buildWeb, DEFAULT_WEB_OUT_DIR } from "../../clients/web/build.js";

export default async function setup(): Promise<void> {
  try {
    await buildWeb();
  } catch (e) {
    process.stderr.write(`web UI build failed; the web UI tests will fail: ${e instanceof Error ? e.message : String(e)}\n`);
    await fs.rm(DEFAULT_WEB_OUT_DIR, { recursive: true, force: true });
  }
}
