/**
 * FluxCalls over the `flux` command line: the C subcommands of `flux job` (a few ms
 * each), never the Python front-ends (`flux submit`, `flux jobs`, `flux cancel`, about
 * 100 ms each). One process per call. This file and flux-attach.ts are the only ones
 * that start processes.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { Logger } from "../../logger.js";
import { formatJobId, parseJobId } from "../jobid.js";
import { parseExactJson, parseExactJsonSequence, type ExactJson } from "./exact-json.js";
import type { FluxCalls, ResourceSnapshot, SubmitOptions } from "./flux-calls.js";
import { FluxCommandError, fluxErrorToBackendError, type FluxErrorContext } from "./flux-error.js";
import { decodeIdset, encodeIdset } from "./idset.js";
import { parseEventLine, parseEventlogLines, parseJobListLines } from "./flux-output.js";
import { createSemaphore } from "./semaphore.js";

export interface FluxCliOptions {
  /** The flux executable. Defaults to "flux". */
  fluxCommand?: string;
  /** Passed to every child as FLUX_URI; undefined lets `flux` find its instance itself. */
  fluxUri?: string;
  /** The whole environment of every child (plus FLUX_URI and FLUX_F58_FORCE_ASCII=1). */
  baseEnvironment: Readonly<Record<string, string>>;
  logger: Pick<Logger, "debug" | "info" | "warn" | "error">;
  /** Deadline for one unary command. Defaults to 30000. */
  commandTimeoutMs?: number;
  /** Most unary commands running at once (streams are not counted). Defaults to 16. */
  maxConcurrentCommands?: number;
  /** sudo, for submitting as another user in multi-user mode. Defaults to "sudo". */
  sudoCommand?: string;
}

interface RunOptions {
  stdin?: string;
  asUser?: string;
  ctx: FluxErrorContext;
}

const KILL_GRACE_MS = 2000;
// Keys per `flux kvs get` (about 40 bytes each: far below ARG_MAX).
const KVS_BATCH = 2000;

/** Creates FluxCalls that run the flux command line. */
export function createFluxCliCalls(options: FluxCliOptions): FluxCalls {
  const flux = options.fluxCommand ?? "flux";
  const timeoutMs = options.commandTimeoutMs ?? 30_000;
  const semaphore = createSemaphore(options.maxConcurrentCommands ?? 16);
  const env: Record<string, string> = { ...options.baseEnvironment, FLUX_F58_FORCE_ASCII: "1" };
  if (options.fluxUri !== undefined) env.FLUX_URI = options.fluxUri;

  function argvFor(args: readonly string[], asUser?: string): string[] {
    if (asUser === undefined) return [flux, ...args];
    // sudo resets the environment: FLUX_URI survives through sudoers' env_keep (docs/flux-backend.md).
    // Not --preserve-env, which older sudo lacks and sudoers may refuse without SETENV.
    return [options.sudoCommand ?? "sudo", "-n", "-u", asUser, "--", flux, ...args];
  }

  async function run(args: readonly string[], run: RunOptions): Promise<string> {
    const argv = argvFor(args, run.asUser);
    const release = await semaphore.acquire();
    const started = performance.now();
    try {
      return await runProcess(argv, env, timeoutMs, run.stdin);
    } catch (e) {
      throw fluxErrorToBackendError(e, run.ctx);
    } finally {
      release();
      options.logger.debug("flux command", { argv, ms: Math.round(performance.now() - started) });
    }
  }

  // F58 as `flux` itself prints ids under FLUX_F58_FORCE_ASCII: readable in logs, and echoed
  // back as is in Flux's messages ("raise f2NEYGhgamm: job is inactive").
  const fid = (id: bigint) => formatJobId(id, "f58plain");

  async function rOf(states: string): Promise<ExactJson> {
    const args = states === "all" ? ["resource", "R"] : ["resource", "R", "-s", states];
    return parseExactJson(await run(args, { ctx: { operation: "resources" } }));
  }

  return {
    async ping() {
      const out = await run(["getattr", "security.owner"], { ctx: { operation: "probe" } });
      return { ownerUid: Number(out.trim()) };
    },

    async config() {
      return parseExactJson(await run(["config", "get"], { ctx: { operation: "probe" } }));
    },

    async submit(jobspec: string, opts: SubmitOptions) {
      const out = await run(["job", "submit", `--urgency=${opts.urgency}`], {
        stdin: jobspec,
        asUser: opts.asUser,
        ctx: { operation: "submit", asUser: opts.asUser },
      });
      return parseJobId(out.trim());
    },

    async get(id) {
      const records = parseJobListLines(await run(["job", "list-ids", fid(id)], { ctx: { operation: "get", id } }));
      const record = records.find((r) => r.id === id);
      if (!record) throw new Error(`flux job list-ids ${fid(id)} printed no record for it`);
      return record;
    },

    async list({ allUsers }) {
      return parseJobListLines(await run(["job", "list", allUsers ? "-A" : "-a"], { ctx: { operation: "list" } }));
    },

    async jobspec(id) {
      return parseExactJson(await run(["job", "info", fid(id), "jobspec"], { ctx: { operation: "jobspec", id } }));
    },

    async jobspecs(ids) {
      // One `flux kvs get` reads every job's jobspec (RFC 16: job.<dothex>.jobspec), one value per
      // key in argv order; the instance owner may read the KVS. A key that is gone (a purged job)
      // stops the command there: the values before it are kept and the rest asked again.
      const out = new Map<bigint, ExactJson>();
      let rest = [...ids];
      while (rest.length > 0) {
        const batch = rest.slice(0, KVS_BATCH);
        const keys = batch.map((id) => `${formatJobId(id, "kvs")}.jobspec`);
        let stdout: string;
        let failedAt = -1;
        try {
          stdout = await run(["kvs", "get", "--", ...keys], { ctx: { operation: "jobspec" } });
        } catch (e) {
          if (!(e instanceof FluxCommandError) || !/: No such file or directory$/m.test(e.stderr)) throw e;
          stdout = e.details.stdout ?? "";
          failedAt = -2;
        }
        const { values } = parseExactJsonSequence(stdout);
        values.forEach((v, i) => out.set(batch[i]!, v));
        if (failedAt === -2) failedAt = values.length; // that key is gone: skip it
        rest = failedAt >= 0 ? [...batch.slice(failedAt + 1), ...rest.slice(batch.length)] : rest.slice(batch.length);
      }
      return out;
    },

    async cancel(id, note) {
      const args = ["job", "raise", "--type=cancel"];
      if (note !== "") args.push(`--message=${note}`);
      args.push(fid(id));
      await run(args, { ctx: { operation: "cancel", id } });
    },

    async eventlog(id, path) {
      const args = path === "output" ? ["job", "eventlog", "-f", "json", "-p", "output", fid(id)] : ["job", "eventlog", "-f", "json", fid(id)];
      try {
        return parseEventlogLines(await run(args, { ctx: { operation: path === "output" ? "output" : "eventlog", id } }));
      } catch (e) {
        // eventlog.c eventlog_continuation: "eventlog path guest.output not found" when the job has
        // not started (or never will); Flux says the same for an unknown job, so callers check.
        if (path === "output" && e instanceof FluxCommandError && /eventlog path \S+ not found/.test(e.stderr)) {
          return undefined;
        }
        throw e;
      }
    },

    async *watchEvents(id, signal) {
      // `flux job eventlog -F` waits for an unknown job's eventlog to be created (eventlog.c passes
      // waitcreate to wait_event_run), so it never ends for a job Flux does not know; seen on a real
      // 0.88 instance. The one-shot read fails at once ("flux-job: job ... not found"), so read first,
      // then follow only when the log is not complete, skipping what was already sent.
      const seen = await this.eventlog(id, "eventlog");
      for (const event of seen ?? []) yield event;
      if (seen?.some((e) => e.name === "clean") || signal.aborted) return;
      const argv = argvFor(["job", "eventlog", "-F", "-f", "json", fid(id)]);
      let skip = seen?.length ?? 0;
      for await (const event of followLines(argv, env, signal, parseEventLine, (e) => fluxErrorToBackendError(e, { operation: "watch", id }))) {
        if (skip > 0) {
          skip--;
          continue;
        }
        yield event;
      }
    },

    async resources(): Promise<ResourceSnapshot> {
      // flux-resource has no single JSON view of every state; these run in parallel.
      const [all, allocated, down, drainedText] = await Promise.all([
        rOf("all"),
        rOf("allocated"),
        rOf("down"),
        run(["resource", "status", "-s", "drain", "-n", "-o", "{ranks}"], { ctx: { operation: "resources" } }),
      ]);
      const drained = drainedText
        .split(/\s+/)
        .filter((s) => s !== "")
        .flatMap((s) => decodeIdset(s));
      return { all, allocated, down, drained: encodeIdset(drained) };
    },
  };
}

