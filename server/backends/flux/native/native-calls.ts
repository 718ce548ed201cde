/**
 * FluxCalls over the broker's local:// socket (docs/flux-native-transport.md): one kept-open
 * connection, many requests in flight, the same RPCs the `flux job` C commands send
 * (src/cmd/job/*.c in flux-core), so answers are the ones flux-cli.ts parses from them.
 * Submissions as another Linux user go to `submitAsUser` (the CLI run as that user):
 * only the instance owner may sign with mechanism "none".
 */
import type { Logger } from "../../../logger.js";
import { BackendUnavailableError } from "../../backend-errors.js";
import { isJsonObject, type ExactJson } from "../exact-json.js";
import type { FluxCalls, JobListRecord, JobspecNotice, RawEvent, ResourceSnapshot, SubmitOptions } from "../flux-calls.js";
import type { FluxErrorContext } from "../flux-error.js";
import { decodeIdset, encodeIdset } from "../idset.js";
import { createBrokerClient, type BrokerClient, type JsonObject } from "./broker-client.js";
import { unsupportedVersionReason } from "./broker-version.js";
import { localSocketPath } from "./connect-local.js";
import { parseEventLine, parseEventlogLines } from "../flux-output.js";
import { jobListConstraint, type JobListFilter } from "./job-list-constraint.js";
import { nativeErrorToBackendError } from "./native-error.js";
import { parseJsonExactFast } from "./payload-json.js";
import { isFluxRpcError } from "./rpc-error.js";
import { signNone } from "./sign-none.js";
import { Errno, EventWatchFlag, LookupFlag } from "./wire-constants.js";

export interface NativeFluxCallsOptions {
  /** FLUX_URI; must be local://PATH. */
  fluxUri: string;
  logger: Pick<Logger, "debug" | "info" | "warn" | "error">;
  /** Deadline of one RPC. Defaults to 30000. */
  requestTimeoutMs?: number;
  /** Connect + handshake + version check. Defaults to 5000. */
  connectTimeoutMs?: number;
  /** Most RPCs in flight. Defaults to 1024. */
  maxInFlight?: number;
  /** Reconnect backoff bounds. Default 100 and 2000. */
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
  /** The uid that signs submissions and owns "my jobs"; defaults to this process's uid. */
  uid?: number;
  /** Submissions as another user (multi-user mode) go here; without it they are refused. */
  submitAsUser?: Pick<FluxCalls, "submit">;
  /** Refuse brokers outside the supported version range (broker-version.ts). Defaults to true. */
  checkVersion?: boolean;
}

export type EventlogPath = "eventlog" | "output" | "exec";

export interface NativeListOptions extends Partial<JobListFilter> {
  allUsers?: boolean;
  /** 0 (default) for all. */
  maxEntries?: number;
  /** job-list attributes; defaults to ["all"]. */
  attrs?: string[];
}

/** FluxCalls plus what only the native transport offers. */
export interface NativeFluxCalls extends FluxCalls {
  /** Jobs matching a filter, filtered by job-list itself (RFC 31 constraint). */
  list(options: NativeListOptions): Promise<JobListRecord[]>;
  /**
   * Replays and follows one eventlog until it is complete (ENODATA: after "clean" for the
   * main eventlog, once the output is final for "output"), or until aborted. "output" and
   * "exec" wait for the eventlog to be created (a job that has not started yet).
   */
  watchEventlog(id: bigint, path: EventlogPath, signal: AbortSignal): AsyncIterable<RawEvent>;
  /** The job manager's journal of jobspecs, always offered by this transport (the owner may read it). */
  followJobspecs(signal: AbortSignal): AsyncIterable<JobspecNotice>;
  /** The instance's configuration (config.get), always offered by this transport. */
  config(): Promise<ExactJson>;
  /** Many jobspecs at once (all lookups in flight); unknown ids are left out. */
  jobspecs(ids: readonly bigint[]): Promise<Map<bigint, ExactJson>>;
  /** The broker's version attribute (what `flux version` prints as "broker:"). */
  brokerVersion(): Promise<string>;
  /** Connects now: resolves once the handshake and version check passed. */
  connect(): Promise<void>;
  readonly client: BrokerClient;
  close(): Promise<void>;
}

const KVS_PATHS: Record<EventlogPath, string> = { eventlog: "eventlog", output: "guest.output", exec: "guest.exec.eventlog" };

