/**
 * The server-only key that signs access tokens. It is never FLUX_SECRET_KEY (which every
 * client holds and which could then mint tokens for anyone). Taken from
 * FLUX_RESTFUL_TOKEN_KEY, else generated once and kept in the data dir with mode 0600,
 * so tokens survive a restart and replicas sharing the data dir accept each other's.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ConfigError } from "../config.js";

/** HS256 keys shorter than the hash output weaken it; jose itself accepts even 5 bytes. */
export const MIN_KEY_BYTES = 32;
export const TOKEN_KEY_FILE = "token.key";

export interface TokenKeyOptions {
  /** FLUX_RESTFUL_TOKEN_KEY, if set. */
  configured?: string;
  /** FLUX_SECRET_KEY, if set: the token key must differ from it. */
  secretKey?: string;
  dataDir: string;
}

export interface TokenKey {
  key: Uint8Array;
  /** Where it came from, for the startup line. */
  source: "FLUX_RESTFUL_TOKEN_KEY" | "generated" | "data dir";
}

function readKeyFile(file: string): Uint8Array {
  const text = fs.readFileSync(file, "utf8").trim();
  const key = Buffer.from(text, "base64url");
  if (key.length < MIN_KEY_BYTES) {
    throw new ConfigError(`token key file "${file}" is damaged (fewer than ${MIN_KEY_BYTES} bytes); remove it to make a new one`);
  }
  // Someone may have copied it with a looser mode; it is as sensitive as a password database.
  if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
  return new Uint8Array(key);
}

export function loadTokenKey(options: TokenKeyOptions): TokenKey {
  if (options.configured !== undefined) {
    const key = new TextEncoder().encode(options.configured);
    if (key.length < MIN_KEY_BYTES) {
      throw new ConfigError(`FLUX_RESTFUL_TOKEN_KEY must be at least ${MIN_KEY_BYTES} bytes long`);
    }
    if (options.configured === options.secretKey) {
      throw new ConfigError("FLUX_RESTFUL_TOKEN_KEY must differ from FLUX_SECRET_KEY, which clients hold");
    }
    return { key, source: "FLUX_RESTFUL_TOKEN_KEY" };
  }
  fs.mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(options.dataDir, TOKEN_KEY_FILE);
  if (fs.existsSync(file)) return { key: readKeyFile(file), source: "data dir" };
  // Written aside, then linked into place: link fails if the file exists, so when two
  // processes start at once, one key wins and neither reads a half-written file.
  const temp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
  fs.writeFileSync(temp, randomBytes(MIN_KEY_BYTES).toString("base64url") + "\n", { mode: 0o600, flag: "wx" });
  try {
    fs.linkSync(temp, file);
    return { key: readKeyFile(file), source: "generated" };
  } catch (e) {
    if ((e as { code?: string }).code !== "EEXIST") throw e;
    return { key: readKeyFile(file), source: "data dir" };
  } finally {
    fs.rmSync(temp, { force: true });
  }
}
