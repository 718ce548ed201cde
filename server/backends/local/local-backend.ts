/**
 * The embedded job backend: runs jobs as local processes with Flux semantics (FLUID ids,
 * RFC 21 states and eventlogs, results, cores accounted), keeping everything in one SQLite
 * file under dataDir so a restart loses nothing. Needs nothing installed.
 */
import type {
  JobBackend,
  JobEvent,
  JobOwner,
  JobRecord,
  JobRequest,
  ListQuery,
  ListResult,
  NodeInfo,
  OutputItem,
  OutputPage,
  Readiness,
} from "../backend.js";
import { BackendUnavailableError, JobInactiveError, JobNotFoundError } from "../backend-errors.js";
import { createFluidGenerator, formatJobId, type FluidGenerator } from "../jobid.js";
import { createJobEngine, createClock, type JobEngine } from "./job-engine.js";
import { copyRecord, fromRow } from "./job-rows.js";
import { createJobStore, type JobStore } from "./job-store.js";
import { createListQuery } from "./list-query.js";
import { createLiveFeed } from "./live-feed.js";
import { checkCapacity, resourcesOf } from "./local-job.js";
import { followEvents, followOutput, readOutput, type FollowerDeps } from "./followers.js";
import { recoverActiveJobs } from "./recovery.js";
import { createScheduler } from "./scheduler.js";
import { createTaskSpawner, type TaskSpawner } from "./task-spawner.js";
import { resolveOptions, type LocalBackendOptions } from "./local-backend-options.js";

/** The local backend, plus a debug hook for tests. */
export interface LocalBackend extends JobBackend {
  /** Output and event followers currently subscribed (0 once every stream has ended). */
  followerCount(): number;
}

const SHUTDOWN_NOTE = "server shut down";

/**
 * Creates the local backend; call start() before use.
 *
 * ```ts
 * const backend = createLocalBackend({ dataDir: "/var/lib/flux-restful/local", baseEnvironment: { PATH: "/usr/bin:/bin" }, logger });
 * await backend.start();
 * const id = await backend.submit(request, { name: "alice" });
 * ```
 */
