import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createAuth } from "../../../server/auth/index.js";
import { loadConfig } from "../../../server/config.js";
import { createSilentLogger } from "../../../server/logger.js";
import { createAuthHarness, SECRET_KEY, type AuthHarness } from "./auth-harness.js";

describe("createAuth", () => {
  let h: AuthHarness | undefined;
  afterEach(() => h?.close());

  it("refuses to start with auth on and no FLUX_SECRET_KEY, before creating any file", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "flux-create-auth-"));
    try {
      const config = loadConfig({ FLUX_REQUIRE_AUTH: "true", FLUX_RESTFUL_DATA_DIR: dataDir });
      const anonymousCaller = { name: "op", superuser: true, authenticated: false };
      await expect(createAuth({ config, logger: createSilentLogger(), anonymousCaller })).rejects.toThrow(
        /FLUX_REQUIRE_AUTH is on but FLUX_SECRET_KEY is not set/,
      );
      expect(fs.readdirSync(dataDir)).toEqual([]);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("creates the FLUX_USER superuser and logs the mode and key source, never a secret", async () => {
    h = await createAuthHarness({
      FLUX_REQUIRE_AUTH: "true",
      FLUX_SECRET_KEY: SECRET_KEY,
      FLUX_USER: "fluxuser",
      FLUX_TOKEN: "token-value-77",
      FLUX_RESTFUL_TOKEN_KEY: "k".repeat(48),
    });
    expect(h.auth.users.get("fluxuser")).toMatchObject({ superuser: true, active: true });
    const line = h.logs.find((l) => l.msg === "auth");
    expect(line).toMatchObject({ requireAuth: true, serverMode: "single-user", tokenKey: "FLUX_RESTFUL_TOKEN_KEY", users: 1, fluxUser: "created" });
    const text = JSON.stringify(h.logs);
    for (const secret of [SECRET_KEY, "token-value-77", "k".repeat(48)]) expect(text).not.toContain(secret);
  });

  it("warns when auth is on with no users, and about a short secret key", async () => {
    h = await createAuthHarness({ FLUX_REQUIRE_AUTH: "true", FLUX_SECRET_KEY: "short" });
    const warnings = h.logs.filter((l) => l.level === "warn").map((l) => l.msg);
    expect(warnings).toEqual([
      "FLUX_SECRET_KEY is shorter than 32 bytes; use a long random string",
      expect.stringMatching(/^auth is on but there are no users/),
    ]);
  });
});
