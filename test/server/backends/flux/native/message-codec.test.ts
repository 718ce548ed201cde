import { describe, expect, it } from "vitest";
import { parseExactJson } from "../../../../../server/backends/flux/exact-json.js";
import {
  decodeJsonPayload,
  decodeMessageBody,
  encodeJsonPayload,
  encodeMessage,
  FluxProtocolError,
  MsgFlag,
  parseJsonExactFast,
  MsgType,
  stringifyExact,
  type FluxMessage,
} from "../../../../../server/backends/flux/native/index.js";

const hex = (s: string) => Buffer.from(s.replace(/[^0-9a-f]/gi, ""), "hex");

describe("message codec", () => {
  it("encodes broker.ping byte for byte as libflux sends it (flux-wire.md, 46 bytes)", () => {
    // 12 00 ee ff 00 00 00 26 | 00 | 0b "broker.ping" | 03 7b 7d 00 | 14 8e 01 01 0b ff ff ff ff 00 00 00 00 ff ff ff ff 00 00 00 07
    const expected = Buffer.concat([
      hex("1200eeff 00000026 00 0b"),
      Buffer.from("broker.ping"),
      hex("03 7b7d00 14 8e01010b ffffffff 00000000 ffffffff 00000007"),
    ]);
    const frame = encodeMessage({
      type: MsgType.REQUEST,
      flags: 0,
      userid: 0xffffffff,
      rolemask: 0,
      aux1: 0xffffffff,
      aux2: 7,
      routes: [],
      topic: "broker.ping",
      payload: encodeJsonPayload({}),
    });
    expect(frame.length).toBe(46);
    expect(frame).toEqual(expected);
  });

  it("decodes the real job-ingest.submit reply (flux-wire.md)", () => {
    // 00 | 11 "job-ingest.submit" | 16 '{"id":24516629626880}\0' | 14 8e 01 02 0b 00000000 00000005 00000000 00000001
    const body = Buffer.concat([
      hex("00 11"),
      Buffer.from("job-ingest.submit"),
      hex("16"),
      Buffer.from('{"id":24516629626880}\0'),
      hex("14 8e01020b 00000000 00000005 00000000 00000001"),
    ]);
    const msg = decodeMessageBody(body);
    expect(msg).toMatchObject({ type: MsgType.RESPONSE, flags: 0x0b, userid: 0, rolemask: 5, aux1: 0, aux2: 1, topic: "job-ingest.submit" });
    expect(msg.routes).toEqual([]);
    expect(decodeJsonPayload(msg.payload!)).toEqual({ id: 24516629626880 });
  });

  it("decodes the stream end frame: flags 0x49, errnum ENODATA, no payload", () => {
    const body = Buffer.concat([hex("00 17"), Buffer.from("job-info.eventlog-watch"), hex("14 8e010249 00000000 00000005 0000003d 00000009")]);
    const msg = decodeMessageBody(body);
    expect(msg.flags & MsgFlag.STREAMING).toBe(MsgFlag.STREAMING);
    expect(msg.aux1).toBe(61);
    expect(msg.payload).toBeUndefined();
  });

  it("round-trips every field, routes included", () => {
    const msg: FluxMessage = {
      type: MsgType.RESPONSE,
      flags: MsgFlag.STREAMING,
      userid: 1000,
      rolemask: 6,
      aux1: 2,
      aux2: 0xfffffffe,
      routes: [Buffer.from("a-uuid"), Buffer.from("b")],
      topic: "job-list.list",
      payload: Buffer.from("job is inactive\0"),
    };
    const frame = encodeMessage(msg);
    expect(frame.readUInt32BE(4)).toBe(frame.length - 8); // the code's length, not RFC 3's
    const back = decodeMessageBody(frame.subarray(8));
    expect(back).toEqual({ ...msg, flags: MsgFlag.STREAMING | MsgFlag.ROUTE | MsgFlag.TOPIC | MsgFlag.PAYLOAD });
  });

  it("uses a 1-byte size up to 254 bytes and 0xFF + 4 bytes from 255 on", () => {
    for (const [size, prefix] of [
      [0, 1],
      [254, 1],
      [255, 5],
      [70_000, 5],
    ] as const) {
      const payload = Buffer.alloc(size, 0x61);
      const frame = encodeMessage({ type: MsgType.EVENT, flags: 0, userid: 0, rolemask: 0, aux1: 0, aux2: 0, payload });
      // header 8 + payload part + PROTO part (1 + 20)
      expect(frame.length).toBe(8 + prefix + size + 21);
      expect(frame[8]).toBe(prefix === 1 ? size : 0xff);
      expect(decodeMessageBody(frame.subarray(8)).payload!.equals(payload)).toBe(true);
    }
  });

  it("accepts the 4-byte size form for short parts too", () => {
    const msg: FluxMessage = { type: MsgType.RESPONSE, flags: 0, userid: 0, rolemask: 5, aux1: 0, aux2: 3, routes: [], topic: "t", payload: Buffer.from("{}\0") };
    const long = encodeMessage(msg, { longSizes: true });
    const short = encodeMessage(msg);
    expect(long.length).toBe(short.length + 4 * 4); // four parts, 4 more bytes each
    expect(decodeMessageBody(long.subarray(8))).toEqual(decodeMessageBody(short.subarray(8)));
  });

  it("carries a 16 MiB payload intact", () => {
    const big = Buffer.alloc(16 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
    const frame = encodeMessage({ type: MsgType.REQUEST, flags: 0, userid: 0, rolemask: 0, aux1: 0, aux2: 1, topic: "x", payload: big });
    expect(decodeMessageBody(frame.subarray(8)).payload!.equals(big)).toBe(true);
  });

  it("refuses bodies that are not messages", () => {
    const good = encodeMessage({ type: MsgType.REQUEST, flags: 0, userid: 0, rolemask: 0, aux1: 0, aux2: 1, topic: "x" }).subarray(8);
    const bad = (b: Buffer) => () => decodeMessageBody(b);
    expect(bad(Buffer.alloc(0))).toThrow(FluxProtocolError);
    expect(bad(good.subarray(0, good.length - 1))).toThrow(/overruns/);
    const wrongMagic = Buffer.from(good);
    wrongMagic[good.length - 20] = 0x8f;
    expect(bad(wrongMagic)).toThrow(/PROTO magic/);
    const wrongVersion = Buffer.from(good);
    wrongVersion[good.length - 19] = 2;
    expect(bad(wrongVersion)).toThrow(/version/);
    const wrongType = Buffer.from(good);
    wrongType[good.length - 18] = 3;
    expect(bad(wrongType)).toThrow(/type/);
    // TOPIC flag set but only the PROTO part present
    const noTopic = Buffer.concat([hex("14 8e010101 00000000 00000000 00000000 00000001")]);
    expect(bad(noTopic)).toThrow(/topic/);
    expect(bad(hex("ff 0000"))).toThrow(/truncated/);
  });
});

describe("payloads", () => {
  it("end in one NUL and keep ids above 2^53 exact both ways", () => {
    const id = 2n ** 53n + 1n;
    const bytes = encodeJsonPayload({ id, attrs: ["all"], note: undefined, t: 1.5 });
    expect(bytes.toString("utf8")).toBe('{"id":9007199254740993,"attrs":["all"],"t":1.5}\0');
    expect(decodeJsonPayload(bytes)).toEqual({ id, attrs: ["all"], t: 1.5 });
    expect(decodeJsonPayload(Buffer.from('{"id":18446744073709551615}\0')).id).toBe(18446744073709551615n);
  });

  it("writes strings with escapes the C side reads back", () => {
    const text = stringifyExact({ s: 'a"b\\c\n\u0000🥞' });
    expect(JSON.parse(text)).toEqual({ s: 'a"b\\c\n\u0000🥞' });
  });

  it("parses fast yet as exactly as the exact parser, whatever digits hide in strings", () => {
    // A seeded generator of awkward JSON: long integers as values, inside strings, after
    // escaped quotes and backslashes, in fractions and exponents, negative, at the edges of 2^53.
    let seed = 7; // mulberry32
    const rnd = (n: number) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    const pieces = ["9007199254740991", "9007199254740992", "9007199254740993", "-9007199254740993", "18446744073709551615", "1234567890123456", "0", "1.5", "0.12345678901234567891", "12345678901234567e2", "1795935317.9940498"];
    const strings = ['"12345678901234567"', '"a\\\\"', '"x\\"12345678901234567"', '"x\\\\\\"12345678901234567"', '"\\\\"', '"ƒ6FP9YmD"', '":12345678901234567,"', '""'];
    const value = (depth: number): string => {
      const k = rnd(depth > 2 ? 2 : 4);
      if (k === 0) return pieces[rnd(pieces.length)]!;
      if (k === 1) return strings[rnd(strings.length)]!;
      if (k === 2) return `[${Array.from({ length: rnd(4) }, () => value(depth + 1)).join(",")}]`;
      return `{${Array.from({ length: rnd(4) }, (_, i) => `"k${i}":${value(depth + 1)}`).join(", ")}}`;
    };
    const show = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? `${x}n` : x));
    for (let i = 0; i < 2000; i++) {
      const text = `{"v":${value(0)},"id":${pieces[rnd(pieces.length)]}}`;
      expect(show(parseJsonExactFast(text)), text).toBe(show(parseExactJson(text)));
    }
  });

  it("refuses a payload that is not a JSON object", () => {
    expect(() => decodeJsonPayload(Buffer.from("[1]\0"))).toThrow(FluxProtocolError);
    expect(() => decodeJsonPayload(Buffer.from("job is inactive\0"))).toThrow(FluxProtocolError);
    expect(() => stringifyExact({ n: Number.NaN })).toThrow(TypeError);
  });
});
