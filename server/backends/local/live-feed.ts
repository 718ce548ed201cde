/**
 * In-memory fan-out of a job's live output and events to its followers, so a follower gets a
 * chunk the moment it is read from the task, without polling the database. Each follower has
 * a bounded queue: one that falls behind is told so ("overflow") and catches up from the
 * database instead of holding an unbounded backlog in memory.
 */

export type TakeResult<T> =
  | { kind: "item"; item: T }
  /** Items were dropped: read what was missed from the store. */
  | { kind: "overflow" }
  /** The feed was closed (backend shutting down). */
  | { kind: "closed" }
  | { kind: "aborted" };

export interface LiveQueue<T> {
  push(item: T): void;
  close(): void;
  /** Waits for the next item; resolves "aborted" promptly when the signal aborts. */
  take(signal: AbortSignal): Promise<TakeResult<T>>;
}

export interface LiveQueueLimits<T> {
  maxItems: number;
  maxBytes: number;
  sizeOf(item: T): number;
}

export function createLiveQueue<T>(limits: LiveQueueLimits<T>): LiveQueue<T> {
  let items: T[] = [];
  let head = 0;
  let bytes = 0;
  let overflow = false;
  let closed = false;
  let wake: (() => void) | undefined;

  return {
    push(item) {
      if (closed || overflow) return;
      const size = limits.sizeOf(item);
      if (items.length - head >= limits.maxItems || bytes + size > limits.maxBytes) {
        overflow = true;
        items = [];
        head = 0;
        bytes = 0;
      } else {
        items.push(item);
        bytes += size;
      }
      wake?.();
    },
    close() {
      closed = true;
      wake?.();
    },
    async take(signal) {
      for (;;) {
        if (signal.aborted) return { kind: "aborted" };
        if (head < items.length) {
          const item = items[head]!;
          items[head++] = undefined as T;
          bytes -= limits.sizeOf(item);
          if (head === items.length) {
            items = [];
            head = 0;
          }
          return { kind: "item", item };
        }
        if (overflow) {
          overflow = false;
          return { kind: "overflow" };
        }
        if (closed) return { kind: "closed" };
        await new Promise<void>((resolve) => {
          const done = (): void => {
            signal.removeEventListener("abort", done);
            wake = undefined;
            resolve();
          };
          wake = done;
          signal.addEventListener("abort", done);
        });
      }
    },
  };
}

/** Followers per job id. */
export interface LiveFeed<T> {
  /** Adds a follower; returns the function that removes it. */
  subscribe(id: bigint, queue: LiveQueue<T>): () => void;
  publish(id: bigint, item: T): void;
  /** Whether anyone follows this job (skip building items nobody reads). */
  has(id: bigint): boolean;
  /** Closes every follower's queue (shutdown). */
  closeAll(): void;
  /** Followers currently subscribed, over all jobs (a debug hook for leak tests). */
  readonly size: number;
}

export function createLiveFeed<T>(): LiveFeed<T> {
  const byJob = new Map<bigint, Set<LiveQueue<T>>>();
  let size = 0;
  return {
    subscribe(id, queue) {
      let set = byJob.get(id);
      if (set === undefined) byJob.set(id, (set = new Set()));
      set.add(queue);
      size++;
      return () => {
        const s = byJob.get(id);
        if (s?.delete(queue)) {
          size--;
          if (s.size === 0) byJob.delete(id);
        }
      };
    },
    publish(id, item) {
      const set = byJob.get(id);
      if (set !== undefined) for (const q of set) q.push(item);
    },
    has(id) {
      return byJob.has(id);
    },
    closeAll() {
      for (const set of byJob.values()) for (const q of set) q.close();
      // Also drops followers whose consumer stopped pulling without return().
      byJob.clear();
      size = 0;
    },
    get size() {
      return size;
    },
  };
}
