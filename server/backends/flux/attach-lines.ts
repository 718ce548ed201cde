/**
 * Turns the bytes `flux job attach` writes to its pty back into lines. The pty's
 * line discipline (ONLCR) writes every "\n" as "\r\n"; that is undone here. A line is
 * either the job's output or attach's own report about the job (status).
 */

/** What one line of attach output is. */
export type AttachLineKind = "output" | "status";

/**
 * attach.c writes these itself, on stderr; everything else is the job's output:
 * - "flux-job: task(s) exited with exit code 3", "flux-job: task(s) Terminated" (job-attach-exit3.txt,
 *   job-attach-after-kill.txt) and its errors ("flux-job: Failed to attach to ƒ2222222: No such job");
 * - "1.133s: job.exception ƒ8U4HDP5 type=cancel severity=0 " (job-attach-cancelled.txt);
 * - "0.038s: flux-shell[0]: FATAL: task 0 (host vm): start failed: ..." (job-attach-nonexistent-command.txt),
 *   the job shell's log messages.
 */
const STATUS_LINE = /^(flux-job: |\d+\.\d{3}s: job\.exception |\d+\.\d{3}s: flux-shell(\[\d+\])?: )/;

export function classifyAttachLine(line: string): AttachLineKind {
  return STATUS_LINE.test(line) ? "status" : "output";
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Splits a byte stream into lines, each ending in "\n" (CRLF turned into LF); keeps the
 * unfinished rest until more arrives or flush() takes it.
 */
export class PtyLineSplitter {
  private pending: Buffer = Buffer.alloc(0);

  /** Adds bytes; returns the lines completed by them. */
  push(bytes: Uint8Array): Buffer[] {
    this.pending = this.pending.length === 0 ? Buffer.from(bytes) : Buffer.concat([this.pending, bytes]);
    const lines: Buffer[] = [];
    let start = 0;
    for (let i = this.pending.indexOf(LF); i !== -1; i = this.pending.indexOf(LF, start)) {
      const end = i > start && this.pending[i - 1] === CR ? i - 1 : i;
      lines.push(Buffer.concat([this.pending.subarray(start, end), Buffer.from([LF])]));
      start = i + 1;
    }
    this.pending = this.pending.subarray(start);
    return lines;
  }

  /** Whether unfinished bytes are waiting. */
  get hasPartial(): boolean {
    // A lone trailing CR is most likely the first half of a CRLF still in flight.
    return this.pending.length > 0 && !(this.pending.length === 1 && this.pending[0] === CR);
  }

  /** Takes the unfinished rest (a partial line), leaving a trailing CR that may start a CRLF. */
  flush(final = false): Buffer | undefined {
    if (this.pending.length === 0) return undefined;
    let rest = this.pending;
    if (!final && rest[rest.length - 1] === CR) {
      this.pending = rest.subarray(rest.length - 1);
      rest = rest.subarray(0, rest.length - 1);
    } else {
      this.pending = Buffer.alloc(0);
    }
    return rest.length > 0 ? Buffer.from(rest) : undefined;
  }
}
