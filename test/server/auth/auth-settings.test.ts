import { describe, expect, it } from "vitest";
import { checkAuthSettings } from "../../../server/auth/auth-settings.js";
import { loadConfig } from "../../../server/config.js";

const configFrom = (env: Record<string, string>) => loadConfig({ FLUX_RESTFUL_DATA_DIR: "/tmp/unused", ...env });
const LONG = "x".repeat(40);

describe("auth settings", () => {
  it("are off, single-user and 600 minutes by default, with no secrets", () => {
    const config = configFrom({});
    expect(config).toMatchObject({ requireAuth: false, serverMode: "single-user", accessTokenExpiresMinutes: 600 });
    expect(config.secretKey).toBeUndefined();
    expect(checkAuthSettings(config, 1000)).toEqual([]);
  });

  it("parse FLUX_REQUIRE_AUTH strictly: false means off, garbage refuses to start", () => {
    expect(configFrom({ FLUX_REQUIRE_AUTH: "false", FLUX_SECRET_KEY: LONG }).requireAuth).toBe(false);
    expect(configFrom({ FLUX_REQUIRE_AUTH: "0" }).requireAuth).toBe(false);
    expect(configFrom({ FLUX_REQUIRE_AUTH: "YES", FLUX_SECRET_KEY: LONG }).requireAuth).toBe(true);
    expect(() => configFrom({ FLUX_REQUIRE_AUTH: "on" })).toThrow(/FLUX_REQUIRE_AUTH must be one of true, false, 1, 0, yes, no \(got "on"\)/);
    expect(() => configFrom({ FLUX_REQUIRE_AUTH: "" })).toThrow(/FLUX_REQUIRE_AUTH/);
    expect(() => configFrom({ FLUX_SERVER_MODE: "multiuser" })).toThrow(/FLUX_SERVER_MODE must be one of single-user, multi-user/);
    expect(() => configFrom({ FLUX_ACCESS_TOKEN_EXPIRES_MINUTES: "0" })).toThrow(/FLUX_ACCESS_TOKEN_EXPIRES_MINUTES/);
  });

  it("refuse auth on without FLUX_SECRET_KEY", () => {
    expect(() => checkAuthSettings(configFrom({ FLUX_REQUIRE_AUTH: "true" }), 0)).toThrow(/FLUX_SECRET_KEY is not set/);
    expect(() => checkAuthSettings(configFrom({ FLUX_REQUIRE_AUTH: "true", FLUX_SECRET_KEY: "" }), 0)).toThrow(/FLUX_SECRET_KEY/);
    expect(checkAuthSettings(configFrom({ FLUX_REQUIRE_AUTH: "true", FLUX_SECRET_KEY: LONG }), 0)).toEqual([]);
  });

  it("warn about a short or published secret key, never quoting it", () => {
    const short = checkAuthSettings(configFrom({ FLUX_REQUIRE_AUTH: "1", FLUX_SECRET_KEY: "tiny-key" }), 0);
    expect(short).toEqual(["FLUX_SECRET_KEY is shorter than 32 bytes; use a long random string"]);
    const published = checkAuthSettings(configFrom({ FLUX_REQUIRE_AUTH: "1", FLUX_SECRET_KEY: "notsecrethoo" }), 0);
    expect(published[0]).toMatch(/published example value/);
    expect(published.join()).not.toContain("notsecrethoo");
  });

  it("refuse FLUX_USER without FLUX_TOKEN and a token key equal to the secret key", () => {
    expect(() => checkAuthSettings(configFrom({ FLUX_USER: "fluxuser" }), 0)).toThrow(/set together/);
    expect(() => checkAuthSettings(configFrom({ FLUX_TOKEN: "pw" }), 0)).toThrow(/set together/);
    expect(() => checkAuthSettings(configFrom({ FLUX_SECRET_KEY: LONG, FLUX_RESTFUL_TOKEN_KEY: LONG }), 0)).toThrow(/must differ/);
  });

  it("warn when multi-user mode cannot switch users", () => {
    const noAuth = checkAuthSettings(configFrom({ FLUX_SERVER_MODE: "multi-user" }), 0);
    expect(noAuth).toEqual(["multi-user mode with auth off: every request is anonymous, so jobs run as the server's user"]);
    const notRoot = checkAuthSettings(configFrom({ FLUX_SERVER_MODE: "multi-user", FLUX_REQUIRE_AUTH: "1", FLUX_SECRET_KEY: LONG }), 1000);
    expect(notRoot).toEqual([expect.stringMatching(/needs the server to run as root/)]);
  });
});
