import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    // Each file in its own process: native handles (ptys, SQLite) cannot leak across files.
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
