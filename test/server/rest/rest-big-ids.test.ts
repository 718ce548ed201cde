/**
 * Job ids past 2^53 (an instance up for more than about six days) round-trip exactly
 * through every legacy route: emitted as exact JSON integers, accepted in every encoding.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalBackend } from "../../../server/backends/local/index.js";
import { formatJobId } from "../../../server/backends/jobid.js";
import { createSilentLogger } from "../../../server/logger.js";
import { startTestServer, type TestServer } from "../../support/start-test-server.js";
import { createRestClient, request, type RestClient } from "./rest-helpers.js";

const DAY_MS = 86_400_000;
const TWO_53 = 1n << 53n;

// 8 days: just past 2^53. 20 years: 20-digit ids, whose digits a JS number cannot even print.
describe.each([
  ["8 days", 8 * DAY_MS],
  ["20 years", 20 * 365 * DAY_MS],
])("job ids of an instance up for %s", (_name, uptimeMs) => {
  let dataDir: string;
  let server: TestServer;
  let api: RestClient;

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "rest-big-ids-"));
    const backend = createLocalBackend({
      dataDir: path.join(dataDir, "local"),
      cores: 4,
      idEpochMs: Date.now() - uptimeMs,
      logger: createSilentLogger(),
      baseEnvironment: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    });
    server = await startTestServer({ dataDir, deps: { backend } });
    api = createRestClient(server.url);
  });
  afterAll(async () => {
    await server?.close();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it("round-trip exactly through submit, listing, search, job, output, stream and cancel", async () => {
    const id = await api.submit("echo pancakes 🥞");
    expect(id).toBeGreaterThan(TWO_53);
    if (uptimeMs > 365 * DAY_MS) expect(String(Number(id))).not.toBe(String(id));
    await api.waitFor(id);

    expect((await api.get("/v1/jobs")).ids).toEqual([id]);
    const keyed = await api.get("/v1/jobs?details=true");
    expect(keyed.text.startsWith(`{"${id}":{"id":${id},`)).toBe(true);
    expect((await api.get("/v1/jobs?details=true&listing=true")).ids).toEqual([id]);
    expect((await api.get("/v1/jobs/search")).ids).toEqual([id]);
    expect((await api.get(`/v1/jobs/search?draw=1&search[value]=${id}`)).ids).toEqual([id]);

    for (const encoding of ["dec", "f58", "f58plain", "hex", "dothex", "kvs", "words"] as const) {
      const text = encodeURIComponent(formatJobId(id, encoding));
      expect((await api.get(`/v1/jobs/${text}`)).ids, encoding).toEqual([id]);
      expect((await api.get(`/v1/jobs/${text}/output`)).json.Output, encoding).toEqual(["pancakes 🥞\n"]);
      expect(await (await fetch(`${server.url}/v1/jobs/${text}/output/stream`)).text(), encoding).toBe("pancakes 🥞\n");
    }

    const sleeper = await api.submit("sleep 30");
    expect(sleeper).toBeGreaterThan(TWO_53);
    const canceled = await api.post(`/v1/jobs/${sleeper}/cancel`);
    expect(canceled.status).toBe(200);
    expect(canceled.ids).toEqual([sleeper]);
    expect((await api.waitFor(sleeper)).ids).toEqual([sleeper]);
    const again = await request(`${server.url}/v1/jobs/${formatJobId(sleeper, "hex")}/cancel`, { method: "POST" });
    expect(again.status).toBe(409);
    expect(again.ids).toEqual([sleeper]);
  });
});
