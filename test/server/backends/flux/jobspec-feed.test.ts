/**
 * The facts cache fed by a jobspec feed (the job manager's journal on the native
 * transport): replayed jobs need no jobspec reads, lookups wait for a replay in progress,
 * and a feed that fails leaves the cache reading jobspecs itself while it is retried.
 */
import { describe, expect, it } from "vitest";
import type { ExactJson } from "../../../../server/backends/flux/exact-json.js";
import type { JobspecNotice } from "../../../../server/backends/flux/flux-calls.js";
import { createFactsCache } from "../../../../server/backends/flux/job-facts.js";
import { startJobspecFeed } from "../../../../server/backends/flux/jobspec-feed.js";
import { createSilentLogger } from "../../../../server/logger.js";

const specFor = (owner: string, command: string[]): ExactJson => ({
  version: 1,
  resources: [{ type: "slot", count: 1, with: [{ type: "core", count: 1 }, { type: "gpu", count: 2 }], label: "task" }],
  tasks: [{ command, slot: "task", count: { per_slot: 1 } }],
  attributes: { system: { duration: 0 }, user: { flux_restful: { owner } } },
});

/** Jobspec reads, counted; every id has a jobspec naming it. */
function countingCalls() {
  const read: bigint[] = [];
  return {
    read,
    calls: {
      jobspec: async (id: bigint) => {
        read.push(id);
        return specFor(`read-${id}`, ["looked", "up"]);
      },
    },
  };
}

/** A feed the test drives: push notices, end it, or fail it. */
function scriptedFeed() {
  const queue: Array<JobspecNotice | Error | "end"> = [];
  let wake: (() => void) | undefined;
  let follows = 0;
  const push = (item: JobspecNotice | Error | "end") => {
    queue.push(item);
    wake?.();
  };
  async function* follow(signal: AbortSignal): AsyncGenerator<JobspecNotice> {
    follows++;
    const onAbort = () => wake?.();
    signal.addEventListener("abort", onAbort);
    try {
      for (;;) {
        if (signal.aborted) return;
        const item = queue.shift();
        if (item === undefined) {
          await new Promise<void>((r) => (wake = r));
          continue;
        }
        if (item === "end") return;
        if (item instanceof Error) throw item;
        yield item;
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }
  return { push, follow, follows: () => follows };
}

/** A feed from a scripted journal into a facts cache whose jobspec reads are counted. */
function feedOverCountingCalls(options: { retryInitialMs?: number } = {}) {
  const { calls, read } = countingCalls();
  const facts = createFactsCache(calls);
  const feed = scriptedFeed();
  const stop = new AbortController();
  const running = startJobspecFeed({ follow: feed.follow, facts, logger: createSilentLogger(), signal: stop.signal, ...options });
  return { read, facts, feed, stop, running };
}

describe("jobspec feed", () => {
  it("fills the cache from the replay, so listed jobs need no jobspec reads, and keeps it filled with new jobs", async () => {
    const { read, facts, feed, stop, running } = feedOverCountingCalls();
    feed.push({ kind: "jobspec", id: 1n, jobspec: specFor("alice", ["a"]) });
    feed.push({ kind: "jobspec", id: 2n ** 60n, jobspec: specFor("bob", ["b"]) });
    feed.push({ kind: "caught-up" });
    expect(await running.firstCatchUp).toBe(true);
    feed.push({ kind: "jobspec", id: 3n, jobspec: specFor("carol", ["c"]) });

    const got = await facts.getMany([1n, 2n ** 60n, 3n]);
    expect(got.get(1n)).toEqual({ owner: "alice", command: ["a"], ngpus: 2 });
    expect(got.get(2n ** 60n)).toEqual({ owner: "bob", command: ["b"], ngpus: 2 });
    expect(got.get(3n)).toEqual({ owner: "carol", command: ["c"], ngpus: 2 });
    expect(read).toEqual([]);
    stop.abort();
    await running.stopped;
  });

  it("makes a lookup during the replay wait for it instead of reading jobspecs", async () => {
    const { read, facts, feed, stop, running } = feedOverCountingCalls();
    feed.push({ kind: "jobspec", id: 1n, jobspec: specFor("alice", ["a"]) });
    const pending = facts.getMany([1n, 2n, 9n]);
    feed.push({ kind: "jobspec", id: 2n, jobspec: specFor("bob", ["b"]) });
    feed.push({ kind: "caught-up" });
    const got = await pending;
    expect(got.get(2n)?.owner).toBe("bob");
    // 9 was not in the replay (e.g. submitted a moment ago): read after the replay, alone.
    expect(read).toEqual([9n]);
    expect(got.get(9n)?.owner).toBe("read-9");
    stop.abort();
    await running.stopped;
  });

  it("lets lookups go ahead when the feed fails, and follows it again", async () => {
    const { read, facts, feed, stop, running } = feedOverCountingCalls({ retryInitialMs: 1 });
    feed.push(new Error("the flux broker connection was lost"));
    expect(await running.firstCatchUp).toBe(false);
    expect((await facts.getMany([5n])).get(5n)?.owner).toBe("read-5");
    expect(read).toEqual([5n]);
    // Until a deadline, not a count of tries (each try takes as long as a busy machine makes it).
    await expect.poll(() => feed.follows(), { timeout: 10_000, interval: 2 }).toBeGreaterThanOrEqual(2);
    feed.push({ kind: "jobspec", id: 6n, jobspec: specFor("dave", ["d"]) });
    feed.push({ kind: "caught-up" });
    await expect.poll(async () => (await facts.getMany([6n])).get(6n)?.owner, { timeout: 10_000, interval: 2 }).toBe("dave");
    expect(read).toEqual([5n]);
    stop.abort();
    await running.stopped;
  });
});
