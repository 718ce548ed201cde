/**
 * Keeps the facts cache filled from the job manager's journal (FluxCalls.followJobspecs):
 * one stream replays every job's jobspec from the job manager's memory, then brings each
 * new job's as it is submitted, so listing jobs this server has not seen costs no jobspec
 * reads (1,000 of them took 0.3-0.8 s on a 2-core machine; the replay of 1,000 jobs takes
 * about 0.1 s, once per connection). When the stream fails or ends it is followed again
 * after a backoff; meanwhile the cache reads jobspecs itself, as without a feed.
 */
import type { Logger } from "../../logger.js";
import type { JobspecNotice } from "./flux-calls.js";
import { factsFromJobspec, type FactsCache } from "./job-facts.js";

export interface JobspecFeedOptions {
  follow(signal: AbortSignal): AsyncIterable<JobspecNotice>;
  facts: FactsCache;
  logger: Pick<Logger, "debug" | "warn">;
  /** Stops the feed for good. */
  signal: AbortSignal;
  /** First wait before following again after a failure; doubles up to retryMaxMs. Defaults to 1000. */
  retryInitialMs?: number;
  /** Defaults to 30000. */
  retryMaxMs?: number;
}

export interface JobspecFeed {
  /** Resolves true when the first replay is complete, false when the first attempt failed. */
  readonly firstCatchUp: Promise<boolean>;
  /** Settles when the feed has stopped (after the signal aborted). */
  readonly stopped: Promise<void>;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });

export function startJobspecFeed(options: JobspecFeedOptions): JobspecFeed {
  const { facts, logger, signal } = options;
  const initialMs = options.retryInitialMs ?? 1000;
  const maxMs = options.retryMaxMs ?? 30_000;
  let firstDone!: (replayed: boolean) => void;
  const firstCatchUp = new Promise<boolean>((resolve) => (firstDone = resolve));

  async function run(): Promise<void> {
    let backoffMs = initialMs;
    while (!signal.aborted) {
      let caughtUp!: () => void;
      facts.loading(new Promise<void>((resolve) => (caughtUp = resolve)));
      try {
        for await (const notice of options.follow(signal)) {
          if (notice.kind === "caught-up") {
            caughtUp();
            firstDone(true);
            backoffMs = initialMs;
          } else {
            facts.remember(notice.id, factsFromJobspec(notice.jobspec));
          }
        }
      } catch (e) {
        if (!signal.aborted) logger.debug("the job manager's journal stopped; jobspecs are read one by one until it is followed again", { error: e, retryInMs: backoffMs });
      } finally {
        // Lookups waiting for the replay go ahead on their own.
        caughtUp();
        firstDone(false);
      }
      if (signal.aborted) break;
      await sleep(backoffMs, signal);
      backoffMs = Math.min(backoffMs * 2, maxMs);
    }
  }

  const stopped = run().catch((e: unknown) => logger.warn("the jobspec feed failed", { error: e }));
  return { firstCatchUp, stopped };
}
