import { describe, expect, it } from "vitest";
import { parseExactJson, toPlainJson } from "../../../../server/backends/flux/exact-json.js";
import { parseJobListLines } from "../../../../server/backends/flux/flux-output.js";
import { formatJobId, parseJobId } from "../../../../server/backends/jobid.js";
import { readTranscript } from "../../../support/fake-flux/transcript.js";

const PAST_2_53 = 2n ** 53n + 1n; // 9007199254740993: JSON.parse reads it as ...992

describe("parseExactJson", () => {
  it("keeps job ids past 2^53 exact, where JSON.parse rounds them", () => {
    const line = `{"id": ${PAST_2_53}, "userid": 0, "t_submit": 1795935335.4678726, "name": "held2"}`;
    expect((JSON.parse(line) as { id: number }).id).toBe(9007199254740992);
    expect(parseExactJson(line)).toEqual({ id: PAST_2_53, userid: 0, t_submit: 1795935335.4678726, name: "held2" });
  });

  it("keeps the largest 64-bit id exact and round-trips it through F58", () => {
    const max = 2n ** 64n - 1n;
    const [record] = parseJobListLines(`{"id": ${max}, "state": 64}\n`);
    expect(record!.id).toBe(max);
    expect(parseJobId(formatJobId(record!.id))).toBe(max);
  });

  it("leaves safe integers, floats and exponents as numbers", () => {
    expect(parseExactJson("[0, -1, 9007199254740991, 1.5, 1e3, -2.5E-2, 12345678901234567890.0]")).toEqual([
      0, -1, 9007199254740991, 1.5, 1000, -0.025, 12345678901234567000,
    ]);
    expect(parseExactJson("-9007199254740993")).toBe(-9007199254740993n);
  });

  it("never touches digits inside strings, escapes included", () => {
    const text = String.raw`{"note": "id 12345678901234567890 \"quoted\" \u0192 \\", "a\nb": [true, false, null]}`;
    expect(parseExactJson(text)).toEqual(JSON.parse(text));
  });

  it("reads every job-list record of the transcripts like JSON.parse, except for exact ids", () => {
    for (const name of ["job-list-hidden.txt", "job-list-hidden-a.txt", "job-list-ids-hidden.txt"]) {
      const stdout = readTranscript(name).stdout;
      const lines = stdout.split("\n").filter((l) => l !== "");
      const records = parseJobListLines(stdout);
      expect(records).toHaveLength(lines.length);
      records.forEach((r, i) => {
        const plain = JSON.parse(lines[i]!) as Record<string, unknown>;
        expect(typeof r.id).toBe("bigint");
        expect(r.id).toBe(BigInt(/"id": (\d+)/.exec(lines[i]!)![1]!));
        expect({ ...r, id: Number(r.id) }).toEqual(plain);
      });
    }
  });

  it("stays exact when a record carries another big number after the id (the fast path steps aside)", () => {
    const [record] = parseJobListLines(
      `{"id": ${PAST_2_53}, "exception_note": "bank 12345678901234567890", "annotations": {"user": {"n": 12345678901234567891}}}\n`,
    );
    expect(record).toEqual({ id: PAST_2_53, exception_note: "bank 12345678901234567890", annotations: { user: { n: 12345678901234567891n } } });
  });

  it("rejects malformed text with the offset", () => {
    for (const bad of ["", "{", '{"a" 1}', "[1,]", "01", '"unterminated', "{} x", "nul", '{"a":"\u0001"}']) {
      expect(() => parseExactJson(bad), bad).toThrow(/invalid JSON/);
    }
  });

  it("makes plain JSON for protobuf Structs: bigints become decimal strings", () => {
    expect(toPlainJson(parseExactJson(`{"jobid": ${PAST_2_53}, "n": [1, {"x": 2}]}`))).toEqual({ jobid: "9007199254740993", n: [1, { x: 2 }] });
  });
});