export function createLocalBackend(options: LocalBackendOptions): LocalBackend {
  const opts = resolveOptions(options);
  const { logger } = opts;
  const node = { cores: opts.cores, gpus: opts.gpus };
  const serverUid = process.getuid?.() ?? 0;
  const outputFeed = createLiveFeed<OutputItem>();
  const eventFeed = createLiveFeed<JobEvent>();
  let store: JobStore | undefined;
  let engine: JobEngine | undefined;
  let ids: FluidGenerator | undefined;
  let list: ReturnType<typeof createListQuery> | undefined;
  let spawner: TaskSpawner | undefined;
  let state: "new" | "open" | "closing" | "closed" = "new";
  let closing: Promise<void> | undefined;

  const open = (): { store: JobStore; engine: JobEngine } => {
    if (state !== "open" || store === undefined || engine === undefined) {
      throw new BackendUnavailableError(state === "new" ? "the local backend is not started" : "the local backend is shut down");
    }
    return { store, engine };
  };

  // Followers keep reading while close() cancels jobs, so they see the jobs end.
  const reading = (): { store: JobStore; engine: JobEngine } => {
    if (state === "closing" && store !== undefined && engine !== undefined) return { store, engine };
    return open();
  };
  const deps: FollowerDeps = {
    get store() {
      return reading().store;
    },
    get active() {
      return reading().engine.active;
    },
    outputFeed,
    eventFeed,
    assertOpen: () => void open(),
  };

  function getRecord(id: bigint): JobRecord {
    const { store, engine } = open();
    const job = engine.active.get(id);
    if (job !== undefined) return copyRecord(job.record);
    const stored = store.getJob(id);
    if (stored === undefined) throw new JobNotFoundError(formatJobId(id));
    return stored.record;
  }

  return {
    name: "local",

    async start() {
      if (state !== "new") throw new Error(`the local backend cannot start twice (it is ${state})`);
      const db = createJobStore({
        dataDir: opts.dataDir,
        onCommitError: (error) => logger.error("job database commit failed", { error }),
      });
      try {
        const storedEpoch = db.getMeta("fluid_epoch_ms");
        const epochMs = opts.idEpochMs ?? (storedEpoch !== undefined ? Number(storedEpoch) : Date.now());
        if (storedEpoch === undefined) db.setMeta("fluid_epoch_ms", String(epochMs));
        ids = createFluidGenerator({ epochMs, lastId: db.maxId() });
        recoverActiveJobs({ store: db, clock: createClock(), logger });
        list = createListQuery(db.db);
      } catch (e) {
        db.close();
        throw e;
      }
      spawner = createTaskSpawner(logger);
      engine = createJobEngine({
        store: db,
        scheduler: createScheduler(node),
        outputFeed,
        eventFeed,
        node,
        hostname: opts.hostname,
        maxOutputBytesPerJob: opts.maxOutputBytesPerJob,
        killGraceMs: opts.killGraceMs,
        defaultCwd: opts.defaultCwd,
        baseEnvironment: opts.baseEnvironment,
        setprivPath: opts.setprivPath,
        spawner,
        logger,
      });
      spawner.warm();
      store = db;
      state = "open";
      logger.info("local backend started", {
        dataDir: opts.dataDir,
        cores: node.cores,
        gpus: node.gpus,
        setpriv: opts.setprivPath ?? "none (multi-user jobs get no supplementary groups)",
      });
    },

    close() {
      if (closing !== undefined) return closing;
      if (state === "new") {
        state = "closed";
        return (closing = Promise.resolve());
      }
      state = "closing";
      closing = (async () => {
        const e = engine!;
        // Like `flux shutdown`: active jobs are canceled; tasks get SIGTERM, then SIGKILL.
        const drained = e.cancelAll(SHUTDOWN_NOTE);
        let timer: NodeJS.Timeout | undefined;
        const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, opts.killGraceMs + 2000)));
        await Promise.race([drained, limit]);
        clearTimeout(timer);
        if (e.active.size > 0) logger.warn("jobs still running at shutdown", { count: e.active.size });
        outputFeed.closeAll();
        eventFeed.closeAll();
        state = "closed";
        await spawner!.close();
        store!.close();
      })();
      return closing;
    },

    async ready(): Promise<Readiness> {
      if (state === "open") return { ready: true };
      return { ready: false, reason: state === "new" ? "the local backend is not started" : "the local backend is shut down" };
    },

    async submit(request: JobRequest, owner: JobOwner): Promise<bigint> {
      const { store, engine } = open();
      checkCapacity(request, node);
      const id = ids!.next();
      const userid = owner.uid ?? serverUid;
      const job = engine.create(id, request, owner, userid);
      try {
        await store.committed();
      } catch (e) {
        engine.discard(job);
        throw e;
      }
      engine.schedule(job, resourcesOf(request, node));
      return id;
    },

    async get(id) {
      return getRecord(id);
    },

    async list(query: ListQuery): Promise<ListResult> {
      const { store, engine } = open();
      store.commit();
      const rows = list!(query, engine.clock());
      return {
        jobs: rows.rows.map((row) => fromRow(row).record),
        nextPageToken: rows.nextPageToken,
        totalSize: rows.totalSize,
      };
    },

    async cancel(id, note) {
      const { store, engine } = open();
      const job = engine.active.get(id);
      if (job === undefined) {
        if (store.getJob(id) === undefined) throw new JobNotFoundError(formatJobId(id));
        throw new JobInactiveError(formatJobId(id));
      }
      engine.raise(job, "cancel", 0, note);
      await store.committed();
    },

    async output(id, offset, limit): Promise<OutputPage> {
      return readOutput(deps, id, offset, limit);
    },

    followOutput(id, offset, signal) {
      return followOutput(deps, id, offset, signal);
    },

    followEvents(id, signal) {
      return followEvents(deps, id, signal);
    },

    async nodes(): Promise<NodeInfo[]> {
      const { engine } = open();
      return [
        {
          rank: 0,
          hostname: opts.hostname,
          state: "up",
          cores: node.cores,
          coresAllocated: engine.coresAllocated(),
          gpus: node.gpus,
          gpusAllocated: engine.gpusAllocated(),
        },
      ];
    },

    followerCount() {
      return outputFeed.size + eventFeed.size;
    },
  };
}

export type { LocalBackendOptions };
