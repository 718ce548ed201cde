/**
 * Remembers recently verified HTTP Basic credentials for a short time, so a client that
 * sends Basic on every request (the web UI, curl in a loop) pays the password KDF once,
 * not per request. Entries are keyed by an HMAC of name and password under a random
 * per-process key: the cache holds no password, and a memory dump reveals no hash that
 * could be attacked offline faster than the real one. Holders re-check the user's token
 * version on every hit, so a password change or deactivation takes effect at once.
 */
import { createHmac, randomBytes } from "node:crypto";

export interface BasicCacheOptions {
  /** How long a verified pair is trusted. Defaults to 30000. */
  ttlMs?: number;
  /** Entries kept at most (oldest dropped first). Defaults to 1000. */
  maxEntries?: number;
}

export interface BasicCache {
  /** The token version recorded when this pair was verified, if still fresh. */
  get(name: string, password: string): string | undefined;
  set(name: string, password: string, tokenVersion: string): void;
}

export function createBasicCache(options: BasicCacheOptions = {}): BasicCache {
  const ttlMs = options.ttlMs ?? 30_000;
  const maxEntries = options.maxEntries ?? 1000;
  const key = randomBytes(32);
  const entries = new Map<string, { tokenVersion: string; expiresMs: number }>();
  const digest = (name: string, password: string) =>
    createHmac("sha256", key).update(`${name.length}:${name}`).update(password).digest("base64url");

  return {
    get(name, password) {
      const id = digest(name, password);
      const entry = entries.get(id);
      if (!entry) return undefined;
      if (entry.expiresMs <= Date.now()) {
        entries.delete(id);
        return undefined;
      }
      return entry.tokenVersion;
    },
    set(name, password, tokenVersion) {
      const id = digest(name, password);
      entries.delete(id);
      while (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(id, { tokenVersion, expiresMs: Date.now() + ttlMs });
    },
  };
}
