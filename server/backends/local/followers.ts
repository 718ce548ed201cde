/**
 * Output and eventlog readers: a snapshot from the store, and followers that replay from the
 * store and then take live items from the in-memory feed. The switch from replay to live
 * happens inside one synchronous step (read what is stored, subscribe), so nothing written in
 * between can be missed or repeated.
 */
import type { JobEvent, OutputChunk, OutputItem, OutputPage } from "../backend.js";
import { JobNotFoundError } from "../backend-errors.js";
import { formatJobId } from "../jobid.js";
import type { JobStore } from "./job-store.js";
import { createLiveQueue, type LiveFeed } from "./live-feed.js";
import type { LiveJob } from "./local-job.js";

export interface FollowerDeps {
  store: JobStore;
  active: ReadonlyMap<bigint, LiveJob>;
  outputFeed: LiveFeed<OutputItem>;
  eventFeed: LiveFeed<JobEvent>;
  /** Throws when the backend is not open. */
  assertOpen(): void;
}

/** Most bytes one page of output holds (at least one chunk is always returned). */
export const PAGE_BYTES = 4 * 1024 * 1024;
const REPLAY_CHUNKS = 1000;
// A follower that falls further behind than this re-reads from the store.
const LIVE_QUEUE = { maxItems: 10_000, maxBytes: 8 * 1024 * 1024 };

interface OutputView {
  chunkCount: number;
  ended: boolean;
  exitCode: number;
  truncated: boolean;
}

function outputView(deps: FollowerDeps, id: bigint): OutputView {
  const job = deps.active.get(id);
  if (job !== undefined) {
    return { chunkCount: job.chunkCount, ended: false, exitCode: 0, truncated: job.record.outputTruncated };
  }
  const stored = deps.store.getJob(id);
  if (stored === undefined) throw new JobNotFoundError(formatJobId(id));
  return {
    chunkCount: stored.extras.chunkCount,
    ended: true,
    exitCode: stored.extras.exitCode ?? 1,
    truncated: stored.record.outputTruncated,
  };
}

function readPage(deps: FollowerDeps, id: bigint, offset: number, limit: number) {
  const view = outputView(deps, id);
  const want = Math.min(limit, view.chunkCount - offset);
  const chunks: OutputChunk[] = want > 0 ? deps.store.readChunks(id, offset, want, PAGE_BYTES) : [];
  const nextOffset = chunks.length > 0 ? chunks[chunks.length - 1]!.offset + 1 : offset;
  // Chunks lost to a failed commit would otherwise be waited for forever.
  const caughtUp = nextOffset >= view.chunkCount || chunks.length === 0;
  return { view, chunks, nextOffset: caughtUp ? Math.max(nextOffset, view.chunkCount) : nextOffset, caughtUp };
}

/** output(): what is stored from offset, without waiting. */
export function readOutput(deps: FollowerDeps, id: bigint, offset: number, limit: number): OutputPage {
  deps.assertOpen();
  const { view, chunks } = readPage(deps, id, offset, limit);
  const nextOffset = chunks.length > 0 ? chunks[chunks.length - 1]!.offset + 1 : offset;
  return { chunks, nextOffset, complete: view.ended && nextOffset >= view.chunkCount, truncated: view.truncated };
}

/** followOutput(): replays from offset, then follows; ends with an "end" item. */
export async function* followOutput(
  deps: FollowerDeps,
  id: bigint,
  offset: number,
  signal: AbortSignal,
): AsyncGenerator<OutputItem> {
  deps.assertOpen();
  let next = Math.max(0, offset);
  for (;;) {
    if (signal.aborted) return;
    const page = readPage(deps, id, next, REPLAY_CHUNKS);
    const live = page.caughtUp && !page.view.ended ? createLiveQueue<OutputItem>({ ...LIVE_QUEUE, sizeOf }) : undefined;
    const unsubscribe = live === undefined ? undefined : deps.outputFeed.subscribe(id, live);
    try {
      for (const chunk of page.chunks) {
        yield { kind: "chunk", chunk };
        if (signal.aborted) return;
      }
      next = page.nextOffset;
      if (page.caughtUp && page.view.ended) {
        yield { kind: "end", exitCode: page.view.exitCode, truncated: page.view.truncated };
        return;
      }
      if (live === undefined) continue;
      for (;;) {
        const taken = await live.take(signal);
        if (taken.kind === "aborted" || taken.kind === "closed") return;
        if (taken.kind === "overflow") break;
        const item = taken.item;
        if (item.kind !== "chunk") {
          yield item;
          if (item.kind === "end") return;
          continue;
        }
        if (item.chunk.offset < next) continue;
        if (item.chunk.offset > next) break; // a gap: re-read from the store
        yield item;
        next = item.chunk.offset + 1;
      }
    } finally {
      unsubscribe?.();
    }
  }
}

function sizeOf(item: OutputItem): number {
  return item.kind === "chunk" ? item.chunk.data.byteLength + 64 : 64;
}

/** The eventlog so far. */
export function readEvents(deps: FollowerDeps, id: bigint): JobEvent[] {
  const job = deps.active.get(id);
  if (job !== undefined) return [...job.events];
  const events = deps.store.readEvents(id);
  if (events.length === 0 && deps.store.getJob(id) === undefined) throw new JobNotFoundError(formatJobId(id));
  return events;
}

/** followEvents(): replays the eventlog, then follows until "clean". */
export async function* followEvents(deps: FollowerDeps, id: bigint, signal: AbortSignal): AsyncGenerator<JobEvent> {
  deps.assertOpen();
  let sent = 0;
  for (;;) {
    if (signal.aborted) return;
    const events = readEvents(deps, id);
    const live = deps.active.has(id) ? createLiveQueue<JobEvent>({ maxItems: 10_000, maxBytes: Infinity, sizeOf: () => 0 }) : undefined;
    const unsubscribe = live === undefined ? undefined : deps.eventFeed.subscribe(id, live);
    try {
      for (; sent < events.length; sent++) {
        const event = events[sent]!;
        yield event;
        if (event.name === "clean" || signal.aborted) return;
      }
      if (live === undefined) return;
      for (;;) {
        const taken = await live.take(signal);
        if (taken.kind === "aborted" || taken.kind === "closed") return;
        if (taken.kind === "overflow") break;
        sent++;
        yield taken.item;
        if (taken.item.name === "clean") return;
      }
    } finally {
      unsubscribe?.();
    }
  }
}
