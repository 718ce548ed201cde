import { describe, expect, it } from "vitest";
import { createFrameDecoder, decodeMessageBody, encodeMessage, encodeJsonPayload, MsgType } from "../../../../../server/backends/flux/native/index.js";

const frameOf = (tag: number, size = 10) =>
  encodeMessage({ type: MsgType.RESPONSE, flags: 0, userid: 0, rolemask: 5, aux1: 0, aux2: tag, routes: [], topic: "t", payload: encodeJsonPayload({ s: "x".repeat(size) }) });

const tagsOf = (bodies: Buffer[]) => bodies.map((b) => decodeMessageBody(b).aux2);

describe("frame decoder", () => {
  it("gives the same messages however two frames are split in two reads", () => {
    const stream = Buffer.concat([frameOf(1), frameOf(2, 300)]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const d = createFrameDecoder();
      const got = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
      expect(tagsOf(got)).toEqual([1, 2]);
      expect(d.bufferedBytes).toBe(0);
    }
  });

  it("reads frames one byte at a time", () => {
    const stream = Buffer.concat([frameOf(1), frameOf(2, 255), frameOf(3, 0)]);
    const d = createFrameDecoder();
    const got: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) got.push(...d.push(stream.subarray(i, i + 1)));
    expect(tagsOf(got)).toEqual([1, 2, 3]);
  });

  it("hands out a thousand coalesced frames from one read, in order", () => {
    const frames = Array.from({ length: 1000 }, (_, i) => frameOf(i + 1, i % 300));
    const d = createFrameDecoder();
    expect(tagsOf(d.push(Buffer.concat(frames)))).toEqual(frames.map((_, i) => i + 1));
  });

  it("reassembles an 8 MiB frame arriving in 64 KiB reads", () => {
    const big = frameOf(9, 8 * 1024 * 1024);
    const d = createFrameDecoder();
    const got: Buffer[] = [];
    for (let i = 0; i < big.length; i += 65536) got.push(...d.push(big.subarray(i, i + 65536)));
    expect(got).toHaveLength(1);
    expect(got[0]!.length).toBe(big.length - 8);
  });

  it("accepts RFC 3's byte order for the magic and remembers it", () => {
    const f = frameOf(4);
    const rfc = Buffer.concat([Buffer.from([0xff, 0xee, 0x00, 0x12]), f.subarray(4)]);
    const d = createFrameDecoder();
    expect(d.peerMagic).toBe("host");
    expect(tagsOf(d.push(rfc))).toEqual([4]);
    expect(d.peerMagic).toBe("rfc");
  });

  it("refuses a bad magic and a length over the limit", () => {
    expect(() => createFrameDecoder().push(Buffer.from("GET / HTTP/1.1\r\n"))).toThrow(/bad frame magic/);
    const f = frameOf(1, 100);
    expect(() => createFrameDecoder({ maxFrameBytes: 50 }).push(f)).toThrow(/exceeds/);
  });
});
