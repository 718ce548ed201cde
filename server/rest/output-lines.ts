/**
 * Turns output chunks into lines. Chunks are bytes as the job wrote them: a line (or a
 * UTF-8 character) may be split across chunks, and stdout and stderr interleave. Each
 * (stream, rank) gets its own pending bytes, so a line is never mixed with another
 * stream's, and lines are emitted in the order they were completed, each ending in "\n"
 * except a final unterminated one.
 */
import type { OutputChunk } from "../../gen/flux/restful/v1/job_pb.js";
import { OutputStream } from "../../gen/flux/restful/v1/job_pb.js";

export interface OutputLine {
  text: string;
  stream: "stdout" | "stderr";
  rank: number;
}

export interface LineAssembler {
  /** The lines this chunk completes. */
  push(chunk: Pick<OutputChunk, "stream" | "rank" | "data">): OutputLine[];
  /** The unterminated rest of every stream (the output ended). */
  flush(): OutputLine[];
}

/** A line without "\n" longer than this is passed on in pieces rather than held. */
const MAX_PENDING_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

/** Where the last complete UTF-8 character ends, so a piece never splits one. */
function completeCharsEnd(bytes: Uint8Array): number {
  let lead = bytes.length - 1;
  while (lead > 0 && lead > bytes.length - 4 && (bytes[lead]! & 0xc0) === 0x80) lead--;
  const b = bytes[lead]!;
  const size = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
  return lead + size <= bytes.length ? bytes.length : lead;
}

export function createLineAssembler(): LineAssembler {
  const pending = new Map<string, { stream: OutputLine["stream"]; rank: number; bytes: Buffer }>();
  const decoder = new TextDecoder("utf-8");

  return {
    push(chunk) {
      const stream = chunk.stream === OutputStream.STDERR ? "stderr" : "stdout";
      const key = `${stream}:${chunk.rank}`;
      const entry = pending.get(key) ?? { stream, rank: chunk.rank, bytes: Buffer.alloc(0) };
      let bytes = entry.bytes.length === 0 ? Buffer.from(chunk.data) : Buffer.concat([entry.bytes, chunk.data]);
      const out: OutputLine[] = [];
      let start = 0;
      for (let nl = bytes.indexOf(NEWLINE); nl !== -1; nl = bytes.indexOf(NEWLINE, start)) {
        out.push({ text: decoder.decode(bytes.subarray(start, nl + 1)), stream, rank: chunk.rank });
        start = nl + 1;
      }
      bytes = bytes.subarray(start);
      if (bytes.length > MAX_PENDING_BYTES) {
        const cut = completeCharsEnd(bytes);
        out.push({ text: decoder.decode(bytes.subarray(0, cut)), stream, rank: chunk.rank });
        bytes = bytes.subarray(cut);
      }
      entry.bytes = Buffer.from(bytes);
      pending.set(key, entry);
      return out;
    },
    flush() {
      const out: OutputLine[] = [];
      for (const entry of pending.values()) {
        if (entry.bytes.length > 0) out.push({ text: decoder.decode(entry.bytes), stream: entry.stream, rank: entry.rank });
      }
      pending.clear();
      return out;
    },
  };
}
