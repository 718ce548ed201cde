import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadTokenKey, TOKEN_KEY_FILE } from "../../../server/auth/token-key.js";

describe("token key", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "flux-key-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("generates a key once, stores it 0600, and reuses it on the next start", () => {
    const dataDir = path.join(dir, "data");
    const first = loadTokenKey({ dataDir });
    expect(first.source).toBe("generated");
    expect(first.key.length).toBeGreaterThanOrEqual(32);
    const file = path.join(dataDir, TOKEN_KEY_FILE);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const second = loadTokenKey({ dataDir });
    expect(second.source).toBe("data dir");
    expect(Buffer.from(second.key).equals(Buffer.from(first.key))).toBe(true);
    expect(fs.readdirSync(dataDir)).toEqual([TOKEN_KEY_FILE]);
  });

  it("tightens a key file someone made readable to others", () => {
    loadTokenKey({ dataDir: dir });
    const file = path.join(dir, TOKEN_KEY_FILE);
    fs.chmodSync(file, 0o644);
    loadTokenKey({ dataDir: dir });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it("refuses a damaged key file rather than signing with a weak key", () => {
    fs.writeFileSync(path.join(dir, TOKEN_KEY_FILE), "short\n", { mode: 0o600 });
    expect(() => loadTokenKey({ dataDir: dir })).toThrow(/damaged/);
  });

  it("uses FLUX_RESTFUL_TOKEN_KEY when set, writing nothing", () => {
    const configured = "k".repeat(40);
    const loaded = loadTokenKey({ dataDir: dir, configured });
    expect(loaded.source).toBe("FLUX_RESTFUL_TOKEN_KEY");
    expect(Buffer.from(loaded.key).toString()).toBe(configured);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("refuses a short configured key and one equal to FLUX_SECRET_KEY", () => {
    expect(() => loadTokenKey({ dataDir: dir, configured: "too-short" })).toThrow(/at least 32 bytes/);
    const same = "s".repeat(40);
    expect(() => loadTokenKey({ dataDir: dir, configured: same, secretKey: same })).toThrow(/must differ/);
  });
});
