/**
 * Cores and gpus of the one local node, and the queue of jobs waiting for them (SCHED).
 * Jobs are taken by priority (higher first), then submit order; like sched-simple's
 * first-come-first-served mode, a job that does not fit blocks those behind it, so big jobs
 * are not starved by a stream of small ones. Held jobs (priority 0) are never queued.
 */

/** What a job asks for. */
export interface ResourceRequest {
  id: bigint;
  priority: number;
  cores: number;
  gpus: number;
}

/** What a job got: core and gpu indices on rank 0. */
export interface Allocation {
  cores: number[];
  gpus: number[];
}

export interface SchedulerOptions {
  cores: number;
  gpus: number;
}

export type Scheduler = ReturnType<typeof createScheduler>;

/** Formats indices as an RFC 22 idset: "0", "[0-1]", "[0,2-3]". */
export function idsetOf(ids: readonly number[]): string {
  if (ids.length === 1) return String(ids[0]);
  const parts: string[] = [];
  for (let i = 0; i < ids.length; ) {
    let j = i;
    while (j + 1 < ids.length && ids[j + 1] === ids[j]! + 1) j++;
    parts.push(j === i ? String(ids[i]) : `${ids[i]}-${ids[j]}`);
    i = j + 1;
  }
  return `[${parts.join(",")}]`;
}

/** sched-simple's resource_summary annotation, e.g. "rank0/core[0-1],gpu0". */
export function resourceSummary(alloc: Allocation): string {
  const parts: string[] = [];
  if (alloc.cores.length > 0) parts.push(`core${idsetOf(alloc.cores)}`);
  if (alloc.gpus.length > 0) parts.push(`gpu${idsetOf(alloc.gpus)}`);
  return `rank0/${parts.join(",")}`;
}

export function createScheduler(options: SchedulerOptions) {
  const coreFree = new Array<boolean>(options.cores).fill(true);
  const gpuFree = new Array<boolean>(options.gpus).fill(true);
  let coresAllocated = 0;
  let gpusAllocated = 0;
  // One FIFO per priority; ids arrive in increasing order, so each FIFO is in submit order.
  const queues = new Map<number, ResourceRequest[]>();
  const queued = new Map<bigint, ResourceRequest>();

  const take = (free: boolean[], count: number): number[] => {
    const out: number[] = [];
    for (let i = 0; i < free.length && out.length < count; i++) {
      if (free[i]) {
        free[i] = false;
        out.push(i);
      }
    }
    return out;
  };

  function head(): ResourceRequest | undefined {
    const priorities = [...queues.keys()].sort((a, b) => b - a);
    for (const p of priorities) {
      const q = queues.get(p)!;
      while (q.length > 0 && !queued.has(q[0]!.id)) q.shift();
      if (q.length > 0) return q[0];
      queues.delete(p);
    }
    return undefined;
  }

  return {
    /** Queues a job; it must fit the node (checked at submit). Priority 0 (held) is not queued. */
    enqueue(request: ResourceRequest): void {
      if (request.priority <= 0) return;
      let q = queues.get(request.priority);
      if (q === undefined) queues.set(request.priority, (q = []));
      q.push(request);
      queued.set(request.id, request);
    },

    /** Takes a job out of the queue (cancel); true when it was queued. */
    remove(id: bigint): boolean {
      return queued.delete(id);
    },

    /** The next job that fits now, allocated and dequeued; undefined when the head does not fit. */
    next(): { request: ResourceRequest; alloc: Allocation } | undefined {
      const request = head();
      if (request === undefined) return undefined;
      if (request.cores > options.cores - coresAllocated || request.gpus > options.gpus - gpusAllocated) {
        return undefined;
      }
      queued.delete(request.id);
      queues.get(request.priority)!.shift();
      coresAllocated += request.cores;
      gpusAllocated += request.gpus;
      return { request, alloc: { cores: take(coreFree, request.cores), gpus: take(gpuFree, request.gpus) } };
    },

    release(alloc: Allocation): void {
      for (const c of alloc.cores) coreFree[c] = true;
      for (const g of alloc.gpus) gpuFree[g] = true;
      coresAllocated -= alloc.cores.length;
      gpusAllocated -= alloc.gpus.length;
    },

    get coresAllocated(): number {
      return coresAllocated;
    },
    get gpusAllocated(): number {
      return gpusAllocated;
    },
    get queuedCount(): number {
      return queued.size;
    },
  };
}
