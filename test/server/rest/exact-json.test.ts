import { describe, expect, it } from "vitest";
import { stringifyExact } from "../../../server/rest/exact-json.js";

describe("stringifyExact", () => {
  it("writes bigints past 2^53 as exact JSON integers", () => {
    const id = (1n << 63n) + 12345n;
    const text = stringifyExact({ id, list: [id] });
    expect(text).toBe(`{"id":${id},"list":[${id}]}`);
    // A JS number would have rounded it.
    expect(text).not.toContain(String(Number(id)));
  });

  it("keeps a Map's insertion order, where an object would move integer-like keys first", () => {
    const map = new Map<string, number>([
      ["9007199254740993", 1],
      ["5", 2],
      ["a", 3],
    ]);
    expect(stringifyExact(map)).toBe('{"9007199254740993":1,"5":2,"a":3}');
    expect(JSON.stringify({ b: 1, "5": 2 })).toBe('{"5":2,"b":1}');
  });

  it("matches JSON.stringify on ordinary values and leaves out undefined members", () => {
    const value = { s: 'quote " and 🥞\n', n: 1.5, t: true, f: false, z: null, nested: { a: [1, "x", { b: null }] }, gone: undefined };
    expect(stringifyExact(value)).toBe(JSON.stringify(value));
    expect(stringifyExact([Number.NaN, Number.POSITIVE_INFINITY])).toBe("[null,null]");
  });
});
