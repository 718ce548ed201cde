/**
 * Small helpers over a JobBackend for the contract suite and backend tests: a request with
 * Flux's defaults, collecting output, waiting for events.
 */
import type { JobBackend, JobEvent, JobRecord, JobRequest, OutputChunk } from "../../server/backends/backend.js";

/** A JobRequest as the service builds it, with defaults (one task, one core, urgency 16). */
export function jobRequest(command: string[], overrides: Partial<JobRequest> = {}): JobRequest {
  return {
    command,
    numTasks: 1,
    coresPerTask: 1,
    gpusPerTask: 0,
    exclusive: false,
    cwd: "",
    environment: {},
    duration: 0,
    name: command[0]!.split("/").pop()!,
    urgency: 16,
    queue: "",
    shellOptions: {},
    isLauncher: false,
    ...overrides,
  };
}

export interface CollectedOutput {
  chunks: OutputChunk[];
  end?: { exitCode: number; truncated: boolean };
  /** Bytes per "rank/stream", e.g. "0/stdout". */
  text(rank?: number, stream?: "stdout" | "stderr"): string;
  bytes(rank?: number, stream?: "stdout" | "stderr"): Buffer;
}

function collected(chunks: OutputChunk[], end?: { exitCode: number; truncated: boolean }): CollectedOutput {
  const bytes = (rank?: number, stream?: string): Buffer =>
    Buffer.concat(
      chunks.filter((c) => (rank === undefined || c.rank === rank) && (stream === undefined || c.stream === stream)).map((c) => c.data),
    );
  return { chunks, end, bytes, text: (rank, stream) => bytes(rank, stream).toString("utf8") };
}

/** Follows a job's output to its end (fails after timeoutMs). */
export async function followToEnd(backend: JobBackend, id: bigint, offset = 0, timeoutMs = 20_000): Promise<CollectedOutput> {
  const chunks: OutputChunk[] = [];
  let end: { exitCode: number; truncated: boolean } | undefined;
  const signal = AbortSignal.timeout(timeoutMs);
  for await (const item of backend.followOutput(id, offset, signal)) {
    if (item.kind === "chunk") chunks.push(item.chunk);
    else if (item.kind === "end") end = { exitCode: item.exitCode, truncated: item.truncated };
  }
  if (end === undefined) throw new Error(`output of job ${id} did not end within ${timeoutMs} ms`);
  return collected(chunks, end);
}

/** Reads a job's output with output() pages until nothing is left. */
export async function readAllOutput(backend: JobBackend, id: bigint, limit = 1000): Promise<CollectedOutput & { complete: boolean; truncated: boolean }> {
  const chunks: OutputChunk[] = [];
  let offset = 0;
  for (;;) {
    const page = await backend.output(id, offset, limit);
    chunks.push(...page.chunks);
    if (page.chunks.length === 0 || page.nextOffset === offset) {
      return { ...collected(chunks), complete: page.complete, truncated: page.truncated };
    }
    offset = page.nextOffset;
  }
}

/** Follows the eventlog until an event of this name (returns the events up to it). */
export async function waitForEvent(backend: JobBackend, id: bigint, name: string, timeoutMs = 20_000): Promise<JobEvent[]> {
  const events: JobEvent[] = [];
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    for await (const event of backend.followEvents(id, controller.signal)) {
      events.push(event);
      if (event.name === name) return events;
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  throw new Error(`job ${id} has no "${name}" event (got ${events.map((e) => e.name).join(" ")})`);
}

/** Waits for "clean" and returns the job's record and whole eventlog. */
export async function waitInactive(backend: JobBackend, id: bigint, timeoutMs = 20_000): Promise<{ job: JobRecord; events: JobEvent[] }> {
  const events = await waitForEvent(backend, id, "clean", timeoutMs);
  return { job: await backend.get(id), events };
}

/** Runs fn and returns what it throws (fails when it does not throw). */
export async function thrown(fn: () => Promise<unknown> | AsyncIterable<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    const result = fn();
    if (result && typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
      for await (const _ of result as AsyncIterable<unknown>) {
        // drain
      }
    } else {
      await result;
    }
  } catch (e) {
    return e as Error & Record<string, unknown>;
  }
  throw new Error("expected the call to throw");
}
