/**
 * Output streaming with `flux job attach --read-only ID` in a pty (node-pty): attach
 * replays the job's output and follows it until the job finishes, then exits with
 * the job's exit code. The pty makes attach write each piece as the job shell
 * forwards it, exactly as a user at a terminal would see it.
 *
 * Stopping (client gone, deadline, shutdown) sends SIGTERM, then SIGKILL after a
 * grace; never SIGINT (two within 2 s cancel the job) and nothing is ever written to
 * the pty. Every stream waits for its process to be reaped before it ends, so there
 * are no zombies and no pty left open.
 */
import { spawn, type IPty } from "node-pty";
import type { Logger } from "../../logger.js";
import { classifyAttachLine, PtyLineSplitter } from "./attach-lines.js";
import { FluxCommandError, fluxErrorToBackendError, isFluxCommandError } from "./flux-error.js";

export interface FluxAttachOptions {
  /** The flux executable. Defaults to "flux". */
  fluxCommand?: string;
  fluxUri?: string;
  baseEnvironment: Readonly<Record<string, string>>;
  logger: Pick<Logger, "debug" | "info" | "warn" | "error">;
  /** Time between SIGTERM and SIGKILL when a stream is stopped. Defaults to 2000. */
  killGraceMs?: number;
  /** A partial line (no newline yet) is passed on after this much quiet. Defaults to 100. */
  partialLineMs?: number;
}

/** One item of an attach stream; `exit` is always last unless the stream was stopped. */
export type AttachItem =
  | { kind: "output"; data: Uint8Array; timestamp: number }
  | { kind: "status"; text: string }
  | { kind: "exit"; exitCode: number };

export interface FluxAttach {
  /** Runs attach for a job until it exits or the signal aborts. Throws JobNotFoundError and the like. */
  attach(id: bigint, signal: AbortSignal): AsyncIterable<AttachItem>;
  /** Pids of the attach processes running now (for tests and shutdown checks). */
  activePids(): number[];
  /** Stops every stream and waits for their processes. */
  close(): Promise<void>;
}

// Lines attach prints when it cannot attach at all; held back until exit so they become an error, not status.
const FAILURE_LINE = /^flux-job: (Failed to attach|flux_open|error parsing jobid)|execvp\(3\) failed/;

export function createFluxAttach(options: FluxAttachOptions): FluxAttach {
  const flux = options.fluxCommand ?? "flux";
  const graceMs = options.killGraceMs ?? 2000;
  const partialMs = options.partialLineMs ?? 100;
  const env: Record<string, string> = {
    ...options.baseEnvironment,
    FLUX_F58_FORCE_ASCII: "1",
    TERM: "dumb",
    // attach's interactive status line redraws itself every second with \r and ESC[K; job state
    // is better followed with WatchJobEvents, so it is turned off.
    FLUX_ATTACH_NONINTERACTIVE: "1",
  };
  if (options.fluxUri !== undefined) env.FLUX_URI = options.fluxUri;
  const active = new Map<number, { stop: () => void; exited: Promise<unknown> }>();

  async function* attach(id: bigint, signal: AbortSignal): AsyncGenerator<AttachItem> {
    if (signal.aborted) return;
    const argv = [flux, "job", "attach", "--read-only", id.toString()];
    const pty: IPty = spawn(argv[0]!, argv.slice(1), { name: "dumb", cols: 256, rows: 24, env, encoding: null });
    const pid = pty.pid;
    const queue: AttachItem[] = [];
    const held: string[] = [];
    let wake: (() => void) | undefined;
    let exitCode: number | undefined;
    let killedBySignal = false;
    let partialTimer: NodeJS.Timeout | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const splitter = new PtyLineSplitter();
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    const emitLine = (line: Buffer) => {
      const text = line.toString("utf8").replace(/\n$/, "");
      if (classifyAttachLine(text) === "status" || FAILURE_LINE.test(text)) {
        if (FAILURE_LINE.test(text)) held.push(text);
        else queue.push({ kind: "status", text });
      } else {
        queue.push({ kind: "output", data: line, timestamp: Date.now() / 1000 });
      }
    };
    const flushPartial = (final: boolean) => {
      const rest = splitter.flush(final);
      if (rest) queue.push({ kind: "output", data: rest, timestamp: Date.now() / 1000 });
    };
    const exited = new Promise<void>((resolve) => {
      pty.onExit(({ exitCode: code, signal: sig }) => {
        clearTimeout(partialTimer);
        clearTimeout(killTimer);
        flushPartial(true);
        exitCode = code;
        killedBySignal = (sig ?? 0) !== 0;
        active.delete(pid);
        resolve();
        notify();
      });
    });
    pty.onData((chunk: string | Buffer) => {
      for (const line of splitter.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk)) emitLine(line);
      clearTimeout(partialTimer);
      if (splitter.hasPartial) {
        partialTimer = setTimeout(() => {
          flushPartial(false);
          notify();
        }, partialMs);
      }
      notify();
    });
    const stop = () => {
      if (exitCode !== undefined || killTimer !== undefined) return;
      options.logger.debug("stopping flux job attach", { pid, id: id.toString() });
      pty.kill("SIGTERM");
      killTimer = setTimeout(() => {
        if (exitCode === undefined) pty.kill("SIGKILL");
      }, graceMs);
    };
    active.set(pid, { stop, exited });
    signal.addEventListener("abort", stop, { once: true });
    try {
      for (;;) {
        while (queue.length > 0) {
          if (signal.aborted) return;
          yield queue.shift()!;
        }
        if (signal.aborted) return;
        if (exitCode !== undefined) break;
        await new Promise<void>((resolve) => (wake = resolve));
      }
      if (killedBySignal) return; // stopped from outside (close()); the stream did not end by itself
      if (exitCode !== 0 && held.length > 0) {
        const failure = new FluxCommandError(argv, exitCode, held.join("\n"), {
          ...(held.some((l) => l.includes("execvp(3) failed")) ? { spawnErrorCode: "ENOENT" } : {}),
        });
        const mapped = fluxErrorToBackendError(failure, { operation: "attach", id });
        if (!isFluxCommandError(mapped)) throw mapped;
      }
      for (const text of held) yield { kind: "status", text };
      yield { kind: "exit", exitCode: exitCode ?? 1 };
    } finally {
      signal.removeEventListener("abort", stop);
      stop();
      await exited;
    }
  }

  return {
    attach,
    activePids: () => [...active.keys()],
    async close() {
      const all = [...active.values()];
      for (const a of all) a.stop();
      await Promise.all(all.map((a) => a.exited));
    },
  };
}
