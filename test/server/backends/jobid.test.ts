import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  createFluidGenerator,
  formatJobId,
  InvalidJobIdError,
  isInvalidJobIdError,
  type JobIdEncoding,
  parseJobId,
} from "../../../server/backends/jobid.js";
import { MNEMONICODE_WORDS } from "../../../server/backends/jobid/mnemonicode-words.js";
import { FLUX_REFERENCE_DIR } from "../../support/reference-dir.js";

// Transcripts of real `flux` commands (flux-core 0.88.0-59); see its README.md for the format.
const REFERENCE_DIR = FLUX_REFERENCE_DIR;
const ENCODINGS: readonly JobIdEncoding[] = ["f58", "f58plain", "dec", "hex", "dothex", "kvs", "words"];
const UINT64_MAX = (1n << 64n) - 1n;
const F58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

const isEncoding = (s: string): s is JobIdEncoding => (ENCODINGS as readonly string[]).includes(s);

interface Transcript {
  file: string;
  command: string;
  exitCode: number;
  stdout: string;
}

function readTranscript(file: string): Transcript {
  const text = readFileSync(join(REFERENCE_DIR, file), "utf8");
  const header = /^# command: (.*) \| exit code: (\d+) \|/m.exec(text);
  const stdout = /^# ----- stdout \(\d+ bytes\) -----\n([\s\S]*?)^# ----- stderr/m.exec(text);
  if (!header?.[1] || !header[2] || stdout?.[1] === undefined) throw new Error(`unexpected layout in ${file}`);
  const noNewline = "\n# (stdout had no trailing newline)\n";
  const out = stdout[1].endsWith(noNewline) ? stdout[1].slice(0, -noNewline.length) : stdout[1];
  return { file, command: header[1], exitCode: Number(header[2]), stdout: out };
}

const lines = (text: string): string[] => (text === "" ? [] : text.replace(/\n$/, "").split("\n"));

// Every recorded command; the folder also holds a few plain logs, which have no "# command:" header.
const allTranscripts = readdirSync(REFERENCE_DIR)
  .filter((f) => f.endsWith(".txt") && readFileSync(join(REFERENCE_DIR, f), "utf8").startsWith("# command: "))
  .map(readTranscript);

/** `flux job id [--to=ENC] ID...`, or ids piped in with printf. */
function jobIdCommand(command: string): { to: string; inputs: string[] } {
  const m = /^(?:printf '[^']*' (.*) \| )?flux job id(.*)$/.exec(command);
  if (!m) throw new Error(`not a flux job id command: ${command}`);
  const args = (m[2] ?? "").trim().split(/\s+/).filter(Boolean);
  const to = args.find((a) => a.startsWith("--to="))?.slice("--to=".length) ?? "dec";
  const inputs = m[1] ? m[1].split(/\s+/) : args.filter((a) => !a.startsWith("--"));
  return { to, inputs };
}

function expectInvalid(input: string): void {
  let caught: unknown;
  try {
    parseJobId(input);
  } catch (e) {
    caught = e;
  }
  expect(caught, `parseJobId(${JSON.stringify(input)}) should throw`).toBeInstanceOf(InvalidJobIdError);
  expect((caught as InvalidJobIdError).input).toBe(input);
}

describe("parseJobId and formatJobId against `flux job id` transcripts", () => {
  const transcripts = allTranscripts.filter((t) => t.file.startsWith("job-id-"));

  it("finds the recorded job-id transcripts", () => {
    expect(transcripts.length).toBeGreaterThanOrEqual(13);
  });

  it.each(transcripts.map((t) => [t.file, t] as const))("%s", (_file, t) => {
    const { to, inputs } = jobIdCommand(t.command);
    expect(inputs.length).toBeGreaterThan(0);
    if (t.exitCode === 0) {
      const outputs = lines(t.stdout);
      expect(outputs).toHaveLength(inputs.length);
      expect(isEncoding(to)).toBe(true);
      inputs.forEach((input, i) => {
        const id = parseJobId(input);
        expect(formatJobId(id, to as JobIdEncoding)).toBe(outputs[i]);
        expect(parseJobId(outputs[i] as string)).toBe(id);
      });
    } else if (!isEncoding(to)) {
      expect(() => formatJobId(parseJobId(inputs[0] as string), to as JobIdEncoding)).toThrow(RangeError);
    } else {
      for (const input of inputs) expectInvalid(input);
    }
  });
});

