import { describe, expect, it } from "vitest";
import { AttachChannel, type AttachLine } from "../../../../server/backends/flux/attach-lines.js";
import { readTranscript } from "../../../support/fake-flux/transcript.js";

const show = (lines: AttachLine[]) =>
  lines.map((l) => (l.kind === "status" ? `status ${l.text}` : `${l.stream} ${l.rank} ${JSON.stringify(l.data.toString("utf8"))}`));

describe("AttachChannel", () => {
  it("turns the pty's CRLF back into LF and strips the rank labels", () => {
    const pty = new AttachChannel("stdout", true);
    expect(show(pty.push(Buffer.from("0: line 1 to stdout\r\n1: out from task 1\r\n")))).toEqual([
      'stdout 0 "line 1 to stdout\\n"',
      'stdout 1 "out from task 1\\n"',
    ]);
  });

  it("keeps a CR that is the job's own (CRCRLF from the pty is the job's CRLF)", () => {
    const pty = new AttachChannel("stdout", true);
    expect(show(pty.push(Buffer.from("0: dos line\r\r\n")))).toEqual(['stdout 0 "dos line\\r\\n"']);
    const pipe = new AttachChannel("stderr", false);
    expect(show(pipe.push(Buffer.from("0: dos line\r\n")))).toEqual(['stderr 0 "dos line\\r\\n"']);
  });

  it("reports attach's own lines on stderr as status, never as job output (job-attach-*.txt)", () => {
    const err = new AttachChannel("stderr", false);
    const lines = [
      ...readTranscript("job-attach-exit3.txt").stderr.split("\n").slice(0, 1),
      ...readTranscript("job-attach-cancelled.txt").stderr.split("\n").slice(0, 1),
      ...readTranscript("job-attach-nonexistent-command.txt").stderr.split("\n").slice(0, 3),
    ];
    const parsed = err.push(Buffer.from(lines.map((l) => `${l}\n`).join("")));
    expect(parsed.map((l) => l.kind)).toEqual(["status", "status", "status", "status", "status"]);
    expect(parsed[0]).toEqual({ kind: "status", text: "flux-job: task(s) exited with exit code 3" });
    expect(parsed[1]).toEqual({ kind: "status", text: "1.115s: job.exception ƒ8U4HDP5 type=cancel severity=0 " });
  });

  it("treats a job's line that looks like a status line as output, because it carries a label", () => {
    const err = new AttachChannel("stderr", false);
    expect(show(err.push(Buffer.from("0: flux-job: not really\n")))).toEqual(['stderr 0 "flux-job: not really\\n"']);
  });

  it("gives unlabelled continuation lines the rank of the piece they belong to", () => {
    const out = new AttachChannel("stdout", true);
    expect(show(out.push(Buffer.from("1: a\r\nb\r\n")))).toEqual(['stdout 1 "a\\n"', 'stdout 1 "b\\n"']);
  });

  it("joins lines split across reads, including a CRLF or a label split in two", () => {
    const pty = new AttachChannel("stdout", true);
    expect(pty.push(Buffer.from("0: hel"))).toEqual([]);
    expect(pty.push(Buffer.from("lo\r"))).toEqual([]);
    expect(show(pty.push(Buffer.from("\n1")))).toEqual(['stdout 0 "hello\\n"']);
    expect(pty.flush(false)).toEqual([]); // "1" may be the start of a label
    expect(show(pty.push(Buffer.from(": x\r\n")))).toEqual(['stdout 1 "x\\n"']);
  });

  it("passes on a partial line (no newline), and holds a trailing CR until it knows", () => {
    const pty = new AttachChannel("stdout", true);
    pty.push(Buffer.from("0: partial-no-newline\r"));
    expect(show(pty.flush(false))).toEqual(['stdout 0 "partial-no-newline"']);
    expect(pty.hasPartial).toBe(true);
    expect(show(pty.push(Buffer.from("\n")))).toEqual(['stdout 0 "\\n"']);
    pty.push(Buffer.from("0: end"));
    expect(show(pty.flush(true))).toEqual(['stdout 0 "end"']);
    expect(pty.hasPartial).toBe(false);
  });

  it("keeps bytes exact, multibyte characters split across reads included", () => {
    const pty = new AttachChannel("stdout", true);
    const bytes = Buffer.from("0: line 3 to stdout 🥞 ünïcödé\r\n");
    const cut = bytes.indexOf(Buffer.from("🥞")) + 2;
    expect(pty.push(bytes.subarray(0, cut))).toEqual([]);
    const [line] = pty.push(bytes.subarray(cut));
    expect(line!.kind === "output" && line!.data).toEqual(Buffer.from("line 3 to stdout 🥞 ünïcödé\n"));
  });
});
