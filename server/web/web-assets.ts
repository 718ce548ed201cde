/**
 * The built web UI (clients/web/build.ts writes it to dist/web), held in memory with an ETag
 * and a gzip copy per file. Read on first use and read again while missing, so a server
 * started before the build serves the UI once it exists.
 */
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

/** dist/web at the repository root, where `npm run build:web` writes. */
export const DEFAULT_ASSETS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../dist/web");

export interface Asset {
  body: Buffer;
  gzip: Buffer | undefined;
  contentType: string;
  etag: string;
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".txt": "text/plain; charset=utf-8",
};

export interface WebAssets {
  /** The file by name (e.g. "app.js"), or undefined when the UI is not built or has no such file. */
  get(name: string): Promise<Asset | undefined>;
}

function toAsset(name: string, body: Buffer): Asset {
  const contentType = CONTENT_TYPES[path.extname(name)] ?? "application/octet-stream";
  const compressible = !contentType.startsWith("image/") || name.endsWith(".svg");
  return {
    body,
    gzip: compressible && body.length > 1024 ? gzipSync(body) : undefined,
    contentType,
    etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`,
  };
}

export function createWebAssets(dir: string = DEFAULT_ASSETS_DIR): WebAssets {
  let loading: Promise<Map<string, Asset> | undefined> | undefined;

  async function load(): Promise<Map<string, Asset> | undefined> {
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch {
      return undefined;
    }
    if (!names.includes("index.html")) return undefined;
    const assets = new Map<string, Asset>();
    for (const name of names) {
      const file = path.join(dir, name);
      if (!(await fs.stat(file)).isFile()) continue;
      assets.set(name, toAsset(name, await fs.readFile(file)));
    }
    return assets;
  }

  return {
    async get(name) {
      loading ??= load();
      let assets = await loading;
      if (!assets) {
        loading = load();
        assets = await loading;
      }
      return assets?.get(name);
    },
  };
}
