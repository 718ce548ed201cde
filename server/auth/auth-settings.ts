/**
 * Startup checks of the auth settings: what refuses to start, and what only deserves a
 * warning. main.ts prints both; createAuth runs the same checks so no server starts unsafe.
 */
import { ConfigError, type Config } from "../config.js";
import { MIN_KEY_BYTES } from "./token-key.js";

/** Secrets published in flux-restful-api 0.2's entrypoint, CI and docs. */
const PUBLISHED_SECRETS = new Set(["notsecrethoo", "notsosecrethoo", "12345"]);

type AuthConfig = Pick<Config, "requireAuth" | "serverMode" | "fluxUser" | "fluxToken" | "secretKey" | "tokenKey">;

/** Throws ConfigError for a setup that must not start; returns the warnings to log. */
export function checkAuthSettings(config: AuthConfig, serverUid: number): string[] {
  if (config.requireAuth && config.secretKey === undefined) {
    throw new ConfigError("FLUX_REQUIRE_AUTH is on but FLUX_SECRET_KEY is not set; set it to a long random string");
  }
  if ((config.fluxUser === undefined) !== (config.fluxToken === undefined)) {
    throw new ConfigError("FLUX_USER and FLUX_TOKEN must be set together (they create the superuser)");
  }
  if (config.tokenKey !== undefined && config.tokenKey === config.secretKey) {
    throw new ConfigError("FLUX_RESTFUL_TOKEN_KEY must differ from FLUX_SECRET_KEY, which clients hold");
  }
  const warnings: string[] = [];
  const secret = config.secretKey;
  if (secret !== undefined && PUBLISHED_SECRETS.has(secret)) {
    warnings.push("FLUX_SECRET_KEY is a published example value; anyone can sign login payloads with it");
  } else if (secret !== undefined && Buffer.byteLength(secret) < MIN_KEY_BYTES) {
    warnings.push(`FLUX_SECRET_KEY is shorter than ${MIN_KEY_BYTES} bytes; use a long random string`);
  }
  if (config.fluxToken !== undefined && PUBLISHED_SECRETS.has(config.fluxToken)) {
    warnings.push("FLUX_TOKEN is a published example value; choose another password for FLUX_USER");
  }
  if (config.serverMode === "multi-user") {
    if (!config.requireAuth) {
      warnings.push("multi-user mode with auth off: every request is anonymous, so jobs run as the server's user");
    }
    if (serverUid !== 0) {
      warnings.push("multi-user mode needs the server to run as root to run jobs as other users; submissions will fail");
    }
  }
  return warnings;
}
