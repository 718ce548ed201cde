/**
 * Output streaming with `flux job attach --read-only --label-io ID` in a pty (node-pty):
 * attach replays the job's output and follows it until the job finishes, then exits
 * with the job's exit code. Its stdout is the pty, so the job's stdout arrives as a
 * terminal shows it; its stderr goes to a FIFO we read, so the job's stderr and
 * attach's own reports stay apart from stdout (attach-lines.ts tells those two apart).
 *
 * Stopping (client gone, deadline, shutdown) sends SIGTERM, then SIGKILL after a
 * grace; never SIGINT (two within 2 s cancel the job) and nothing is ever written to
 * the pty. A stream ends only after its process is reaped and its pty and FIFO are
 * closed, so nothing leaks however many streams come and go.
 */
import { execFile } from "node:child_process";
import { constants, mkdtempSync, openSync, readSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { spawn, type IPty } from "node-pty";
import type { Logger } from "../../logger.js";
import type { OutputStreamName } from "../backend.js";
import { AttachChannel, type AttachLine } from "./attach-lines.js";
import { formatJobId } from "../jobid.js";
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
  /** Where the per-stream FIFO directories go. Defaults to os.tmpdir(). */
  runtimeDir?: string;
}

/** One item of an attach stream; `exit` is always last unless the stream was stopped. */
export type AttachItem =
  | { kind: "output"; stream: OutputStreamName; rank: number; data: Uint8Array; timestamp: number }
  | { kind: "status"; text: string }
  | { kind: "exit"; exitCode: number };

export interface FluxAttach {
  /** Runs attach for a job until it exits or the signal aborts. Throws JobNotFoundError and the like. */
  attach(id: bigint, signal: AbortSignal): AsyncIterable<AttachItem>;
  /** Pids of the attach processes running now. */
  activePids(): number[];
  /** Stops every stream and waits for their processes. */
  close(): Promise<void>;
}

// Lines that mean attach could not attach at all: held back until exit to become an error, not status.
const FAILURE_LINE = /^flux-job: (Failed to attach|flux_open|error parsing jobid)|^(\/bin\/)?sh: .*(not found|No such file|Permission denied)/;
const MISSING_COMMAND = /^(\/bin\/)?sh: /;
// sh opens the FIFO as stderr, then becomes flux: the pid node-pty reports is attach's own.
const WRAPPER = 'f=$1; shift; exec "$@" 2>"$f"';

function makeFifo(file: string, env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile("mkfifo", ["-m", "600", file], { env }, (err) => (err ? reject(err) : resolve()));
  });
}

export function createFluxAttach(options: FluxAttachOptions): FluxAttach {
  const flux = options.fluxCommand ?? "flux";
  const graceMs = options.killGraceMs ?? 2000;
  const partialMs = options.partialLineMs ?? 100;
  const env: Record<string, string> = {
    ...options.baseEnvironment,
    FLUX_F58_FORCE_ASCII: "1",
    TERM: "dumb",
    // attach's interactive status line redraws itself every second with \r and ESC[K; job state
    // is better followed with WatchJobEvents, so it stays off.
    FLUX_ATTACH_NONINTERACTIVE: "1",
  };
  if (options.fluxUri !== undefined) env.FLUX_URI = options.fluxUri;
  const active = new Map<number, { stop: () => void; exited: Promise<unknown> }>();

  async function* attach(id: bigint, signal: AbortSignal): AsyncGenerator<AttachItem> {
    if (signal.aborted) return;
    // The id as attach's status lines should show it ("job.exception f2NEYGhgamm type=cancel ...").
    const argv = [flux, "job", "attach", "--read-only", "--label-io", formatJobId(id, "f58plain")];
    const dir = mkdtempSync(path.join(options.runtimeDir ?? os.tmpdir(), "flux-attach-"));
    const fifo = path.join(dir, "stderr");
    let errFd: number | undefined;
    let errSocket: net.Socket | undefined;
    let pty: IPty;
    try {
      await makeFifo(fifo, env);
      // Read-write, so the FIFO never reports end-of-file before attach has opened it.
      errFd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
      errSocket = new net.Socket({ fd: errFd, readable: true, writable: false });
      pty = spawn("/bin/sh", ["-c", WRAPPER, "sh", fifo, ...argv], { name: "dumb", cols: 256, rows: 24, env, encoding: null });
    } catch (e) {
      errSocket?.destroy();
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    const pid = pty.pid;
    const channels = { stdout: new AttachChannel("stdout", true), stderr: new AttachChannel("stderr", false) };
    const queue: AttachItem[] = [];
    const held: string[] = [];
    let wake: (() => void) | undefined;
    let exitCode: number | undefined;
    let stopping = false;
    let partialTimer: NodeJS.Timeout | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    const take = (lines: AttachLine[]) => {
      for (const line of lines) {
        if (line.kind === "status") {
          if (/^flux-job: (Failed to attach|flux_open|error parsing jobid)/.test(line.text)) held.push(line.text);
          else queue.push(line);
          continue;
        }
        // Only attach and the wrapper shell write unlabelled lines to stderr.
        const text = line.stream === "stderr" && !line.labelled ? line.data.toString("utf8") : "";
        if (FAILURE_LINE.test(text)) held.push(text.trimEnd());
        else queue.push({ kind: "output", stream: line.stream, rank: line.rank, data: line.data, timestamp: Date.now() / 1000 });
      }
    };
    const schedulePartial = () => {
      clearTimeout(partialTimer);
      if (channels.stdout.hasPartial || channels.stderr.hasPartial) {
        partialTimer = setTimeout(() => {
          take(channels.stdout.flush(false));
          take(channels.stderr.flush(false));
          notify();
        }, partialMs);
      }
    };
    const onBytes = (stream: OutputStreamName) => (bytes: Buffer | string) => {
      take(channels[stream].push(typeof bytes === "string" ? Buffer.from(bytes) : bytes));
      schedulePartial();
      notify();
    };
    errSocket.on("data", onBytes("stderr"));
    errSocket.on("error", (e) => options.logger.warn("attach stderr fifo error", { error: e }));
    pty.onData(onBytes("stdout"));
    const exited = new Promise<void>((resolve) => {
      pty.onExit(({ exitCode: code }) => {
        clearTimeout(partialTimer);
        clearTimeout(killTimer);
        // Whatever attach wrote before exiting is in the FIFO: read it out, then close.
        errSocket!.pause();
        const buf = Buffer.alloc(64 * 1024);
        for (;;) {
          let n = 0;
          try {
            n = readSync(errFd!, buf);
          } catch {
            break; // EAGAIN: empty
          }
          if (n <= 0) break;
          take(channels.stderr.push(buf.subarray(0, n)));
        }
        errSocket!.destroy();
        rmSync(dir, { recursive: true, force: true });
        take(channels.stdout.flush(true));
        take(channels.stderr.flush(true));
        exitCode = code;
        active.delete(pid);
        resolve();
        notify();
      });
    });
    const stop = () => {
      if (exitCode !== undefined || stopping) return;
      stopping = true;
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
      if (stopping) return; // stopped from outside (close()): the stream did not end by itself
      if (exitCode !== 0 && held.length > 0) {
        const failure = new FluxCommandError(argv, exitCode, held.join("\n") + "\n", {
          ...(held.some((l) => MISSING_COMMAND.test(l)) ? { spawnErrorCode: "ENOENT" } : {}),
        });
        const mapped = fluxErrorToBackendError(failure, { operation: "attach", id });
        throw isFluxCommandError(mapped) ? failure : mapped;
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
