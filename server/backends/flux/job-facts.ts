/**
 * What a JobRecord needs and job-list does not return: the API owner recorded at
 * submission (single-user mode), the command, and the gpu count. They come from the
 * jobspec, which never changes for these fields, so they are cached by id: a job
 * submitted through this server is known from the start; where the transport offers
 * the job manager's journal (jobspec-feed.ts), every other job arrives from it too;
 * any left (a journal that is not offered or not caught up yet) are read once, many
 * in one call.
 */
import { isBackendUnavailableError } from "../backend-errors.js";
import { isJsonObject, type ExactJson } from "./exact-json.js";
import type { FluxCalls } from "./flux-calls.js";
import { settleWithin } from "./settle-within.js";

export interface JobFacts {
  /** The API user recorded in the jobspec (attributes.user.flux_restful.owner), if any. */
  owner?: string;
  command: string[];
  ngpus: number;
}

/** Where the owner is recorded in a jobspec submitted in single-user mode. */
export const OWNER_ATTRIBUTE = "flux_restful";

const UNKNOWN: JobFacts = { command: [], ngpus: 0 };

/** Total gpus a resource graph asks for: gpu counts multiplied by their ancestors' counts. */
function gpusIn(vertices: ExactJson | undefined, multiplier: number): number {
  if (!Array.isArray(vertices)) return 0;
  let total = 0;
  for (const v of vertices) {
    if (!isJsonObject(v)) continue;
    const count = typeof v.count === "number" ? v.count : 1;
    if (v.type === "gpu") total += count * multiplier;
    else total += gpusIn(v.with, count * multiplier);
  }
  return total;
}

/** Reads the facts out of a jobspec (as Flux stored it, or as built here). */
export function factsFromJobspec(jobspec: ExactJson): JobFacts {
  if (!isJsonObject(jobspec)) return UNKNOWN;
  const task = Array.isArray(jobspec.tasks) ? jobspec.tasks[0] : undefined;
  const command = isJsonObject(task) && Array.isArray(task.command) ? task.command.filter((a) => typeof a === "string") : [];
  const facts: JobFacts = { command: command as string[], ngpus: gpusIn(jobspec.resources, 1) };
  const attrs = isJsonObject(jobspec.attributes) ? jobspec.attributes : undefined;
  const user = attrs && isJsonObject(attrs.user) ? attrs.user : undefined;
  const mine = user && isJsonObject(user[OWNER_ATTRIBUTE]) ? user[OWNER_ATTRIBUTE] : undefined;
  if (mine && typeof mine.owner === "string") facts.owner = mine.owner;
  return facts;
}

export interface FactsCache {
  remember(id: bigint, facts: JobFacts): void;
  /** Facts for each id (missing ones looked up); a job whose jobspec cannot be read gets empty facts. */
  getMany(ids: readonly bigint[]): Promise<Map<bigint, JobFacts>>;
  /**
   * A feed is replaying every job's jobspec: until `caughtUp` settles (or feedWaitMs passes),
   * lookups of missing ids wait for it instead of reading the jobspecs themselves.
   */
  loading(caughtUp: Promise<void>): void;
}

export interface FactsCacheOptions {
  /** Most jobs remembered; the oldest are dropped first. Defaults to 200000. */
  maxEntries?: number;
  /** Longest a lookup waits for a feed to catch up. Defaults to 5000. */
  feedWaitMs?: number;
}

export function createFactsCache(calls: Pick<FluxCalls, "jobspec" | "jobspecs">, options: FactsCacheOptions = {}): FactsCache {
  const maxEntries = options.maxEntries ?? 200_000;
  const feedWaitMs = options.feedWaitMs ?? 5000;
  const cache = new Map<bigint, JobFacts>();
  const inflight = new Map<bigint, Promise<JobFacts>>();
  let bulk = true;
  let feed: Promise<void> | undefined;

  /** Waits for a loading feed, at most feedWaitMs; a lookup never hangs on it. */
  const feedSettled = async (): Promise<void> => {
    if (feed !== undefined) await settleWithin(feed, feedWaitMs, undefined);
  };

  const remember = (id: bigint, facts: JobFacts) => {
    cache.delete(id);
    cache.set(id, facts);
    // Map iteration is insertion order: the first key is the oldest.
    while (cache.size > maxEntries) cache.delete(cache.keys().next().value as bigint);
  };

  const lookup = (id: bigint): Promise<JobFacts> => {
    let p = inflight.get(id);
    if (!p) {
      p = calls
        .jobspec(id)
        .then((spec) => {
          const facts = factsFromJobspec(spec);
          remember(id, facts);
          return facts;
        })
        // A job purged between list and lookup, or a jobspec we may not read: show what we know
        // and do not ask again. An unreachable instance is the caller's error (Unavailable).
        .catch((e: unknown) => {
          if (isBackendUnavailableError(e)) throw e;
          remember(id, UNKNOWN);
          return UNKNOWN;
        })
        .finally(() => inflight.delete(id));
      inflight.set(id, p);
    }
    return p;
  };

  /** Reads many missing jobspecs in one call where the FluxCalls can; one at a time otherwise. */
  const lookupMany = async (missing: bigint[]): Promise<void> => {
    if (calls.jobspecs !== undefined && bulk && missing.length > 1) {
      try {
        const specs = await calls.jobspecs(missing);
        // Left out: no jobspec any more (purged), which will not change.
        for (const id of missing) remember(id, specs.has(id) ? factsFromJobspec(specs.get(id)!) : UNKNOWN);
        return;
      } catch (e) {
        if (isBackendUnavailableError(e)) throw e;
        // e.g. a guest may not read the KVS: use job-info, which checks ownership per job, from now on
        bulk = false;
      }
    }
    await Promise.all(missing.map(lookup));
  };

  return {
    remember,
    loading(caughtUp) {
      const settled = caughtUp.catch(() => {});
      feed = settled;
      void settled.then(() => {
        if (feed === settled) feed = undefined;
      });
    },
    async getMany(ids) {
      let missing = ids.filter((id) => !cache.has(id));
      if (missing.length > 0 && feed !== undefined) {
        await feedSettled();
        missing = missing.filter((id) => !cache.has(id));
      }
      if (missing.length > 0) await lookupMany(missing);
      const out = new Map<bigint, JobFacts>();
      for (const id of ids) out.set(id, cache.get(id) ?? UNKNOWN);
      return out;
    },
  };
}