describe("every encoding of the ids in `flux jobs -o '{id.f58} {id.dec} ...'`", () => {
  const t = readTranscript("jobs-o-ids.txt");
  const fields = [...t.command.matchAll(/\{id(?:\.(\w+))?\}/g)].map((m) => m[1] ?? "f58");
  const rows = lines(t.stdout)
    .slice(1)
    .map((line) => line.split(" "));

  it("reads all the rows and columns", () => {
    // `flux jobs` has no kvs field; the rows check it as "job." + dothex.
    expect(fields).toEqual(expect.arrayContaining(ENCODINGS.filter((enc) => enc !== "kvs")));
    expect(rows.length).toBeGreaterThanOrEqual(40);
    for (const row of rows) expect(row).toHaveLength(fields.length);
  });

  it.each(rows.map((row) => [row[fields.indexOf("dec")], row] as const))("%s", (dec, row) => {
    const id = BigInt(dec as string);
    fields.forEach((field, i) => {
      const cell = row[i] as string;
      if (!isEncoding(field)) return;
      expect(parseJobId(cell), `${field} ${cell}`).toBe(id);
      expect(formatJobId(id, field)).toBe(cell);
    });
    const kvs = `job.${row[fields.indexOf("dothex")]}`;
    expect(formatJobId(id, "kvs")).toBe(kvs);
    expect(parseJobId(kvs)).toBe(id);
  });

  it("rejects the optional emoji encoding, which is not implemented", () => {
    const column = fields.indexOf("emoji");
    expect(column).toBeGreaterThanOrEqual(0);
    expectInvalid(rows[0]?.[column] as string);
  });
});

describe("job ids elsewhere in the transcripts", () => {
  it("matches flux's Python JobID in every encoding", () => {
    const out = lines(readTranscript("python-jobid.txt").stdout);
    const value = new Map<string, string>();
    for (const line of out) {
      const m = /^(\w+): (.*)$/.exec(line);
      if (m) value.set(m[1] as string, m[2] as string);
    }
    const id = parseJobId(value.get("input") as string);
    expect(id).toBe(BigInt(value.get("int") as string));
    expect(formatJobId(id)).toBe(value.get("str"));
    const checked = ENCODINGS.filter((enc) => value.has(enc));
    expect(checked).toEqual([...ENCODINGS]);
    for (const enc of checked) {
      expect(formatJobId(id, enc)).toBe(value.get(enc));
      expect(parseJobId(value.get(enc) as string)).toBe(id);
    }
    const conversions = out.flatMap((l) => {
      const m = /^JobID\('(.*)'\) -> (.*)$/.exec(l);
      return m ? [[m[1] as string, m[2] as string] as const] : [];
    });
    expect(conversions.length).toBeGreaterThanOrEqual(4);
    for (const [input, result] of conversions) {
      if (/^\d+$/.test(result)) expect(parseJobId(input)).toBe(BigInt(result));
      else expectInvalid(input);
    }
  });

  it("matches the decimal id and F58 jobid of every job in JSON output", () => {
    const pairs: [number, string][] = [];
    const visit = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(visit);
      else if (typeof v === "object" && v !== null) {
        const o = v as Record<string, unknown>;
        if (typeof o.id === "number" && typeof o.jobid === "string") pairs.push([o.id, o.jobid]);
        Object.values(o).forEach(visit);
      }
    };
    for (const t of allTranscripts) {
      for (const doc of [t.stdout, ...lines(t.stdout)]) {
        try {
          visit(JSON.parse(doc));
        } catch {
          // not JSON
        }
      }
    }
    expect(pairs.length).toBeGreaterThanOrEqual(3);
    for (const [dec, jobid] of pairs) {
      expect(Number.isSafeInteger(dec)).toBe(true);
      expect(formatJobId(BigInt(dec))).toBe(jobid);
      expect(parseJobId(jobid)).toBe(BigInt(dec));
    }
  });

  it("round-trips every ƒ id printed anywhere", () => {
    const ids = new Set(allTranscripts.flatMap((t) => t.stdout.match(/ƒ[1-9A-HJ-NP-Za-km-z]+/g) ?? []));
    expect(ids.size).toBeGreaterThanOrEqual(40);
    for (const text of ids) expect(formatJobId(parseJobId(text))).toBe(text);
  });

  it("parses the ASCII f ids `flux submit` prints without a UTF-8 locale", () => {
    const submits = allTranscripts.filter((t) => t.file.startsWith("submit-f58-"));
    expect(submits.length).toBeGreaterThanOrEqual(2);
    for (const t of submits) {
      const [text] = lines(t.stdout) as [string];
      expect(text).toMatch(/^f[^ƒ]/);
      const id = parseJobId(text);
      expect(formatJobId(id, "f58plain")).toBe(text);
      expect(parseJobId(`ƒ${text.slice(1)}`)).toBe(id);
    }
  });
});

