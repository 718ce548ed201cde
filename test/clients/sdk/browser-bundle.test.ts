/**
 * The SDK's main entry is what the web UI bundles: it must build for the browser (no Node
 * modules) and work with web APIs alone. The browser bundle is evaluated in a scope where the
 * Node-only globals (process, require, Buffer, global, setImmediate) are undefined and
 * `location` is a page's, then used against a real server.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import type * as Sdk from "../../../clients/sdk/index.js";
import { startTestServer, type TestServer } from "../../support/start-test-server.js";

let server: TestServer;
let bundle: string;
let inputs: string[];

beforeAll(async () => {
  server = await startTestServer();
  const result = await build({
    entryPoints: [path.resolve("clients/sdk/index.ts")],
    bundle: true,
    platform: "browser",
    format: "iife",
    globalName: "FluxSdk",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  bundle = result.outputFiles[0]!.text;
  inputs = Object.keys(result.metafile.inputs);
});
afterAll(async () => {
  await server?.close();
});

const NODE_ONLY = ["process", "require", "Buffer", "global", "setImmediate", "module", "__dirname", "__filename"];

/**
 * Evaluates the bundle as a page at `origin` would: Node-only names are undefined in its scope,
 * and globalThis.location is the page's (until the test ends).
 */
function loadInPage(origin: string): { sdk: typeof Sdk; seesProcess: boolean } {
  Object.defineProperty(globalThis, "location", { value: { origin }, configurable: true });
  onTestFinished(() => {
    delete (globalThis as { location?: unknown }).location;
  });
  const evaluate = new Function(...NODE_ONLY, `${bundle};\nreturn { sdk: FluxSdk, seesProcess: typeof process !== "undefined" };`);
  return evaluate(...NODE_ONLY.map(() => undefined)) as { sdk: typeof Sdk; seesProcess: boolean };
}

describe("the SDK in a browser", () => {
  it("bundles without Node modules, and its own files read no environment", async () => {
    expect(bundle).not.toMatch(/require\("node:|from\s*"node:/);
    const own = inputs.filter((f) => f.startsWith("clients/"));
    expect(own).toEqual(expect.arrayContaining(["clients/sdk/index.ts", "clients/sdk/flux-client.ts", "clients/sdk/auth-transport.ts"]));
    expect(own).not.toContain("clients/sdk/node.ts");
    for (const file of own) expect(await fs.readFile(file, "utf8"), file).not.toMatch(/\bprocess\.|\bBuffer\b/);
  });

  it("submits, streams output and lists nodes at the page's origin, with web APIs alone", async () => {
    const { sdk, seesProcess } = loadInPage(server.url);
    expect(seesProcess).toBe(false);
    const client = sdk.createFluxClient();

    const id = await client.submit({ command: ["sh", "-c", "echo from the browser; exit 2"] });
    let text = "";
    let end: number | undefined;
    for await (const item of client.streamOutput(id)) {
      if (item.case === "chunk") text += new TextDecoder().decode(item.value.data);
      if (item.case === "end") end = item.value.exitCode;
    }

    expect(id).toMatch(/^ƒ/);
    expect(text).toBe("from the browser\n");
    expect(end).toBe(2);
    expect((await client.nodes()).length).toBeGreaterThan(0);
  });

  it("signs the legacy payload with WebCrypto", async () => {
    const { sdk } = loadInPage(server.url);
    const jwt = await sdk.signLegacyPayload("alice", "pw", "secret");
    const payload = JSON.parse(atob(jwt.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))) as unknown;
    expect(payload).toEqual({ user: "alice", pass: "pw", scope: "token" });
  });

  it("speaks gRPC-Web and refuses plain gRPC, which fetch cannot carry", async () => {
    const { sdk } = loadInPage(server.url);
    expect((await sdk.createFluxClient({ protocol: "grpc-web" }).nodes()).length).toBeGreaterThan(0);
    expect(() => sdk.createFluxClient({ protocol: "grpc" })).toThrow('protocol "grpc" needs HTTP/2 trailers');
  });

  it("falls back to http://127.0.0.1:5000 when the page has no origin", async () => {
    const { sdk } = loadInPage("null");
    let url = "";
    const client = sdk.createFluxClient({
      interceptors: [
        () => async (req) => {
          url = req.url;
          throw new sdk.ConnectError("stop here", sdk.Code.Canceled);
        },
      ],
    });
    await expect(client.nodes()).rejects.toThrow("stop here");
    expect(url).toBe("http://127.0.0.1:5000/flux.restful.v1.JobService/ListNodes");
  });
});
