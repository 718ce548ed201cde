/**
 * vitest globalSetup: builds the web UI (dist/web) once before the test files run, so the
 * servers they start serve the current pages.
 */
import { buildWeb } from "../../clients/web/build.js";

export default async function setup(): Promise<void> {
  await buildWeb();
}