describe("parseJobId and formatJobId", () => {
  // The examples in RFC 19 "Representation".
  it("agrees with the RFC 19 examples", () => {
    expect(formatJobId(6731191091817518n)).toBe("ƒuZZybuNNy");
    expect(parseJobId("ƒuZZybuNNy")).toBe(6731191091817518n);
    expect(formatJobId(0x17e9fb8df16c2en, "dothex")).toBe("0017.e9fb.8df1.6c2e");
    expect(formatJobId(0xedaf97d000000n, "dothex")).toBe("000e.daf9.7d00.0000");
    expect(parseJobId("000e.daf9.7d00.0000")).toBe(parseJobId("0xedaf97d000000"));
    for (const text of ["ƒZemgA8Bzf", "ƒ278oEf7zGf"]) expect(formatJobId(parseJobId(text))).toBe(text);
    for (const text of ["reform-remote-galileo--heart-package-academy", "random-idea-yoyo--sugar-printer-academy"]) {
      expect(formatJobId(parseJobId(text), "words")).toBe(text);
    }
  });

  const edges = [0n, 1n, 57n, 58n, 0xffff_ffffn, 1n << 32n, (1n << 53n) - 1n, 1n << 53n, (1n << 53n) + 1n];
  const randoms = Array.from({ length: 300 }, () => randomBytes(8).readBigUInt64BE());
  const values = [...edges, 1n << 63n, UINT64_MAX - 1n, UINT64_MAX, ...randoms];

  it("round-trips every encoding for 64-bit values, including above 2^53 and 2^64-1", () => {
    for (const id of values) {
      for (const enc of ENCODINGS) {
        const text = formatJobId(id, enc);
        expect(parseJobId(text), `${id} as ${enc}: ${text}`).toBe(id);
        expect(parseJobId(` \t${text}\n`), `${id} as ${enc} with whitespace`).toBe(id);
      }
    }
  });

  it("formats each encoding in its canonical shape", () => {
    for (const id of values) {
      expect(formatJobId(id)).toMatch(id === 0n ? /^ƒ1$/ : /^ƒ[2-9A-HJ-NP-Za-km-z][1-9A-HJ-NP-Za-km-z]{0,10}$/);
      expect(formatJobId(id, "f58plain")).toBe(`f${formatJobId(id).slice(1)}`);
      expect(formatJobId(id, "dec")).toBe(id.toString());
      expect(formatJobId(id, "hex")).toMatch(/^0x(0|[1-9a-f][0-9a-f]{0,15})$/);
      expect(formatJobId(id, "dothex")).toMatch(/^[0-9a-f]{4}(\.[0-9a-f]{4}){3}$/);
      expect(formatJobId(id, "kvs")).toBe(`job.${formatJobId(id, "dothex")}`);
      expect(formatJobId(id, "words")).toMatch(/^[a-z]+-[a-z]+-[a-z]+--[a-z]+-[a-z]+-[a-z]+$/);
    }
  });

  it("orders F58 like the numbers: shorter first, then by character", () => {
    // The alphabet is in ASCII order, so F58 text sorts as its value does.
    const byValue = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((id) => formatJobId(id));
    const byText = [...byValue].sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
    expect(byText).toEqual(byValue);
  });

  it("encodes the low 32 bits in the first three words and the high 32 bits in the last three", () => {
    for (const id of randoms) {
      const [low, high] = formatJobId(id, "words").split("--");
      expect(formatJobId(id & 0xffff_ffffn, "words")).toBe(`${low}--academy-academy-academy`);
      expect(formatJobId(id >> 32n, "words").split("--")[0]).toBe(high);
    }
  });

  it("accepts the variations flux accepts: ASCII f, upper-case hex and words, zero padding, single dashes", () => {
    const id = 199783088128n;
    for (const text of [
      "f6FP9YmD",
      "ƒ16FP9YmD",
      "0x2E84000000",
      "0x00002e84000000",
      "000199783088128",
      "0000.002E.8400.0000",
      "job.0000.002e.8400.0000",
      "ALPHA-Sharon-cabaret--artist-academy-academy",
      "alpha-sharon-cabaret-artist-academy-academy",
      "\u00a0ƒ6FP9YmD\r\n",
    ]) {
      expect(parseJobId(text), text).toBe(id);
    }
  });

  it("rejects malformed input instead of truncating or wrapping it", () => {
    const last = MNEMONICODE_WORDS[MNEMONICODE_WORDS.length - 1] as string;
    const f58Max = formatJobId(UINT64_MAX).slice(1);
    expect(f58Max.endsWith("z")).toBe(false); // so adding one needs no carry
    for (const text of [
      "",
      "   ",
      "notanid",
      "notajobid",
      "ƒ",
      "f",
      "ƒ0",
      "ƒI",
      "ƒl",
      "ƒO",
      "ƒ6FP9YmD!",
      "ƒ6FP 9YmD",
      "ƒ6FP9YmD\u0000",
      "ƒƒ6FP9YmD",
      `ƒ${f58Max.slice(0, -1)}${F58_ALPHABET[F58_ALPHABET.indexOf(f58Max.slice(-1)) + 1]}`, // 2^64
      `ƒ2${"1".repeat(11)}`, // 58^11 > 2^64
      `ƒ${"1".repeat(12)}2`, // longer than any id, even though small
      "-1",
      "+1",
      "1e3",
      "1_000",
      "12a",
      " 1 2 ",
      "18446744073709551616",
      "99999999999999999999999",
      "0x",
      "0xg",
      "0X1f",
      "0x-1",
      "0x+1",
      "0x10000000000000000",
      "1.5",
      "0000.002e.8400",
      "0000.002e.8400.0000.0000",
      "000.002e.8400.0000",
      "00000.002e.8400.0000",
      "0000.002g.8400.0000",
      "0000..002e.8400.0000",
      "0000.002e.8400.0000.",
      " 0x00.002e.8400.0000",
      "job.",
      "job.123",
      "job.ƒ6FP9YmD",
      "kvs.0000.002e.8400.0000",
      "job.job.0000.002e.8400.0000",
      "alpha-sharon-cabaret--artist-academy",
      "alpha-sharon-cabaret--artist-academy-academy-academy",
      "alpha-sharon-cabaret--artist-academy-notaword",
      "alpha-sharon-cabaret---artist-academy-academy",
      "-alpha-sharon-cabaret--artist-academy-academy",
      "alpha-sharon-cabaret--artist-academy-academy-",
      "alpha-sharon-cabaret--artist-academy-yes", // a 24-bit remainder word
      "alpha sharon-cabaret--artist-academy-academy",
      "alpha-sharon-cabaret--artist-academy-\u212Ailo", // a Kelvin sign lowercases to "kilo"
      `${last}-${last}-${last}--academy-academy-academy`, // a group above 2^32-1
      `academy-academy-academy--${last}-${last}-${last}`,
      "1".repeat(300),
    ]) {
      expectInvalid(text);
    }
  });

  it("rejects values outside 0..2^64-1 and unknown encodings when formatting", () => {
    expect(() => formatJobId(-1n)).toThrow(InvalidJobIdError);
    expect(() => formatJobId(UINT64_MAX + 1n, "dec")).toThrow(InvalidJobIdError);
    expect(() => formatJobId(1n, "emoji" as JobIdEncoding)).toThrow(RangeError);
  });
});

