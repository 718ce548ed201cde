/**
 * The web UI's pages and assets, served by the real server on its one port, and the
 * cross-origin guard in front of every state-changing request.
 */
import fs from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWebRoutes } from "../../../server/web/index.js";
import { startTestServer, type TestServer } from "../../support/start-test-server.js";

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? "GET", headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

const submitBody = (name: string) => JSON.stringify({ command: ["true"], name });
const connectPost = (server: TestServer, procedure: string, body: string, headers: Record<string, string> = {}) =>
  request(`${server.url}/flux.restful.v1.JobService/${procedure}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

describe("pages", () => {
  it.each(["/", "/jobs", "/jobs/submit", "/job/%C6%92abc123", "/users", "/login"])("serves the page shell at %s with a strict content security policy", async (p) => {
    const res = await request(`${server.url}${p}`);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(res.body.toString()).toContain('<script type="module" src="/static/app.js"></script>');
    const csp = String(res.headers["content-security-policy"]);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.headers["x-frame-options"]).toBe("DENY");
    expect(res.headers["cache-control"]).toBe("no-store");
  });

  it("answers HEAD without a body and refuses other methods on page paths", async () => {
    const head = await request(`${server.url}/jobs`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    const post = await request(`${server.url}/jobs`, { method: "POST", body: "x" });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe("GET, HEAD");
  });

  it("leaves other paths to the other routes", async () => {
    expect((await request(`${server.url}/healthz`)).status).toBe(200);
    expect((await request(`${server.url}/job/a/cancel`)).headers["content-type"]).not.toMatch(/text\/html/);
  });
});

describe("assets", () => {
  it("serves the bundle from the server itself, with an ETag that revalidates to 304", async () => {
    const res = await request(`${server.url}/static/app.js`);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(res.body.length).toBeGreaterThan(10_000);
    // Everything is in the bundle: no import of another origin or package path.
    expect(res.body.toString()).not.toMatch(/\bfrom\s*["'](?:https?:)?\/\//);
    const etag = String(res.headers.etag);
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await request(`${server.url}/static/app.js`, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });

  it("compresses for clients that accept gzip", async () => {
    const plain = await request(`${server.url}/static/app.js`);
    const gz = await request(`${server.url}/static/app.js`, { headers: { "accept-encoding": "gzip, deflate" } });
    expect(gz.headers["content-encoding"]).toBe("gzip");
    expect(gz.body.length).toBeLessThan(plain.body.length / 2);
    expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);
  });

  it("serves the stylesheet and icon, and 404 for anything else under /static/", async () => {
    expect((await request(`${server.url}/static/app.css`)).headers["content-type"]).toBe("text/css; charset=utf-8");
    expect((await request(`${server.url}/static/favicon.svg`)).headers["content-type"]).toBe("image/svg+xml");
    expect((await request(`${server.url}/static/nope.js`)).status).toBe(404);
    expect((await request(`${server.url}/static/..%2fpackage.json`)).status).toBe(404);
    expect((await request(`${server.url}/static/../package.json`)).status).not.toBe(200);
  });
});

describe("cross-origin guard", () => {
  const count = async (name: string) => {
    const res = await connectPost(server, "ListJobs", JSON.stringify({ name }));
    return (JSON.parse(res.body.toString()) as { totalSize: number }).totalSize;
  };

  it("refuses a POST from another origin before it reaches the RPC", async () => {
    const res = await connectPost(server, "SubmitJob", submitBody("csrf-origin"), { origin: "http://evil.example" });
    expect(res.status).toBe(403);
    const body = JSON.parse(res.body.toString()) as { code: string; message: string };
    expect(body.code).toBe("permission_denied");
    expect(body.message).toContain('"http://evil.example"');
    expect(await count("csrf-origin")).toBe(0);
    expect(server.logs.some((l) => l.msg === "cross-origin request refused" && l.origin === "http://evil.example")).toBe(true);
  });

  it("refuses an opaque origin and a cross-site fetch without Origin", async () => {
    expect((await connectPost(server, "SubmitJob", submitBody("csrf-null"), { origin: "null" })).status).toBe(403);
    expect((await connectPost(server, "SubmitJob", submitBody("csrf-site"), { "sec-fetch-site": "cross-site" })).status).toBe(403);
    expect(await count("csrf-null")).toBe(0);
    expect(await count("csrf-site")).toBe(0);
  });

  it("lets the server's own origin, and clients that send no Origin, through", async () => {
    const own = await connectPost(server, "SubmitJob", submitBody("same-origin"), { origin: server.url, "sec-fetch-site": "same-origin" });
    expect(own.status).toBe(200);
    const cli = await connectPost(server, "SubmitJob", submitBody("no-origin"));
    expect(cli.status).toBe(200);
    expect(await count("same-origin")).toBe(1);
    expect(await count("no-origin")).toBe(1);
  });

  it("lets safe methods through from anywhere (they change nothing)", async () => {
    expect((await request(`${server.url}/healthz`, { headers: { origin: "http://evil.example" } })).status).toBe(200);
  });
});

describe("without a built UI", () => {
  it("answers pages with 503 and a hint (but / with 200), and leaves the API alone", async () => {
    const emptyDir = await fs.mkdtemp(path.join(os.tmpdir(), "flux-web-empty-"));
    const route = createWebRoutes({ assetsDir: emptyDir });
    const plain = http.createServer((req, res) => {
      void Promise.resolve(route(req, res)).then((handled) => {
        if (!handled) res.writeHead(418).end();
      });
    });
    await new Promise<void>((r) => plain.listen(0, "127.0.0.1", r));
    try {
      const base = `http://127.0.0.1:${(plain.address() as { port: number }).port}`;
      const page = await request(`${base}/jobs`);
      expect(page.status).toBe(503);
      expect(page.body.toString()).toContain("npm run build:web");
      // Operator tooling polls "/" until it answers 200: it must not wait on the UI build.
      const home = await request(`${base}/`);
      expect(home.status).toBe(200);
      expect(home.body.toString()).toContain("flux-restful is running");
      expect((await request(`${base}/v1/jobs`)).status).toBe(418);
    } finally {
      await new Promise((r) => plain.close(r));
      await fs.rm(emptyDir, { recursive: true, force: true });
    }
  });
});
