/**
 * The in-memory fan-out to followers: bounded, abortable, and leaving nothing behind.
 */
import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { createLiveFeed, createLiveQueue } from "../../../../server/backends/local/live-feed.js";

const limits = { maxItems: 3, maxBytes: 100, sizeOf: (s: string) => s.length };

describe("live feed", () => {
  it("delivers items in order to each follower of the job", async () => {
    const feed = createLiveFeed<string>();
    const a = createLiveQueue(limits);
    const b = createLiveQueue(limits);
    const offA = feed.subscribe(1n, a);
    feed.subscribe(2n, b);
    feed.publish(1n, "x");
    feed.publish(1n, "y");
    const signal = new AbortController().signal;
    expect(await a.take(signal)).toEqual({ kind: "item", item: "x" });
    expect(await a.take(signal)).toEqual({ kind: "item", item: "y" });
    expect(feed.size).toBe(2);
    offA();
    offA();
    expect(feed.size).toBe(1);
    expect(feed.has(1n)).toBe(false);
    feed.closeAll();
    expect(await b.take(signal)).toEqual({ kind: "closed" });
    expect(feed.size).toBe(0);
  });

  it("tells a follower that fell behind instead of growing", async () => {
    const q = createLiveQueue(limits);
    for (const s of ["a", "b", "c", "d"]) q.push(s);
    const signal = new AbortController().signal;
    expect(await q.take(signal)).toEqual({ kind: "overflow" });
    q.push("e");
    expect(await q.take(signal)).toEqual({ kind: "item", item: "e" });
    q.push("x".repeat(101));
    expect(await q.take(signal)).toEqual({ kind: "overflow" });
  });

  it("wakes a waiting follower on push and on abort, removing its abort listener", async () => {
    const q = createLiveQueue(limits);
    const controller = new AbortController();
    const waiting = q.take(controller.signal);
    setTimeout(() => q.push("late"), 10);
    expect(await waiting).toEqual({ kind: "item", item: "late" });
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
    const aborted = q.take(controller.signal);
    controller.abort();
    expect(await aborted).toEqual({ kind: "aborted" });
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });
});