describe("InvalidJobIdError", () => {
  it("quotes the input in a lowercase message and is recognized by name", () => {
    let caught: unknown;
    try {
      parseJobId("notanid");
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(InvalidJobIdError);
    expect(isInvalidJobIdError(caught)).toBe(true);
    expect((caught as Error).name).toBe("InvalidJobIdError");
    expect((caught as Error).message).toBe('invalid job id "notanid"');
    expect(isInvalidJobIdError({ name: "InvalidJobIdError" })).toBe(true);
    expect(isInvalidJobIdError(new Error("invalid job id"))).toBe(false);
    expect(isInvalidJobIdError(new RangeError("x"))).toBe(false);
    expect(isInvalidJobIdError("InvalidJobIdError")).toBe(false);
    expect(isInvalidJobIdError(null)).toBe(false);
  });

  it("truncates a very long input in the message but keeps all of it in input", () => {
    const input = `ƒ${"x".repeat(10_000)}`;
    const error = new InvalidJobIdError(input);
    expect(error.input).toBe(input);
    expect(error.message.length).toBeLessThan(100);
    expect(error.message.startsWith('invalid job id "ƒxxx')).toBe(true);
    expect(error.message.endsWith('…"')).toBe(true);
  });
});

describe("createFluidGenerator", () => {
  // RFC 19: [ timestamp:40 | generator id:14 | sequence:10 ]
  const fields = (id: bigint) => ({ ts: id >> 24n, gen: (id >> 10n) & 0x3fffn, seq: id & 0x3ffn });
  const EPOCH_MS = 1_795_935_000_000;

  const expectIncreasing = (ids: bigint[]) => {
    for (let i = 1; i < ids.length; i++) expect(ids[i] as bigint > (ids[i - 1] as bigint), `id ${i}`).toBe(true);
  };

  it("reproduces consecutive ids a real flux instance issued within one ms", () => {
    // jobs-o-ids.txt has two jobs submitted in the same ms: sequence 0 and 1 of generator 0.
    const t = readTranscript("jobs-o-ids.txt");
    const ids = lines(t.stdout)
      .slice(1)
      .map((line) => parseJobId(line.split(" ")[0] as string));
    const second = ids.find((id) => fields(id).seq === 1n);
    expect(second).toBeDefined();
    const first = (second as bigint) - 1n;
    expect(ids).toContain(first);
    const { ts, gen } = fields(first);
    const now = () => EPOCH_MS + Number(ts) + 0.7;
    const generator = createFluidGenerator({ epochMs: EPOCH_MS, generatorId: Number(gen), now });
    expect([generator.next(), generator.next()]).toEqual([first, second]);
  });

  it("puts ms since the epoch, the generator id and a per-ms sequence in their fields", () => {
    let clockMs = EPOCH_MS + 5;
    const generator = createFluidGenerator({ epochMs: EPOCH_MS, generatorId: 16383, now: () => clockMs });
    expect(fields(generator.next())).toEqual({ ts: 5n, gen: 16383n, seq: 0n });
    expect(fields(generator.next())).toEqual({ ts: 5n, gen: 16383n, seq: 1n });
    clockMs += 1000;
    expect(fields(generator.next())).toEqual({ ts: 1005n, gen: 16383n, seq: 0n });
  });

  it("moves the timestamp ahead when the 1024 ids of a ms run out, and never repeats", () => {
    const generator = createFluidGenerator({ epochMs: EPOCH_MS, generatorId: 7, now: () => EPOCH_MS + 100 });
    const ids = Array.from({ length: 3000 }, () => generator.next());
    expectIncreasing(ids);
    expect(fields(ids[1023] as bigint)).toEqual({ ts: 100n, gen: 7n, seq: 1023n });
    expect(fields(ids[1024] as bigint)).toEqual({ ts: 101n, gen: 7n, seq: 0n });
    expect(fields(ids[2999] as bigint)).toEqual({ ts: 102n, gen: 7n, seq: BigInt(2999 - 2048) });
  });

  it("keeps increasing when the clock goes backwards or is before the epoch", () => {
    const clock = [EPOCH_MS + 50_000, EPOCH_MS + 10, EPOCH_MS - 60_000, EPOCH_MS + 49_999, EPOCH_MS + 50_001];
    let i = 0;
    const generator = createFluidGenerator({ epochMs: EPOCH_MS, now: () => clock[i++] as number });
    const ids = clock.map(() => generator.next());
    expectIncreasing(ids);
    expect(fields(ids[4] as bigint)).toEqual({ ts: 50_001n, gen: 0n, seq: 0n });
    const early = createFluidGenerator({ epochMs: EPOCH_MS, now: () => EPOCH_MS - 1 });
    expect(fields(early.next()).ts).toBe(0n);
  });

  it("starts after lastId across a restart, whatever generator issued it", () => {
    const now = () => EPOCH_MS + 10;
    const at = (ts: bigint, gen: bigint, seq: bigint) => (ts << 24n) | (gen << 10n) | seq;
    const cases: [lastId: bigint, expected: bigint][] = [
      [at(10n, 5n, 3n), at(10n, 5n, 4n)], // same generator, same ms
      [at(10n, 5n, 1023n), at(11n, 5n, 0n)], // its sequence was used up
      [at(10n, 9n, 0n), at(11n, 5n, 0n)], // a higher generator id in the same ms
      [at(10n, 2n, 1023n), at(10n, 5n, 0n)], // a lower one
      [at(20n, 2n, 7n), at(20n, 5n, 0n)], // a lower one, ahead of the clock
      [at(9n, 5n, 1023n), at(10n, 5n, 0n)], // older than the clock: the clock wins
      [at(1_000_000n, 5n, 0n), at(1_000_000n, 5n, 1n)], // from the future (a clock that jumped back)
    ];
    for (const [lastId, expected] of cases) {
      const generator = createFluidGenerator({ epochMs: EPOCH_MS, generatorId: 5, lastId, now });
      const first = generator.next();
      expect(first, `after ${lastId}`).toBe(expected);
      expect(generator.next() > first).toBe(true);
    }
  });

  it("defaults to Date.now and generator id 0", () => {
    const generator = createFluidGenerator({ epochMs: Date.now() });
    const { ts, gen } = fields(generator.next());
    expect(ts).toBeLessThan(60_000n);
    expect(gen).toBe(0n);
  });

  it("throws once the 40-bit timestamp is used up instead of wrapping", () => {
    const late = createFluidGenerator({ epochMs: 0, now: () => 2 ** 40 });
    expect(() => late.next()).toThrow(RangeError);
    const full = createFluidGenerator({ epochMs: EPOCH_MS, lastId: UINT64_MAX, now: () => EPOCH_MS });
    expect(() => full.next()).toThrow(RangeError);
    const lastMs = createFluidGenerator({ epochMs: 0, now: () => 2 ** 40 - 1 });
    expect(fields(lastMs.next()).ts).toBe((1n << 40n) - 1n);
  });

  it("rejects invalid options", () => {
    for (const generatorId of [-1, 16384, 1.5, Number.NaN]) {
      expect(() => createFluidGenerator({ epochMs: 0, generatorId })).toThrow(RangeError);
    }
    expect(() => createFluidGenerator({ epochMs: 0, lastId: -1n })).toThrow(RangeError);
    expect(() => createFluidGenerator({ epochMs: 0, lastId: UINT64_MAX + 1n })).toThrow(RangeError);
    expect(() => createFluidGenerator({ epochMs: Number.NaN })).toThrow(RangeError);
    const broken = createFluidGenerator({ epochMs: 0, now: () => Number.NaN });
    expect(() => broken.next()).toThrow(RangeError);
  });
});