/** Runs argv to completion; resolves stdout, or throws FluxCommandError. */
function runProcess(argv: string[], env: Record<string, string>, timeoutMs: number, stdin?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGTERM");
      killTimer = setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS);
    }, timeoutMs);
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.stdin.on("error", () => {}); // EPIPE when flux exits before reading: its exit status tells why
    child.stdin.end(stdin ?? "");
    child.on("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new FluxCommandError(argv, null, "", { spawnErrorCode: e.code ?? "EUNKNOWN" }));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      const stdout = Buffer.concat(out).toString("utf8");
      const stderr = Buffer.concat(err).toString("utf8");
      if (code === 0 && !timedOut) resolve(stdout);
      else reject(new FluxCommandError(argv, code, stderr, { signal, timedOut, stdout }));
    });
  });
}

/**
 * Runs argv and yields one parsed item per stdout line until it exits or the signal
 * aborts (then SIGTERM, SIGKILL after a grace). A non-zero exit is thrown through mapError.
 */
async function* followLines<T>(
  argv: string[],
  env: Record<string, string>,
  signal: AbortSignal,
  parse: (line: string) => T,
  mapError: (e: FluxCommandError) => unknown,
): AsyncGenerator<T> {
  if (signal.aborted) return;
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ["ignore", "pipe", "pipe"] });
  const err: Buffer[] = [];
  let spawnError: NodeJS.ErrnoException | undefined;
  child.stderr.on("data", (b: Buffer) => err.push(b));
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.on("close", (code, sig) => resolve([code, sig]));
    child.on("error", (e: NodeJS.ErrnoException) => {
      spawnError = e;
      resolve([null, null]);
    });
  });
  let killTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    killTimer = setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS);
  };
  signal.addEventListener("abort", stop, { once: true });
  const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (signal.aborted) break;
      if (line.trim() !== "") yield parse(line);
    }
    const [code, sig] = await exited;
    if (signal.aborted) return;
    if (spawnError) throw mapError(new FluxCommandError(argv, null, "", { spawnErrorCode: spawnError.code ?? "EUNKNOWN" }));
    if (code !== 0) throw mapError(new FluxCommandError(argv, code, Buffer.concat(err).toString("utf8"), { signal: sig }));
  } finally {
    signal.removeEventListener("abort", stop);
    lines.close();
    stop();
    await exited;
    clearTimeout(killTimer);
  }
}
