/**
 * Backend selection through the real server: auto picks flux when an instance answers
 * (here the stand-in flux), local otherwise; "flux" refuses to start without one; /readyz
 * follows the instance.
 */
import { createClient } from "@connectrpc/connect";
import fs from "node:fs/promises";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { JobResult } from "../../../gen/flux/restful/v1/job_pb.js";
import { JobService } from "../../../gen/flux/restful/v1/job_service_pb.js";
import { createFakeFlux, type FakeFlux } from "../../support/fake-flux/fake-flux.js";
import { readOutput, waitForState } from "../../support/job-helpers.js";
import { startTestServer, type TestServer } from "../../support/start-test-server.js";
import { createTransports } from "../../support/transports.js";

let server: TestServer | undefined;
let fake: FakeFlux | undefined;
afterEach(async () => {
  await server?.close();
  await fake?.stop();
  server = undefined;
  fake = undefined;
});

function selection(s: TestServer) {
  return s.logs.find((l) => l.msg === "backend selected") as { backend: string; reason: string } | undefined;
}

describe("backend selection", () => {
  it("auto picks the flux backend when an instance answers, and runs jobs through it", async () => {
    fake = await createFakeFlux();
    server = await startTestServer({
      env: { FLUX_RESTFUL_BACKEND: "auto", FLUX_RESTFUL_FLUX_CMD: fake.fluxCommand, FLUX_URI: fake.uri },
    });
    expect(server.server.backend.name).toBe("flux");
    expect(selection(server)).toMatchObject({ backend: "flux" });
    expect(selection(server)!.reason).toContain(fake.uri);

    const client = createClient(JobService, createTransports(server.url)["connect-json-h1"]);
    const { id } = await client.submitJob({ command: ["echo", "pancakes 🥞"] });
    const job = await waitForState(client, id);
    expect(job.result).toBe(JobResult.COMPLETED);
    expect((await readOutput(client, id)).stdout).toBe("pancakes 🥞\n");
    expect(fake.calls().some((argv) => argv[0] === "job" && argv[1] === "submit")).toBe(true);

    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ backend: "flux", status: "ready" });
  });

  it("reports not ready on /readyz once the instance stops answering", async () => {
    fake = await createFakeFlux();
    server = await startTestServer({
      env: { FLUX_RESTFUL_BACKEND: "flux", FLUX_RESTFUL_FLUX_CMD: fake.fluxCommand, FLUX_URI: fake.uri },
    });
    await fake.stop();
    // The stand-in recreates its state dir when probed after stop: remove it once the server is gone.
    const leftover = fake.dir;
    fake = undefined;
    onTestFinished(() => fs.rm(leftover, { recursive: true, force: true }));
    // Bounded by time, not by a count of tries: each probe runs the stand-in flux, seconds on a busy machine.
    let status = 0;
    for (const deadline = Date.now() + 30_000; status !== 503 && Date.now() < deadline; ) {
      status = (await fetch(`${server.url}/readyz`)).status;
      if (status !== 503) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(503);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it("auto falls back to the local backend when no instance answers, saying why", async () => {
    server = await startTestServer({
      env: { FLUX_RESTFUL_BACKEND: "auto", FLUX_RESTFUL_FLUX_CMD: "/nonexistent/flux" },
    });
    expect(server.server.backend.name).toBe("local");
    expect(selection(server)).toMatchObject({ backend: "local" });
    expect(selection(server)!.reason).toMatch(/^auto: no flux instance answers/);
  });

  it("refuses to start with FLUX_RESTFUL_BACKEND=flux when no instance answers", async () => {
    await expect(
      startTestServer({ env: { FLUX_RESTFUL_BACKEND: "flux", FLUX_RESTFUL_FLUX_CMD: "/nonexistent/flux" } }),
    ).rejects.toThrow(/FLUX_RESTFUL_BACKEND=flux, but no flux instance answers/);
  });
});
