import { describe, expect, it } from "vitest";
import { OutputStream } from "../../../gen/flux/restful/v1/job_pb.js";
import { createLineAssembler } from "../../../server/rest/output-lines.js";

const enc = new TextEncoder();
const chunk = (data: string | Uint8Array, stream = OutputStream.STDOUT, rank = 0) => ({
  stream,
  rank,
  data: typeof data === "string" ? enc.encode(data) : data,
});

describe("createLineAssembler", () => {
  it("joins a line split across chunks, even inside a UTF-8 character", () => {
    const lines = createLineAssembler();
    const bytes = enc.encode("pancakes 🥞\nsecond\n");
    const cut = bytes.indexOf(0xf0) + 2; // in the middle of the emoji's four bytes
    expect(lines.push(chunk(bytes.subarray(0, cut)))).toEqual([]);
    expect(lines.push(chunk(bytes.subarray(cut))).map((l) => l.text)).toEqual(["pancakes 🥞\n", "second\n"]);
    expect(lines.flush()).toEqual([]);
  });

  it("never mixes stdout and stderr, or two ranks, into one line", () => {
    const lines = createLineAssembler();
    expect(lines.push(chunk("out-a"))).toEqual([]);
    expect(lines.push(chunk("err-line\n", OutputStream.STDERR))).toEqual([{ text: "err-line\n", stream: "stderr", rank: 0 }]);
    expect(lines.push(chunk("rank1\n", OutputStream.STDOUT, 1))).toEqual([{ text: "rank1\n", stream: "stdout", rank: 1 }]);
    expect(lines.push(chunk("-end\n"))).toEqual([{ text: "out-a-end\n", stream: "stdout", rank: 0 }]);
  });

  it("flushes unterminated text at the end", () => {
    const lines = createLineAssembler();
    lines.push(chunk("no newline"));
    lines.push(chunk("tail", OutputStream.STDERR));
    expect(lines.flush().map((l) => [l.stream, l.text])).toEqual([
      ["stdout", "no newline"],
      ["stderr", "tail"],
    ]);
    expect(lines.flush()).toEqual([]);
  });

  it("passes on a very long line without a newline in pieces, without splitting characters", () => {
    const lines = createLineAssembler();
    const long = "é".repeat(40_000); // 80,000 bytes, no newline
    const out = lines.push(chunk(long));
    expect(out.length).toBe(1);
    expect(out[0]!.text).toBe(long); // the last character was complete: nothing held back
    const rest = lines.flush();
    expect(out[0]!.text + rest.map((l) => l.text).join("")).toBe(long);
    expect(out[0]!.text).not.toContain("\uFFFD");

    const split = createLineAssembler();
    const bytes = enc.encode(`${"x".repeat(70_000)}🥞`);
    const first = split.push(chunk(bytes.subarray(0, bytes.length - 2)));
    expect(first.map((l) => l.text)).toEqual(["x".repeat(70_000)]); // the emoji's first half is held
    expect(split.push(chunk(bytes.subarray(bytes.length - 2)))).toEqual([]);
    expect(split.flush().map((l) => l.text)).toEqual(["🥞"]);
  });
});
