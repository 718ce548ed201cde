/**
 * Slows down repeated failed sign-ins, per user name and per peer address. After
 * `freeAttempts` failures within `windowMs`, each further attempt on that key waits
 * (doubling from `baseDelayMs` up to `maxDelayMs`) before the password is even checked,
 * right or wrong, so guessing gets slow; while a key is being slowed down, at most
 * `maxWaiting` attempts may wait on it, so a parallel burst cannot sidestep the delay.
 * Nothing is locked out for good: a quiet window clears the count.
 */
import { setTimeout as sleep } from "node:timers/promises";

export class TooManyAttemptsError extends Error {
  override name = "TooManyAttemptsError" as const;
  constructor() {
    super("too many failed sign-in attempts; retry later");
  }
}

export const isTooManyAttemptsError = (e: unknown): e is TooManyAttemptsError =>
  typeof e === "object" && e !== null && (e as { name?: unknown }).name === "TooManyAttemptsError";

export interface AttemptLimiterOptions {
  /** Failures before any delay. Defaults to 5. */
  freeAttempts?: number;
  /** First delay. Defaults to 250. */
  baseDelayMs?: number;
  /** Largest delay. Defaults to 8000. */
  maxDelayMs?: number;
  /** Failures older than this are forgotten. Defaults to 15 minutes. */
  windowMs?: number;
  /** Attempts allowed to wait at once on a slowed-down key. Defaults to 4. */
  maxWaiting?: number;
  /** Keys remembered at most (oldest dropped first). Defaults to 10000. */
  maxKeys?: number;
}

export interface AttemptLimiter {
  /**
   * Waits as the keys' recent failures ask, then returns a release function to call once
   * the attempt is decided. Throws TooManyAttemptsError, or the signal's reason if aborted.
   */
  enter(keys: readonly string[], signal?: AbortSignal): Promise<() => void>;
  fail(keys: readonly string[]): void;
  /** Clears these keys' failures (the user proved who they are). */
  succeed(keys: readonly string[]): void;
  /** The delay the next attempt on these keys would wait. */
  delayMs(keys: readonly string[]): number;
}

interface Entry {
  failures: number;
  lastFailureMs: number;
  waiting: number;
}

export function createAttemptLimiter(options: AttemptLimiterOptions = {}): AttemptLimiter {
  const freeAttempts = options.freeAttempts ?? 5;
  const baseDelayMs = options.baseDelayMs ?? 250;
  const maxDelayMs = options.maxDelayMs ?? 8000;
  const windowMs = options.windowMs ?? 15 * 60_000;
  const maxWaiting = options.maxWaiting ?? 4;
  const maxKeys = options.maxKeys ?? 10_000;
  const entries = new Map<string, Entry>();

  const current = (key: string): Entry | undefined => {
    const entry = entries.get(key);
    if (entry && entry.waiting === 0 && Date.now() - entry.lastFailureMs > windowMs) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };

  const delayOf = (entry: Entry | undefined): number => {
    if (!entry || entry.failures < freeAttempts) return 0;
    return Math.min(baseDelayMs * 2 ** (entry.failures - freeAttempts), maxDelayMs);
  };

  const entryFor = (key: string): Entry => {
    let entry = current(key);
    if (!entry) {
      if (entries.size >= maxKeys) {
        for (const [k, e] of entries) {
          if (e.waiting === 0) entries.delete(k);
          if (entries.size < maxKeys) break;
        }
      }
      entry = { failures: 0, lastFailureMs: 0, waiting: 0 };
      entries.set(key, entry);
    }
    return entry;
  };

  const delayMs = (keys: readonly string[]) => Math.max(0, ...keys.map((k) => delayOf(current(k))));

  return {
    delayMs,

    async enter(keys, signal) {
      const wait = delayMs(keys);
      if (wait > 0 && keys.some((k) => (current(k)?.waiting ?? 0) >= maxWaiting)) throw new TooManyAttemptsError();
      const held = wait > 0 ? keys.map(entryFor) : [];
      for (const entry of held) entry.waiting++;
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        for (const entry of held) entry.waiting--;
      };
      try {
        if (wait > 0) await sleep(wait, undefined, { signal });
      } catch (e) {
        release();
        throw e;
      }
      return release;
    },

    fail(keys) {
      const now = Date.now();
      for (const key of keys) {
        const entry = entryFor(key);
        entry.failures++;
        entry.lastFailureMs = now;
        // Keep recently failing keys last, so eviction drops the stale ones first.
        entries.delete(key);
        entries.set(key, entry);
      }
    },

    succeed(keys) {
      for (const key of keys) {
        const entry = entries.get(key);
        if (entry) {
          entry.failures = 0;
          if (entry.waiting === 0) entries.delete(key);
        }
      }
    },
  };
}
