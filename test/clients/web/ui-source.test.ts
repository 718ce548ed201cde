/**
 * Checks on the UI's source and bundle: text is only ever inserted as text, nothing is
 * loaded from another origin, and the bundle contains no framework.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { buildWeb } from "../../../clients/web/build.js";

const webDir = fileURLToPath(new URL("../../../clients/web/", import.meta.url));

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sources(full)));
    else if (/\.(ts|html|css)$/.test(entry.name)) out.push(full);
  }
  return out;
}

describe("the web UI source", () => {
  it("never turns strings into markup (no innerHTML, outerHTML, insertAdjacentHTML, document.write, eval)", async () => {
    const files = (await sources(path.join(webDir, "src"))).filter((f) => f.endsWith(".ts"));
    expect(files.length).toBeGreaterThan(10);
    const sinks = /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\(|createContextualFragment|setHTMLUnsafe/;
    const offenders = [];
    for (const file of files) {
      // Comments may name the sinks (to say they are not used); code may not.
      const text = (await fs.readFile(file, "utf8")).replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
      if (sinks.test(text)) offenders.push(path.relative(webDir, file));
    }
    expect(offenders).toEqual([]);
  });

  it("loads nothing from another origin and has no inline script or style", async () => {
    const html = await fs.readFile(path.join(webDir, "index.html"), "utf8");
    expect(html).not.toMatch(/(?:src|href)=["'](?:https?:)?\/\//);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(html).not.toMatch(/<style|style=/);
    const css = await fs.readFile(path.join(webDir, "app.css"), "utf8");
    expect(css).not.toMatch(/@import|url\(\s*["']?(?:https?:)?\/\//);
  });

  it("builds into one module with a source map, into the folder asked for", async () => {
    const outDir = await fs.mkdtemp(path.join(fileURLToPath(new URL("../../../dist/", import.meta.url)), "web-test-"));
    try {
      const { files } = await buildWeb({ outDir });
      expect(files).toEqual(expect.arrayContaining(["app.css", "app.js", "app.js.map", "favicon.svg", "index.html"]));
      const js = await fs.readFile(path.join(outDir, "app.js"), "utf8");
      // Bundled: no bare import left for the browser to resolve.
      expect(js).not.toMatch(/\bimport\s*(?:[\w{}*\s,]+from\s*)?["'][^."'/]/);
      expect(js).toContain("sourceMappingURL=app.js.map");
    } finally {
      await fs.rm(outDir, { recursive: true, force: true });
    }
  });
});
