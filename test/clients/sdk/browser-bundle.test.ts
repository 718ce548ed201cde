/**
 * The SDK's main entry is what the web UI bundles: it must build for the browser (no Node
 * modules) and work with web APIs alone. The bundle is run in a Node process whose Node-only
 * globals (process, Buffer, require) are removed first, against a real server.
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/start-test-server.js";

let server: TestServer;
let dir: string;
let bundle: string;

beforeAll(async () => {
  server = await startTestServer();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "sdk-bundle-"));
  const result = await build({
    entryPoints: [path.resolve("clients/sdk/index.ts")],
    bundle: true,
    platform: "browser",
    format: "esm",
    write: false,
    logLevel: "silent",
  });
  bundle = result.outputFiles[0]!.text;
  await fs.writeFile(path.join(dir, "sdk.mjs"), bundle);
});
afterAll(async () => {
  await server?.close();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

/** Runs `body` (an async function body with `sdk` in scope) where only web globals exist. */
function runInWebGlobals(body: string, origin: string): Promise<{ stdout: string; stderr: string; code: number }> {
  const script = `
    const out = process.stdout;
    const exit = process.exit.bind(process);
    for (const name of ["process", "Buffer", "require", "module", "__filename", "__dirname", "global", "setImmediate"]) {
      delete globalThis[name];
    }
    globalThis.location = { origin: ${JSON.stringify(origin)} };
    const sdk = await import(${JSON.stringify(path.join(dir, "sdk.mjs"))});
    try {
      const result = await (async () => { ${body} })();
      out.write(JSON.stringify(result), () => exit(0));
    } catch (e) {
      out.write(JSON.stringify({ error: String(e && e.stack || e) }), () => exit(1));
    }
  `;
  return new Promise((resolve) => {
    execFile(process.execPath, ["--input-type=module", "-e", script], { timeout: 20_000, env: { PATH: process.env.PATH } }, (err, stdout, stderr) => {
      resolve({ stdout, stderr, code: err ? Number(err.code ?? 1) : 0 });
    });
  });
}

describe("the SDK in a browser", () => {
  it("bundles without Node modules or environment reads", () => {
    expect(bundle.length).toBeGreaterThan(1000);
    expect(bundle).not.toMatch(/from\s*"node:|require\("node:/);
    expect(bundle).not.toContain("process.env");
  });

  it("submits, streams output and lists nodes with web APIs alone, at the page's origin", async () => {
    const res = await runInWebGlobals(
      `
      const client = sdk.createFluxClient();
      const id = await client.submit({ command: ["sh", "-c", "echo from the browser; exit 2"] });
      let text = "";
      let end;
      for await (const item of client.streamOutput(id)) {
        if (item.case === "chunk") text += new TextDecoder().decode(item.value.data);
        if (item.case === "end") end = item.value.exitCode;
      }
      const nodes = await client.nodes();
      return { id, text, end, nodes: nodes.length, hasProcess: typeof process !== "undefined" };
      `,
      server.url,
    );
    expect(res.stderr).toBe("");
    const result = JSON.parse(res.stdout) as Record<string, unknown>;
    expect(result).toMatchObject({ text: "from the browser\n", end: 2, hasProcess: false });
    expect(result.id).toMatch(/^ƒ/);
    expect(result.nodes).toBeGreaterThan(0);
  });

  it("speaks gRPC-Web and refuses plain gRPC, which fetch cannot carry", async () => {
    const res = await runInWebGlobals(
      `
      const web = await sdk.createFluxClient({ protocol: "grpc-web" }).nodes();
      let refused = "";
      try { sdk.createFluxClient({ protocol: "grpc" }); } catch (e) { refused = e.message; }
      return { web: web.length, refused };
      `,
      server.url,
    );
    const result = JSON.parse(res.stdout) as { web: number; refused: string };
    expect(result.web).toBeGreaterThan(0);
    expect(result.refused).toContain('protocol "grpc" needs HTTP/2 trailers');
  });
});
