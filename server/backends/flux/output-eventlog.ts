/**
 * A job's output from its guest.output eventlog (RFC 24): a header, then `data`
 * entries (stream, rank idset, data, eof, encoding, repeat), `redirect` and `log`
 * entries. Each non-empty data entry is one chunk; chunk offsets count data chunks,
 * so an offset stays valid as the eventlog grows.
 */
import type { OutputChunk, OutputPage, OutputStreamName } from "../backend.js";
import { isJsonObject } from "./exact-json.js";
import type { RawEvent } from "./flux-calls.js";
import { decodeIdset } from "./idset.js";

export interface ParsedOutput {
  chunks: OutputChunk[];
  /** Every task's stdout and stderr ended (eof or redirect) as the header's counts announce. */
  complete: boolean;
  /** The job shell reported dropping output (output size limit). */
  truncated: boolean;
}

function firstRank(rank: unknown): number {
  if (typeof rank === "number") return rank;
  if (typeof rank !== "string") return 0;
  try {
    return decodeIdset(rank)[0] ?? 0;
  } catch {
    return 0;
  }
}

function decodeData(context: Record<string, unknown>): Uint8Array {
  const data = typeof context.data === "string" ? context.data : "";
  const bytes = context.encoding === "base64" ? Buffer.from(data, "base64") : Buffer.from(data, "utf8");
  const repeat = typeof context.repeat === "number" && context.repeat > 1 ? context.repeat : 1;
  return repeat === 1 ? new Uint8Array(bytes) : new Uint8Array(Buffer.concat(Array.from({ length: repeat }, () => bytes)));
}

/** Parses the entries of guest.output; undefined (no eventlog yet) parses as empty and incomplete. */
export function parseOutputEventlog(entries: readonly RawEvent[] | undefined): ParsedOutput {
  const chunks: OutputChunk[] = [];
  const expected: Record<OutputStreamName, number> = { stdout: Infinity, stderr: Infinity };
  const ended: Record<OutputStreamName, Set<number>> = { stdout: new Set(), stderr: new Set() };
  let truncated = false;
  for (const entry of entries ?? []) {
    const ctx = entry.context ?? {};
    if (entry.name === "header") {
      const count = isJsonObject(ctx.count) ? ctx.count : {};
      for (const s of ["stdout", "stderr"] as const) expected[s] = typeof count[s] === "number" ? count[s] : 0;
      continue;
    }
    if (entry.name === "log") {
      // The shell's output plugin logs a warning when it drops output over its size limit.
      if (typeof ctx.message === "string" && /truncat/i.test(ctx.message)) truncated = true;
      continue;
    }
    const stream = ctx.stream;
    if (stream !== "stdout" && stream !== "stderr") continue;
    const rank = firstRank(ctx.rank);
    if (entry.name === "redirect") {
      ended[stream].add(rank);
      continue;
    }
    if (entry.name !== "data") continue;
    const data = decodeData(ctx as Record<string, unknown>);
    if (data.length > 0) chunks.push({ offset: chunks.length, stream, rank, data, timestamp: entry.timestamp });
    if (ctx.eof === true) ended[stream].add(rank);
  }
  const complete = ended.stdout.size >= expected.stdout && ended.stderr.size >= expected.stderr;
  return { chunks, complete, truncated };
}

/** A page of at most `limit` chunks from `offset`. */
export function pageOf(parsed: ParsedOutput, offset: number, limit: number): OutputPage {
  const chunks = parsed.chunks.slice(offset, offset + limit);
  const nextOffset = offset + chunks.length;
  return {
    chunks,
    nextOffset,
    complete: parsed.complete && nextOffset >= parsed.chunks.length,
    truncated: parsed.truncated,
  };
}
