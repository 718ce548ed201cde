import { describe, expect, it } from "vitest";
import { DEFAULT_SCRYPT_COST, hashPassword, MAX_PASSWORD_LENGTH, verifyPassword } from "../../../server/auth/password-hash.js";

const cheap = { log2N: 10, r: 8, p: 1 };

describe("password hashing", () => {
  it("verifies the right password and refuses a wrong one", async () => {
    const stored = await hashPassword("correct horse", cheap);
    expect(await verifyPassword("correct horse", stored)).toBe(true);
    expect(await verifyPassword("correct horsE", stored)).toBe(false);
    expect(await verifyPassword("", stored)).toBe(false);
  });

  it("uses a fresh salt per hash, so equal passwords store differently", async () => {
    const a = await hashPassword("same", cheap);
    const b = await hashPassword("same", cheap);
    expect(a).not.toBe(b);
    expect(a.split("$")[4]).not.toBe(b.split("$")[4]);
    expect(await verifyPassword("same", a)).toBe(true);
    expect(await verifyPassword("same", b)).toBe(true);
  });

  it("records scrypt and its cost in the stored string, and the default is memory-hard", async () => {
    const stored = await hashPassword("pw");
    expect(stored).toMatch(/^scrypt\$15\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(DEFAULT_SCRYPT_COST).toEqual({ log2N: 15, r: 8, p: 1 });
    expect(stored).not.toContain("pw$");
  });

  it("refuses unreadable hashes and absurd costs instead of throwing", async () => {
    const stored = await hashPassword("pw", cheap);
    const parts = stored.split("$");
    expect(await verifyPassword("pw", "")).toBe(false);
    expect(await verifyPassword("pw", "bcrypt$2b$whatever")).toBe(false);
    expect(await verifyPassword("pw", [...parts.slice(0, 1), "40", ...parts.slice(2)].join("$"))).toBe(false);
    expect(await verifyPassword("pw", [...parts.slice(0, 5), "AAAA"].join("$"))).toBe(false);
  });

  it("refuses an over-long password without running the KDF on it", async () => {
    const atLimit = await hashPassword("x".repeat(MAX_PASSWORD_LENGTH), cheap);
    expect(await verifyPassword("x".repeat(MAX_PASSWORD_LENGTH), atLimit)).toBe(true);
    const overLimit = await hashPassword("x".repeat(MAX_PASSWORD_LENGTH + 1), cheap);
    expect(await verifyPassword("x".repeat(MAX_PASSWORD_LENGTH + 1), overLimit)).toBe(false);
  });

  it("treats canonically equal unicode passwords as equal", async () => {
    const stored = await hashPassword("caf\u00e9", cheap);
    expect(await verifyPassword("cafe\u0301", stored)).toBe(true);
  });
});