function toRecord(value: ExactJson | undefined): JobListRecord {
  if (!isJsonObject(value)) throw new Error("job-list answered without a job record");
  const id = value.id;
  if (typeof id !== "bigint" && typeof id !== "number") throw new Error("job-list record without an id");
  return { ...value, id: BigInt(id) };
}

/** Creates FluxCalls over the broker socket of `fluxUri`. Nothing connects until the first call. */
export function createNativeFluxCalls(options: NativeFluxCallsOptions): NativeFluxCalls {
  const socketPath = localSocketPath(options.fluxUri);
  if (socketPath === undefined) throw new Error(`the native flux transport needs a local:// FLUX_URI, not "${options.fluxUri}"`);
  const uid = options.uid ?? process.getuid?.() ?? 0;
  let version: string | undefined;
  const client = createBrokerClient({
    socketPath,
    logger: options.logger,
    requestTimeoutMs: options.requestTimeoutMs,
    connectTimeoutMs: options.connectTimeoutMs,
    maxInFlight: options.maxInFlight,
    reconnectInitialMs: options.reconnectInitialMs,
    reconnectMaxMs: options.reconnectMaxMs,
    async onConnect(rpc) {
      const answer = await rpc("attr.get", { name: "version" });
      const value = answer?.value;
      if (typeof value !== "string") throw new Error("the flux broker did not report its version");
      const why = options.checkVersion === false ? undefined : unsupportedVersionReason(value);
      if (why !== undefined) throw new BackendUnavailableError(`${why}; use FLUX_RESTFUL_FLUX_TRANSPORT=cli`);
      version = value;
    },
  });

  async function call(topic: string, payload: Record<string, unknown> | undefined, ctx: FluxErrorContext, nodeid?: number): Promise<JsonObject | undefined> {
    try {
      return await client.rpc(topic, payload, nodeid === undefined ? {} : { nodeid });
    } catch (e) {
      throw nativeErrorToBackendError(e, ctx);
    }
  }

  async function* watch(id: bigint, path: EventlogPath, signal: AbortSignal): AsyncGenerator<RawEvent> {
    const flags = path === "eventlog" ? 0 : EventWatchFlag.WAITCREATE;
    const stream = client.stream(
      "job-info.eventlog-watch",
      { id, path: KVS_PATHS[path], flags },
      { cancelTopic: "job-info.eventlog-watch-cancel", signal },
    );
    try {
      for await (const response of stream) {
        const line = response.event;
        if (typeof line === "string") yield parseEventLine(line);
      }
    } catch (e) {
      throw nativeErrorToBackendError(e, { operation: path === "output" ? "output" : "watch", id });
    }
  }

  async function* journal(signal: AbortSignal): AsyncGenerator<JobspecNotice> {
    // job-manager/journal.c: with "full", every inactive then active job with its redacted jobspec
    // (the environment removed), a sentinel with id -1, then one response per new event. Only
    // "submit" is allowed through: it carries the jobspec of a new job.
    const stream = client.stream(
      "job-manager.events-journal",
      { full: true, allow: { submit: 1 } },
      { cancelTopic: "job-manager.events-journal-cancel", signal },
    );
    try {
      for await (const response of stream) {
        const id = response.id;
        if (id === -1) yield { kind: "caught-up" };
        else if ((typeof id === "bigint" || typeof id === "number") && response.jobspec !== undefined) {
          yield { kind: "jobspec", id: BigInt(id), jobspec: response.jobspec };
        }
      }
    } catch (e) {
      throw nativeErrorToBackendError(e, { operation: "jobspec" });
    }
  }

  /** A key of the job's KVS directory; undefined when missing and `missingOk` (ENOENT), else mapped errors. */
  async function lookup(id: bigint, key: string, flags: number, operation: FluxErrorContext["operation"], missingOk = false): Promise<string | undefined> {
    let answer: JsonObject | undefined;
    try {
      answer = await client.rpc("job-info.lookup", { id, keys: [key], flags });
    } catch (e) {
      if (missingOk && isFluxRpcError(e) && e.errnum === Errno.ENOENT) return undefined;
      throw nativeErrorToBackendError(e, { operation, id });
    }
    const value = answer?.[key];
    if (typeof value !== "string") throw new Error(`job-info.lookup answered without "${key}"`);
    return value;
  }

  return {
    client,

    async connect() {
      await client.connect();
    },

    async brokerVersion() {
      if (version === undefined) await client.connect();
      return version ?? "";
    },

    async ping() {
      const answer = await call("attr.get", { name: "security.owner" }, { operation: "probe" });
      return { ownerUid: Number(answer?.value) };
    },

    async config() {
      // config.c config_get: config.get, no payload; the answer is the TOML config as JSON.
      return (await call("config.get", undefined, { operation: "probe" })) ?? {};
    },

    async submit(jobspec: string, opts: SubmitOptions) {
      if (opts.asUser !== undefined) {
        if (!options.submitAsUser) throw new Error(`the native flux transport cannot submit as user "${opts.asUser}"`);
        return options.submitAsUser.submit(jobspec, opts);
      }
      // flags 0: as `flux job submit` sends (libjob/submit.c); PRE_SIGNED is client-side only.
      const answer = await call("job-ingest.submit", { J: signNone(jobspec, uid), urgency: opts.urgency, flags: 0 }, { operation: "submit" });
      const id = answer?.id;
      if (typeof id !== "bigint" && typeof id !== "number") throw new Error("job-ingest.submit answered without an id");
      return BigInt(id);
    },

    async get(id) {
      // list.c cmd_list_ids: job-list.list-id waits until job-list knows a fresh id.
      const answer = await call("job-list.list-id", { id, attrs: ["all"] }, { operation: "get", id });
      return toRecord(answer?.job);
    },

    async list(opts: NativeListOptions) {
      // The filters run in job-list (match.c), so only matching records cross the socket.
      const constraint = jobListConstraint({ ...opts, userid: opts.userid ?? (opts.allUsers ? "all" : uid) });
      const answer = await call(
        "job-list.list",
        { max_entries: opts.maxEntries ?? 0, attrs: opts.attrs ?? ["all"], constraint },
        { operation: "list" },
      );
      const jobs = answer?.jobs;
      if (!Array.isArray(jobs)) throw new Error("job-list.list answered without jobs");
      return jobs.map(toRecord);
    },

    async jobspec(id) {
      // info.c: the current jobspec (jobspec-update events applied), as `flux job info ID jobspec`.
      return parseJsonExactFast((await lookup(id, "jobspec", LookupFlag.CURRENT, "jobspec"))!);
    },

    async jobspecs(ids) {
      // All lookups in flight at once on the one connection; jobs Flux does not know are left out.
      const out = new Map<bigint, ExactJson>();
      await Promise.all(
        ids.map(async (id) => {
          const text = await lookup(id, "jobspec", LookupFlag.CURRENT, "jobspec", true);
          if (text !== undefined) out.set(id, parseJsonExactFast(text));
        }),
      );
      return out;
    },

    followJobspecs(signal) {
      return journal(signal);
    },

    async cancel(id, note) {
      // libjob/job.c flux_job_raise: the note is left out when there is none.
      await call("job-manager.raise", { id, type: "cancel", severity: 0, note: note === "" ? undefined : note }, { operation: "cancel", id });
    },

    async eventlog(id, path) {
      if (path === "eventlog") return parseEventlogLines((await lookup(id, "eventlog", 0, "eventlog"))!);
      // lookup.c: ENOENT "guest.output: key not found" before the job starts (or when it never
      // will), and "invalid job id" for an unknown job: the caller tells them apart, as for the CLI.
      const text = await lookup(id, "guest.output", 0, "output", true);
      return text === undefined ? undefined : parseEventlogLines(text);
    },

    watchEvents(id, signal) {
      return watch(id, "eventlog", signal);
    },

    watchEventlog(id, path, signal) {
      return watch(id, path, signal);
    },

    async resources(): Promise<ResourceSnapshot> {
      // Both answer on rank 0 only (resource/status.c); no payload.
      const [sched, status] = await Promise.all([
        call("resource.sched-status", undefined, { operation: "resources" }, 0),
        call("resource.status", undefined, { operation: "resources" }, 0),
      ]);
      if (!sched) throw new Error("resource.sched-status answered without a payload");
      const drain = isJsonObject(status?.drain) ? status.drain : {};
      // drain keys are idsets of ranks drained or draining (resource/drainset.c).
      const drained = Object.keys(drain).flatMap((ranks) => decodeIdset(ranks));
      return { all: sched.all ?? null, allocated: sched.allocated ?? null, down: sched.down ?? null, drained: encodeIdset(drained) };
    },

    close() {
      return client.close();
    },
  };
}
