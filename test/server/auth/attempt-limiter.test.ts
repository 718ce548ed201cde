import { describe, expect, it } from "vitest";
import { createAttemptLimiter } from "../../../server/auth/attempt-limiter.js";

const timed = async (fn: () => Promise<unknown>) => {
  const start = performance.now();
  await fn();
  return performance.now() - start;
};

/**
 * Whether an attempt gets in at once: before any timer or I/O could run. A wall-clock bound
 * ("under 60 ms") fails whenever a loaded machine stalls the process for that long.
 */
const entersAtOnce = async (entering: Promise<() => void>) =>
  Promise.race([
    entering.then((release) => (release(), true)),
    new Promise<boolean>((r) => setImmediate(() => r(false))),
  ]);

describe("attempt limiter", () => {
  it("lets the first failures through at once, then doubles the delay up to the cap", () => {
    const limiter = createAttemptLimiter({ freeAttempts: 3, baseDelayMs: 100, maxDelayMs: 350 });
    const delays = [];
    for (let i = 0; i < 7; i++) {
      delays.push(limiter.delayMs(["user:a"]));
      limiter.fail(["user:a"]);
    }
    expect(delays).toEqual([0, 0, 0, 100, 200, 350, 350]);
  });

  it("makes a slowed-down attempt actually wait, on either key", async () => {
    const limiter = createAttemptLimiter({ freeAttempts: 1, baseDelayMs: 120 });
    expect(await entersAtOnce(limiter.enter(["user:a", "addr:1"]))).toBe(true);
    limiter.fail(["user:b", "addr:1"]);
    // Another user from the same address waits: the address key is slowed down.
    expect(await timed(async () => (await limiter.enter(["user:a", "addr:1"]))())).toBeGreaterThanOrEqual(110);
    // The same user from elsewhere does not.
    expect(await entersAtOnce(limiter.enter(["user:a", "addr:2"]))).toBe(true);
  });

  it("clears a user's failures on success but keeps the address's", () => {
    const limiter = createAttemptLimiter({ freeAttempts: 1, baseDelayMs: 100 });
    limiter.fail(["user:a", "addr:1"]);
    expect(limiter.delayMs(["user:a"])).toBe(100);
    limiter.succeed(["user:a"]);
    expect(limiter.delayMs(["user:a"])).toBe(0);
    expect(limiter.delayMs(["addr:1"])).toBe(100);
  });

  it("forgets failures after the window", async () => {
    // A window long enough that a stalled process cannot let it pass between fail() and the first check.
    const limiter = createAttemptLimiter({ freeAttempts: 1, baseDelayMs: 100, windowMs: 500 });
    limiter.fail(["user:a"]);
    expect(limiter.delayMs(["user:a"])).toBe(100);
    await new Promise((r) => setTimeout(r, 600));
    expect(limiter.delayMs(["user:a"])).toBe(0);
  });

  it("refuses a parallel burst on a slowed-down key beyond maxWaiting", async () => {
    const limiter = createAttemptLimiter({ freeAttempts: 1, baseDelayMs: 200, maxWaiting: 2 });
    limiter.fail(["user:a"]);
    const attempts = Array.from({ length: 5 }, () =>
      limiter.enter(["user:a"]).then(
        (release) => (release(), "waited"),
        (e: Error) => e.name,
      ),
    );
    const results = await Promise.all(attempts);
    expect(results.filter((r) => r === "waited")).toHaveLength(2);
    expect(results.filter((r) => r === "TooManyAttemptsError")).toHaveLength(3);
    // Once those are done, the key takes attempts again.
    expect(await limiter.enter(["user:a"]).then((release) => (release(), "waited"))).toBe("waited");
  });

  it("stops waiting when the request is aborted", async () => {
    const limiter = createAttemptLimiter({ freeAttempts: 1, baseDelayMs: 5000 });
    limiter.fail(["user:a"]);
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 30);
    const elapsed = await timed(() => limiter.enter(["user:a"], abort.signal).catch(() => undefined));
    expect(elapsed).toBeLessThan(1000);
  });

  it("bounds its memory by dropping the oldest keys", () => {
    const limiter = createAttemptLimiter({ freeAttempts: 1, baseDelayMs: 100, maxKeys: 3 });
    for (const k of ["a", "b", "c", "d"]) limiter.fail([k]);
    expect(limiter.delayMs(["a"])).toBe(0);
    expect(limiter.delayMs(["d"])).toBe(100);
  });
});
