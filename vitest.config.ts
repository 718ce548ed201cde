import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    // Builds the web UI once per run, for the server to serve in the browser tests.
    // And makes one temporary folder for the run (test/support/run-temp-dir.ts).
    globalSetup: ["test/support/build-web.ts", "test/support/run-temp-dir.ts"],
    // Each file in its own process: native handles (ptys, SQLite) cannot leak across files.
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
