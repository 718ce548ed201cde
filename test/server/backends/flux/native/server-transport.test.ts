/**
 * FLUX_RESTFUL_FLUX_TRANSPORT through the real server: with the fake broker running the
 * stand-in flux's jobs, auto picks the socket (submit goes over it; only the readiness
 * probe and attach run the command), cli keeps the commands, and native refuses to start
 * where there is no broker to talk to.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createClient } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { JobResult } from "../../../../../gen/flux/restful/v1/job_pb.js";
import { JobService } from "../../../../../gen/flux/restful/v1/job_service_pb.js";
import { startFakeBroker, type FakeBroker } from "../../../../support/fake-broker/fake-broker.js";
import { createInstanceHandler } from "../../../../support/fake-broker/instance-handler.js";
import { createFakeFlux, type FakeFlux } from "../../../../support/fake-flux/fake-flux.js";
import { readOutput, waitForState } from "../../../../support/job-helpers.js";
import { startTestServer, type TestServer } from "../../../../support/start-test-server.js";
import { createTransports } from "../../../../support/transports.js";

let server: TestServer | undefined;
let broker: FakeBroker | undefined;
let fake: FakeFlux | undefined;
afterEach(async () => {
  await server?.close();
  await broker?.stop();
  await fake?.stop();
  server = broker = fake = undefined;
});

async function instanceWithBroker() {
  fake = await createFakeFlux();
  broker = await startFakeBroker({ socketPath: path.join(fake.dir, "local"), handler: await createInstanceHandler({ dir: fake.dir }) });
  return { fake, broker };
}

const envFor = (f: FakeFlux, transport?: string) => ({
  FLUX_RESTFUL_BACKEND: "flux",
  FLUX_RESTFUL_FLUX_CMD: f.fluxCommand,
  FLUX_URI: f.uri,
  ...(transport === undefined ? {} : { FLUX_RESTFUL_FLUX_TRANSPORT: transport }),
});

const selected = (s: TestServer) => s.logs.find((l) => l.msg === "flux transport selected") as { transport: string; reason: string } | undefined;

describe("flux transport through the server", () => {
  it("auto: submits over the broker socket and streams output with attach", async () => {
    const { fake, broker } = await instanceWithBroker();
    server = await startTestServer({ env: envFor(fake) });
    expect(selected(server)).toMatchObject({ transport: "native" });
    expect(selected(server)!.reason).toMatch(/^auto: the broker at local:\/\/.* answered the handshake \(flux-core 0\.88\.0-fake-broker, owner uid \d+\)$/);

    const client = createClient(JobService, createTransports(server.url)["connect-json-h1"]);
    const { id } = await client.submitJob({ command: ["echo", "over the socket"] });
    expect((await waitForState(client, id)).result).toBe(JobResult.COMPLETED);
    expect((await readOutput(client, id)).stdout).toBe("over the socket\n");
    expect(broker.requests.filter((r) => r.topic === "job-ingest.submit")).toHaveLength(1);
    const commands = fake.calls().map((argv) => argv.slice(0, 2).join(" "));
    expect(commands.filter((c) => c !== "getattr security.owner" && c !== "job attach")).toEqual([]);
  });

  it("cli: keeps one flux command per call, without touching the socket", async () => {
    const { fake, broker } = await instanceWithBroker();
    server = await startTestServer({ env: envFor(fake, "cli") });
    expect(selected(server)).toEqual(expect.objectContaining({ transport: "cli", reason: "FLUX_RESTFUL_FLUX_TRANSPORT=cli" }));
    const client = createClient(JobService, createTransports(server.url)["connect-json-h1"]);
    const { id } = await client.submitJob({ command: ["true"] });
    expect((await waitForState(client, id)).result).toBe(JobResult.COMPLETED);
    expect(fake.calls().some((argv) => argv[0] === "job" && argv[1] === "submit")).toBe(true);
    expect(broker.requests).toHaveLength(0);
  });

  it("auto falls back to the CLI, saying why, when nothing listens on FLUX_URI", async () => {
    fake = await createFakeFlux(); // its "socket" is a plain file
    server = await startTestServer({ env: envFor(fake) });
    expect(selected(server)!.transport).toBe("cli");
    expect(selected(server)!.reason).toMatch(/^auto: the flux broker is not reachable: cannot connect to the flux broker at ".*\/local" \(ECONNREFUSED\)$/);
  });

  /** Startup that must fail, in a data dir this test removes (startTestServer keeps a dir it did not create). */
  async function failedStart(env: Record<string, string>): Promise<unknown> {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "flux-restful-test-"));
    try {
      await startTestServer({ env, dataDir });
    } catch (e) {
      return e;
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
    throw new Error("the server started");
  }

  it("native refuses to start, saying why, when nothing listens on FLUX_URI", async () => {
    fake = await createFakeFlux();
    expect((await failedStart(envFor(fake, "native")) as Error).message).toMatch(/^FLUX_RESTFUL_FLUX_TRANSPORT=native cannot be used: the flux broker is not reachable/);
  });

  it("refuses an unknown transport name at startup", async () => {
    fake = await createFakeFlux();
    expect((await failedStart(envFor(fake, "fast")) as Error).message).toMatch(/FLUX_RESTFUL_FLUX_TRANSPORT/);
  });
});
