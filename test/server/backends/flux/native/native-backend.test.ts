/**
 * The flux backend over the native transport, end to end against the fake broker in
 * instance mode: many submissions in flight on one connection, and an instance that
 * goes away and comes back under a running server.
 */
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isBackendUnavailableError } from "../../../../../server/backends/backend-errors.js";
import { JobStateBit, type JobBackend } from "../../../../../server/backends/backend.js";
import { createFluxBackend } from "../../../../../server/backends/flux/index.js";
import { createNativeFluxCalls, type NativeFluxCalls } from "../../../../../server/backends/flux/native/index.js";
import { createSilentLogger } from "../../../../../server/logger.js";
import { jobRequest, thrown } from "../../../../support/backend-contract-helpers.js";
import { startFakeBroker, type FakeBroker } from "../../../../support/fake-broker/fake-broker.js";
import { createInstanceHandler } from "../../../../support/fake-broker/instance-handler.js";
import { createFakeFlux, type FakeFlux } from "../../../../support/fake-flux/fake-flux.js";

let fake: FakeFlux;
let broker: FakeBroker;
let calls: NativeFluxCalls;
let backend: JobBackend;
const owner = { name: "native-tester" };

beforeEach(async () => {
  fake = await createFakeFlux({ nodes: [{ hostname: "vm", cores: 64, gpus: 0 }] });
  broker = await startFakeBroker({ socketPath: path.join(fake.dir, "local"), handler: await createInstanceHandler({ dir: fake.dir }) });
  calls = createNativeFluxCalls({ fluxUri: fake.uri, logger: createSilentLogger(), reconnectInitialMs: 20, reconnectMaxMs: 200 });
  backend = createFluxBackend({ fluxCommand: fake.fluxCommand, fluxUri: fake.uri, baseEnvironment: fake.baseEnvironment, logger: createSilentLogger(), calls, readyCacheMs: 0 });
  await backend.start();
});

afterEach(async () => {
  await backend.close();
  await calls.close();
  await broker.stop();
  await fake.stop();
});

describe("flux backend over the native transport", () => {
  it("takes 32 submissions at once on one connection, each with its own id", async () => {
    const ids = await Promise.all(Array.from({ length: 32 }, (_, i) => backend.submit(jobRequest(["true"], { name: `burst-${i}` }), owner)));
    expect(new Set(ids).size).toBe(32);
    expect(broker.requests.filter((r) => r.topic === "job-ingest.submit")).toHaveLength(32);
    expect(new Set(broker.requests.map((r) => r.connection))).toEqual(new Set([1]));
    const page = await backend.list({ pageSize: 100, pageToken: "", orderBy: { column: "t_submit", descending: true } });
    expect(page.jobs.map((j) => j.id).sort()).toEqual([...ids].sort());
  });

  it("a second server lists jobs it never submitted with their owners and commands from the journal, reading no jobspec", async () => {
    const ids = await Promise.all([
      backend.submit(jobRequest(["echo", "one"]), { name: "alice" }),
      backend.submit(jobRequest(["echo", "two"]), { name: "bob" }),
    ]);
    const otherCalls = createNativeFluxCalls({ fluxUri: fake.uri, logger: createSilentLogger() });
    const other = createFluxBackend({ fluxCommand: fake.fluxCommand, fluxUri: fake.uri, baseEnvironment: fake.baseEnvironment, logger: createSilentLogger(), calls: otherCalls });
    try {
      await other.start();
      const page = await other.list({ pageSize: 10, pageToken: "", orderBy: { column: "id", descending: false } });
      const byId = new Map(page.jobs.map((j) => [j.id, j]));
      expect(byId.get(ids[0]!)).toMatchObject({ owner: "alice", command: ["echo", "one"] });
      expect(byId.get(ids[1]!)).toMatchObject({ owner: "bob", command: ["echo", "two"] });
      const second = Math.max(...broker.requests.map((r) => r.connection));
      const mine = broker.requests.filter((r) => r.connection === second).map((r) => r.topic);
      expect(mine).toContain("job-manager.events-journal");
      expect(mine).not.toContain("job-info.lookup");
    } finally {
      await other.close();
      await otherCalls.close();
    }
  });

  it("lets job-list apply a listing's state, result, name and since filters", async () => {
    const done = await backend.submit(jobRequest(["true"], { name: "wanted" }), owner);
    await backend.submit(jobRequest(["true"], { name: "other" }), owner);
    // Until a deadline, not a count of tries: each get() is as slow as the machine is busy.
    await expect.poll(async () => (await backend.get(done)).state, { timeout: 20_000, interval: 25 }).toBe(JobStateBit.INACTIVE);
    const since = (await backend.get(done)).t_submit;
    const before = broker.requests.length;
    const page = await backend.list({ stateMask: JobStateBit.INACTIVE, resultMask: 1, name: "wanted", since, pageSize: 10, pageToken: "", orderBy: { column: "id", descending: false } });
    expect(page.jobs.map((j) => j.id)).toEqual([done]);
    const sent = broker.requests.slice(before).find((r) => r.topic === "job-list.list");
    expect(sent?.payload?.constraint).toEqual({
      and: [{ userid: [process.getuid?.() ?? 0] }, { states: [JobStateBit.INACTIVE] }, { results: [1] }, { name: ["wanted"] }, { t_submit: [`>=${since}`] }],
    });
  });

  it("survives the instance going away and coming back: Unavailable meanwhile, never a hang", async () => {
    const before = await backend.submit(jobRequest(["sleep", "30"]), owner);
    await expect.poll(async () => (await backend.get(before)).state, { timeout: 20_000, interval: 25 }).toBe(JobStateBit.RUN);
    const abort = new AbortController();
    const seen: string[] = [];
    const watching = thrown(() => (async () => {
      for await (const event of backend.followEvents(before, abort.signal)) seen.push(event.name); // replay, then wait
    })());
    // The watch is open (its replay reached "start") before the broker goes away.
    await expect.poll(() => seen, { timeout: 15_000 }).toContain("start");

    await broker.stop();
    expect(isBackendUnavailableError(await watching)).toBe(true);
    const started = Date.now();
    expect(await backend.ready()).toMatchObject({ ready: false });
    expect(isBackendUnavailableError(await thrown(() => backend.submit(jobRequest(["true"]), owner)))).toBe(true);
    expect(isBackendUnavailableError(await thrown(() => backend.get(before)))).toBe(true);
    // Never a hang: all three fail faster than one 5 s connect timeout (or the 30 s request
    // timeout) would take, yet with room for a loaded machine.
    expect(Date.now() - started).toBeLessThan(4500);

    await broker.start();
    await expect.poll(async () => (await backend.ready()).ready, { timeout: 15_000, interval: 50 }).toBe(true);
    expect((await backend.get(before)).state).toBe(JobStateBit.RUN);
    await backend.cancel(before, "after the restart");
    const after = await backend.submit(jobRequest(["true"]), owner);
    expect(after).not.toBe(before);
    expect(new Set(broker.requests.map((r) => r.connection)).size).toBeGreaterThan(1);
  });
});
