import { describe, expect, it } from "vitest";
import { createBasicCache } from "../../../server/auth/basic-cache.js";

describe("basic credential cache", () => {
  it("remembers a verified pair with its token version, and only that exact pair", () => {
    const cache = createBasicCache();
    cache.set("alice", "pw", "v1");
    expect(cache.get("alice", "pw")).toBe("v1");
    expect(cache.get("alice", "pw2")).toBeUndefined();
    expect(cache.get("alic", "epw")).toBeUndefined();
    expect(cache.get("bob", "pw")).toBeUndefined();
  });

  it("keeps the pair no longer than the ttl", async () => {
    const cache = createBasicCache({ ttlMs: 40 });
    cache.set("alice", "pw", "v1");
    await new Promise((r) => setTimeout(r, 60));
    expect(cache.get("alice", "pw")).toBeUndefined();
  });

  it("drops the oldest entries beyond its size", () => {
    const cache = createBasicCache({ maxEntries: 2 });
    cache.set("a", "1", "v");
    cache.set("b", "2", "v");
    cache.set("c", "3", "v");
    expect(cache.get("a", "1")).toBeUndefined();
    expect(cache.get("c", "3")).toBe("v");
  });

  it("separates name and password, so no name and password pair collides with another split of the same text", () => {
    const cache = createBasicCache();
    cache.set("ab", "c", "v");
    expect(cache.get("a", "bc")).toBeUndefined();
    cache.set("a", "b\0c", "v");
    expect(cache.get("a\0b", "c")).toBeUndefined();
  });
});
