/**
 * Builds the web UI into dist/web: one bundled ES module (app.js, with everything it imports,
 * the SDK and connect-web included), the stylesheet, the page shell and the icon. The server
 * serves that folder as is, so a cluster without Internet access gets every asset from it.
 *
 * `npm run build:web` runs this file; `npm start` and `npm test` run it first.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as esbuild from "esbuild";

const webDir = path.dirname(fileURLToPath(import.meta.url));

/** Where the built UI goes unless told otherwise: dist/web at the repository root. */
export const DEFAULT_WEB_OUT_DIR = path.resolve(webDir, "../../dist/web");

export interface BuildWebOptions {
  /** Defaults to DEFAULT_WEB_OUT_DIR. */
  outDir?: string;
  /** Defaults to true. */
  minify?: boolean;
}

export interface BuildWebResult {
  outDir: string;
  /** The files written, relative to outDir. */
  files: string[];
}

/** Files copied verbatim next to the bundle. */
const STATIC_FILES = ["index.html", "app.css", "favicon.svg"];

export async function buildWeb(options: BuildWebOptions = {}): Promise<BuildWebResult> {
  const outDir = options.outDir ?? DEFAULT_WEB_OUT_DIR;
  // A fresh folder next to the old one, swapped in at the end: a server reading the old
  // folder meanwhile never sees a half-written bundle.
  const tmpDir = `${outDir}.tmp-${process.pid}`;
  await fs.rm(tmpDir, { recursive: true, force: true });
  await fs.mkdir(tmpDir, { recursive: true });
  try {
    await esbuild.build({
      entryPoints: [path.join(webDir, "src/main.ts")],
      outfile: path.join(tmpDir, "app.js"),
      bundle: true,
      format: "esm",
      platform: "browser",
      target: ["es2022"],
      minify: options.minify ?? true,
      sourcemap: "linked",
      legalComments: "linked",
      logLevel: "silent",
    });
    for (const file of STATIC_FILES) await fs.copyFile(path.join(webDir, file), path.join(tmpDir, file));
    await swapIn(tmpDir, outDir);
  } catch (e) {
    await fs.rm(tmpDir, { recursive: true, force: true });
    throw e;
  }
  return { outDir, files: (await fs.readdir(outDir)).sort() };
}

/** Replaces outDir by tmpDir; retried because two builds (two test runs) may swap at once. */
async function swapIn(tmpDir: string, outDir: string): Promise<void> {
  const oldDir = `${outDir}.old-${process.pid}`;
  for (let attempt = 0; ; attempt++) {
    await fs.rm(oldDir, { recursive: true, force: true });
    await fs.rename(outDir, oldDir).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== "ENOENT") throw e;
    });
    try {
      await fs.rename(tmpDir, outDir);
      break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== "ENOTEMPTY" && code !== "EEXIST") || attempt >= 5) throw e;
    }
  }
  await fs.rm(oldDir, { recursive: true, force: true });
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const started = Date.now();
  buildWeb().then(
    ({ outDir, files }) => {
      process.stdout.write(`web UI built in ${Date.now() - started} ms: ${outDir} (${files.join(", ")})\n`);
    },
    (e: unknown) => {
      process.stderr.write(`web UI build failed: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
