/**
 * Turns what `flux job attach --label-io` writes back into job output and status.
 * attach writes the job's stdout to its stdout (our pty) and the job's stderr, plus its
 * own reports, to its stderr (our pipe). --label-io puts "RANK: " before each piece of
 * job output, which tells the task and sets job output apart from attach's reports.
 * The pty's line discipline (ONLCR) writes every "\n" as "\r\n"; that is undone here.
 */
import type { OutputStreamName } from "../backend.js";

export type AttachLine =
  | { kind: "output"; stream: OutputStreamName; rank: number; data: Buffer; labelled: boolean }
  | { kind: "status"; text: string };

/**
 * attach.c's own lines, on stderr, never labelled:
 * - "flux-job: task(s) exited with exit code 3", "flux-job: task(s) Terminated" (job-attach-exit3.txt,
 *   job-attach-after-kill.txt) and its errors ("flux-job: Failed to attach to ƒ2222222: No such job");
 * - "1.133s: job.exception ƒ8U4HDP5 type=cancel severity=0 " (job-attach-cancelled.txt);
 * - "0.038s: flux-shell[0]: FATAL: task 0 (host vm): start failed: ..." (job-attach-nonexistent-command.txt),
 *   the job shell's log messages.
 */
const STATUS_LINE = /^(flux-job: |\d+\.\d{3}s: job\.exception |\d+\.\d{3}s: flux-shell(\[\d+\])?: )/;
const LABEL = /^(\d+): /;
const LF = 0x0a;
const CR = 0x0d;

export function isStatusLine(text: string): boolean {
  return STATUS_LINE.test(text);
}

/** One of attach's two output channels, split into labelled lines. */
export class AttachChannel {
  private pending: Buffer = Buffer.alloc(0);
  private lastRank = 0;

  /**
   * @param stream which of the job's streams this channel carries
   * @param fromPty whether the bytes went through a pty (CRLF to undo)
   */
  constructor(
    readonly stream: OutputStreamName,
    private readonly fromPty: boolean,
  ) {}

  /**
   * Adds the bytes of one read; returns the lines they complete. attach starts every piece
   * of output with its label, so a read that starts with one ends a partial line left by
   * the previous read (a task that printed without a newline, then another piece came).
   */
  push(bytes: Uint8Array): AttachLine[] {
    const lines: AttachLine[] = [];
    if (this.pending.length > 0 && !/^\d*:?$/.test(this.pending.toString("latin1")) && LABEL.test(Buffer.from(bytes.subarray(0, 16)).toString("latin1"))) {
      lines.push(this.parse(this.pending));
      this.pending = Buffer.alloc(0);
    }
    this.pending = this.pending.length === 0 ? Buffer.from(bytes) : Buffer.concat([this.pending, bytes]);
    let start = 0;
    for (let i = this.pending.indexOf(LF); i !== -1; i = this.pending.indexOf(LF, start)) {
      const end = this.fromPty && i > start && this.pending[i - 1] === CR ? i - 1 : i;
      lines.push(this.parse(Buffer.concat([this.pending.subarray(start, end), Buffer.from([LF])])));
      start = i + 1;
    }
    this.pending = Buffer.from(this.pending.subarray(start));
    return lines;
  }

  /** Whether part of a line is waiting for its end. */
  get hasPartial(): boolean {
    return this.pending.length > 0;
  }

  /**
   * Takes a partial line (output written without a newline). Unless final, a possible
   * half of a CRLF or of a "RANK: " label is kept for the next bytes.
   */
  flush(final: boolean): AttachLine[] {
    let rest = this.pending;
    if (!final) {
      if (/^\d*:?$/.test(rest.toString("latin1"))) return [];
      if (this.fromPty && rest[rest.length - 1] === CR) rest = rest.subarray(0, rest.length - 1);
    }
    this.pending = Buffer.from(this.pending.subarray(rest.length));
    return rest.length > 0 ? [this.parse(Buffer.from(rest))] : [];
  }

  private parse(line: Buffer): AttachLine {
    const head = line.subarray(0, 16).toString("latin1");
    const label = LABEL.exec(head);
    if (label) {
      this.lastRank = Number(label[1]);
      return { kind: "output", stream: this.stream, rank: this.lastRank, data: line.subarray(label[0].length), labelled: true };
    }
    const text = line.toString("utf8").replace(/\n$/, "");
    if (this.stream === "stderr" && isStatusLine(text)) return { kind: "status", text };
    // A piece of output that held several lines: only its first line carried the label.
    return { kind: "output", stream: this.stream, rank: this.lastRank, data: line, labelled: false };
  }
}
