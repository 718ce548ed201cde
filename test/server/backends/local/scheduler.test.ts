/**
 * The local node's cores and gpus and the SCHED queue.
 */
import { describe, expect, it } from "vitest";
import { createScheduler, idsetOf, resourceSummary } from "../../../../server/backends/local/scheduler.js";

describe("scheduler", () => {
  it("takes jobs by priority, then submit order, and lets no job pass a head that does not fit", () => {
    const s = createScheduler({ cores: 4, gpus: 1 });
    s.enqueue({ id: 1n, priority: 16, cores: 3, gpus: 0 });
    s.enqueue({ id: 2n, priority: 16, cores: 2, gpus: 0 });
    s.enqueue({ id: 3n, priority: 20, cores: 1, gpus: 1 });
    s.enqueue({ id: 4n, priority: 0, cores: 1, gpus: 0 }); // held: never queued
    const first = s.next()!;
    expect(first.request.id).toBe(3n);
    expect(first.alloc).toEqual({ cores: [0], gpus: [0] });
    const second = s.next()!;
    expect(second.request.id).toBe(1n);
    expect(second.alloc.cores).toEqual([1, 2, 3]);
    expect(s.next()).toBeUndefined(); // job 2 needs 2 cores, none free
    s.release(first.alloc);
    expect(s.next()).toBeUndefined(); // 1 core free: job 2 still waits
    s.release(second.alloc);
    expect(s.next()!.alloc.cores).toEqual([0, 1]);
    expect(s.coresAllocated).toBe(2);
    expect(s.queuedCount).toBe(0);
  });

  it("forgets a removed job", () => {
    const s = createScheduler({ cores: 1, gpus: 0 });
    s.enqueue({ id: 1n, priority: 16, cores: 1, gpus: 0 });
    s.enqueue({ id: 2n, priority: 16, cores: 1, gpus: 0 });
    expect(s.remove(1n)).toBe(true);
    expect(s.remove(1n)).toBe(false);
    expect(s.next()!.request.id).toBe(2n);
  });

  it("writes idsets and resource summaries as Flux does", () => {
    expect(idsetOf([0])).toBe("0");
    expect(idsetOf([0, 1])).toBe("[0-1]");
    expect(idsetOf([0, 2, 3, 4, 7])).toBe("[0,2-4,7]");
    expect(resourceSummary({ cores: [0], gpus: [] })).toBe("rank0/core0");
    expect(resourceSummary({ cores: [0, 1], gpus: [0] })).toBe("rank0/core[0-1],gpu0");
  });
});
