/**
 * The flux backend: a JobBackend over a real Flux instance. Requests go through
 * FluxCalls (flux-cli.ts, one C subcommand per call) and output streams through
 * `flux job attach` in a pty (flux-attach.ts).
 */
import { processUser } from "../../process-user.js";
import type { Logger } from "../../logger.js";
import type { JobBackend, JobEvent, JobOwner, JobRecord, JobRequest, ListQuery, NodeInfo, Readiness } from "../backend.js";
import { JobStateBit } from "../backend.js";
import { BackendUnavailableError } from "../backend-errors.js";
import { toPlainJson, type ExactJson } from "./exact-json.js";
import { checkFeasible } from "./feasibility.js";
import { createFluxAttach, type FluxAttach } from "./flux-attach.js";
import type { FluxCalls, JobListOptions, JobListRecord, ResourceSnapshot } from "./flux-calls.js";
import { createFluxCliCalls } from "./flux-cli.js";
import { createFactsCache, factsFromJobspec, OWNER_ATTRIBUTE, type JobFacts } from "./job-facts.js";
import { startJobspecFeed, type JobspecFeed } from "./jobspec-feed.js";
import { settleWithin } from "./settle-within.js";
import { toJobRecord } from "./job-record.js";
import { buildJobspec } from "./jobspec.js";
import { multiUserProblems } from "./multi-user-checks.js";
import { applyListQuery } from "./list-query.js";
import { pageOf, parseOutputEventlog } from "./output-eventlog.js";
import { nodesOf, ranksOfR } from "./resources.js";
import { createUserNames } from "./user-names.js";

export type FluxServerMode = "single-user" | "multi-user";

export interface FluxBackendOptions {
  /** The flux executable (FLUX_RESTFUL_FLUX_CMD). Defaults to "flux". */
  fluxCommand?: string;
  /** The instance (FLUX_URI), passed to every child; undefined lets `flux` find the enclosing instance. */
  fluxUri?: string;
  /** The small environment allowlist every child and every job starts from; never the server's whole environment. */
  baseEnvironment: Readonly<Record<string, string>>;
  logger: Pick<Logger, "debug" | "info" | "warn" | "error">;
  /**
   * "single-user" (default): jobs are submitted as the server's user and the API user is
   * recorded in the jobspec (attributes.user.flux_restful.owner). "multi-user": each job is
   * submitted as the Linux account of its owner with `sudo -n -u USER flux job submit`, so
   * Flux signs it with that user's credentials (needs munge, flux-security and the IMP).
   */
  mode?: FluxServerMode;
  /** sudo for multi-user submission. Defaults to "sudo". */
  sudoCommand?: string;
  /** Working directory for jobs that do not name one. Defaults to the owner's HOME in multi-user mode, else process.cwd(). */
  defaultCwd?: string;
  /** shell.options.rlimit for every jobspec, as flux submit propagates its own limits. Defaults to none. */
  rlimit?: Record<string, number>;
  /** Deadline of one flux command. Defaults to 30000. */
  commandTimeoutMs?: number;
  /** Most flux commands running at once. Defaults to 16. */
  maxConcurrentCommands?: number;
  /** SIGTERM to SIGKILL grace for stopped streams. Defaults to 2000. */
  killGraceMs?: number;
  /** How long a readiness answer is reused. Defaults to 1000. */
  readyCacheMs?: number;
  /** How long the resource snapshot used for feasibility checks is reused. Defaults to 30000. */
  resourceCacheMs?: number;
  /** Refuse impossible requests at submit (more cores/gpus/nodes than exist). Defaults to true. */
  checkFeasibility?: boolean;
  /** The passwd file for uid -> name. Defaults to /etc/passwd. */
  passwdPath?: string;
  /** Another FluxCalls implementation (e.g. a native broker transport); defaults to the CLI one. */
  calls?: FluxCalls;
  /** Another attach implementation; defaults to `flux job attach` in a pty. */
  attach?: FluxAttach;
  /**
   * How long start() waits for every job's facts, so the first listing needs no jobspec reads:
   * the journal's replay where the calls offer it (native), else one job listing and one bulk
   * jobspec read (cli). Defaults to 5000; past it the reading goes on in the background.
   */
  factsWarmupMs?: number;
}

/**
 * Creates the flux backend.
 *
 * ```ts
 * const backend = createFluxBackend({ fluxUri: "local:///run/flux/local", baseEnvironment: { PATH: "/usr/bin:/bin" }, logger });
 * await backend.start(); // throws BackendUnavailableError when no instance answers
 * ```
 */
export function createFluxBackend(options: FluxBackendOptions): JobBackend & { readonly attach: FluxAttach } {
  const logger = options.logger;
  const multiUser = options.mode === "multi-user";
  const calls = options.calls ?? createFluxCliCalls(options);
  const attacher = options.attach ?? createFluxAttach(options);
  const facts = createFactsCache(calls);
  const self = processUser();
  const userNames = createUserNames({ passwdPath: options.passwdPath, self: { uid: self.uid, name: self.username } });
  const closing = new AbortController();
  const readyCacheMs = options.readyCacheMs ?? 1000;
  const resourceCacheMs = options.resourceCacheMs ?? 30_000;
  let readyCache: { at: number; value: Readiness } | undefined;
  // The per-rank capacity is computed once per snapshot: decoding R on every submit showed in profiles.
  let resources: { at: number; snapshot: ResourceSnapshot; capacity: { cores: number; gpus: number }[] } | undefined;
  let resourcesRefresh: Promise<ResourceSnapshot> | undefined;
  let feed: JobspecFeed | undefined;

  const refreshResources = (): Promise<ResourceSnapshot> => {
    resourcesRefresh ??= calls
      .resources()
      .then((snapshot) => {
        resources = { at: Date.now(), snapshot, capacity: [...ranksOfR(snapshot.all).values()] };
        return snapshot;
      })
      .finally(() => (resourcesRefresh = undefined));
    return resourcesRefresh;
  };

  /** The capacity of every rank, from a snapshot at most resourceCacheMs old (a stale one is used while refreshing). */
  async function capacity(): Promise<{ cores: number; gpus: number }[]> {
    if (!resources) await refreshResources();
    else if (Date.now() - resources.at > resourceCacheMs) refreshResources().catch(() => {});
    return resources!.capacity;
  }

  const ownerOf = (r: JobListRecord, f: JobFacts): string => {
    const uid = typeof r.userid === "number" ? r.userid : -1;
    return (multiUser ? undefined : f.owner) ?? userNames.nameOf(uid);
  };

  async function recordsFor(list: readonly JobListRecord[]): Promise<JobRecord[]> {
    const byId = await facts.getMany(list.map((r) => r.id));
    return list.map((r) => {
      const f = byId.get(r.id) ?? { command: [], ngpus: 0 };
      return toJobRecord(r, f, ownerOf(r, f));
    });
  }

  /** What `work` resolves to, or false once factsWarmupMs has passed (the work goes on). */
  const withinWarmup = <T>(work: Promise<T | false>): Promise<T | false> => settleWithin(work, options.factsWarmupMs ?? 5000, false as const);

  const combined = (signal: AbortSignal) => AbortSignal.any([signal, closing.signal]);

  /** The query's filters that Flux can apply itself (applyListQuery applies them all again). */
  function listOptionsFor(query: ListQuery): JobListOptions {
    const out: JobListOptions = { allUsers: multiUser };
    // In single-user mode every job is the server's user's; the API owner lives in the jobspec.
    if (multiUser && query.owner !== undefined) {
      const uid = userNames.uidOf(query.owner);
      if (uid !== undefined) out.userid = uid;
    }
    if (query.stateMask !== undefined) out.states = query.stateMask;
    if (query.resultMask !== undefined) out.results = query.resultMask;
    if (query.name !== undefined) out.name = query.name;
    if (query.since !== undefined) out.submittedSince = query.since;
    return out;
  }

  const backend: JobBackend & { readonly attach: FluxAttach } = {
    name: "flux",
    attach: attacher,

    async start() {
      const { ownerUid } = await calls.ping();
      logger.info("flux instance answers", { fluxUri: options.fluxUri ?? "(enclosing instance)", ownerUid, mode: options.mode ?? "single-user" });
      if (multiUser) {
        const problems = multiUserProblems(calls.config ? await calls.config() : undefined, ownerUid, self.uid);
        if (problems.length > 0) {
          throw new BackendUnavailableError(`multi-user mode cannot work on this flux instance: ${problems.join("; ")} (see docs/flux-backend.md)`);
        }
      }
      if (options.checkFeasibility !== false) {
        await refreshResources().catch((e: unknown) => logger.warn("could not read the instance's resources", { error: e }));
      }
      if (calls.followJobspecs !== undefined && feed === undefined) {
        const follow = calls.followJobspecs.bind(calls);
        feed = startJobspecFeed({ follow, facts, logger, signal: closing.signal });
        const started = Date.now();
        const replayed = await withinWarmup(feed.firstCatchUp);
        logger.info(replayed ? "job facts read from the job manager's journal" : "job facts not (yet) read from the job manager's journal; jobspecs are read when jobs are listed", { ms: Date.now() - started });
      } else if (calls.followJobspecs === undefined) {
        // No journal (cli): read the facts of every job there is now, in two processes, so that a
        // listing afterwards is one `flux job list` (only jobs submitted by hand since need more).
        const started = Date.now();
        const warm = calls.list({ allUsers: multiUser }).then((jobs) => facts.getMany(jobs.map((r) => r.id)));
        const read = await withinWarmup(
          warm.then(
            (known) => known.size,
            (e: unknown) => {
              logger.warn("could not read the jobs' facts at start; jobspecs are read when jobs are listed", { error: e });
              return false as const;
            },
          ),
        );
        if (read !== false) logger.info("job facts read at start", { jobs: read, ms: Date.now() - started });
      }
    },

    async close() {
      closing.abort();
      await feed?.stopped;
      await attacher.close();
    },

    async ready() {
      if (readyCache && Date.now() - readyCache.at < readyCacheMs) return readyCache.value;
      let value: Readiness;
      try {
        await calls.ping();
        value = { ready: true };
      } catch (e) {
        value = { ready: false, reason: e instanceof Error ? e.message : String(e) };
      }
      readyCache = { at: Date.now(), value };
      return value;
    },

    async submit(request: JobRequest, owner: JobOwner) {
      const asUser = multiUser && owner.name !== self.username ? owner.name : undefined;
      const environment = { ...options.baseEnvironment, ...owner.loginEnv, ...request.environment };
      const defaultCwd = (multiUser ? owner.loginEnv?.HOME : undefined) ?? options.defaultCwd ?? process.cwd();
      const jobspec = buildJobspec(request, { environment, defaultCwd, rlimit: options.rlimit });
      if (!multiUser) jobspec.attributes.user = { [OWNER_ATTRIBUTE]: { owner: owner.name } };
      if (options.checkFeasibility !== false) checkFeasible(request, await capacity());
      const id = await calls.submit(JSON.stringify(jobspec), { urgency: request.urgency, asUser });
      facts.remember(id, factsFromJobspec(jobspec as unknown as ExactJson));
      if (multiUser && owner.uid !== undefined) userNames.learn(owner.uid, owner.name);
      return id;
    },

    async get(id: bigint) {
      const [record] = await recordsFor([await calls.get(id)]);
      return record!;
    },

    async list(query) {
      const raw = await calls.list(listOptionsFor(query));
      // In single-user mode the owner lives in the jobspec, so filtering or ordering by owner
      // (and searching, which looks at owner and command) needs every job's facts.
      if (!multiUser || query.search !== undefined) {
        return applyListQuery(await recordsFor(raw), query);
      }
      const placeholder: JobFacts = { command: [], ngpus: 0 };
      const page = applyListQuery(
        raw.map((r) => toJobRecord(r, placeholder, ownerOf(r, placeholder))),
        query,
      );
      const keep = new Set(page.jobs.map((j) => j.id));
      const full = new Map((await recordsFor(raw.filter((r) => keep.has(r.id)))).map((j) => [j.id, j]));
      return { ...page, jobs: page.jobs.map((j) => full.get(j.id) ?? j) };
    },

    async cancel(id: bigint, note: string) {
      await calls.cancel(id, note);
    },

    async output(id: bigint, offset: number, limit: number) {
      const parsed = parseOutputEventlog(await calls.eventlog(id, "output"));
      const page = pageOf(parsed, offset, limit);
      if (!page.complete && page.nextOffset >= parsed.chunks.length) {
        // Caught up but not complete: a job that never ran (or whose shell died) writes no more.
        const job = await calls.get(id);
        if (job.state === JobStateBit.INACTIVE) return { ...page, complete: true };
      }
      return page;
    },

    async *followOutput(id: bigint, offset: number, signal: AbortSignal) {
      let index = 0;
      for await (const item of attacher.attach(id, combined(signal))) {
        if (item.kind === "status") yield { kind: "status", text: item.text };
        else if (item.kind === "exit") yield { kind: "end", exitCode: item.exitCode, truncated: false };
        else {
          // Chunks are counted as attach delivers them, one per line: the same offsets as
          // GetJobOutput's for line-by-line output.
          if (index >= offset) {
            yield { kind: "chunk", chunk: { offset: index, stream: item.stream, rank: item.rank, data: item.data, timestamp: item.timestamp } };
          }
          index += 1;
        }
      }
    },

    async *followEvents(id: bigint, signal: AbortSignal) {
      for await (const raw of calls.watchEvents(id, combined(signal))) {
        const event: JobEvent = { timestamp: raw.timestamp, name: raw.name };
        if (raw.context !== undefined) event.context = toPlainJson(raw.context) as Record<string, unknown>;
        yield event;
      }
    },

    async nodes(): Promise<NodeInfo[]> {
      const snapshot = await refreshResources();
      return nodesOf(snapshot);
    },
  };
  return backend;
}
