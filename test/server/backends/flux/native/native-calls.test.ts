/**
 * FluxCalls over the native transport against the fake broker answering from exchanges
 * recorded on flux-core 0.88 (test/support/fake-broker/exchanges): the requests it sends
 * and the answers it makes of the replies, errors included.
 */
import { afterEach, describe, expect, it } from "vitest";
import { isBackendUnavailableError, isInvalidJobRequestError, isJobInactiveError, isJobNotFoundError } from "../../../../../server/backends/backend-errors.js";
import { formatJobId } from "../../../../../server/backends/jobid.js";
import type { FluxCalls, SubmitOptions } from "../../../../../server/backends/flux/flux-calls.js";
import { createNativeFluxCalls, unwrapNone, type NativeFluxCalls } from "../../../../../server/backends/flux/native/index.js";
import { createSilentLogger } from "../../../../../server/logger.js";
import { startFakeBroker, type FakeBroker } from "../../../../support/fake-broker/fake-broker.js";
import { createRecordedHandler, loadExchanges, type RecordedExchange } from "../../../../support/fake-broker/recorded-handler.js";
import { thrown } from "../../../../support/backend-contract-helpers.js";

const COMPLETED = 199783088128n;
const RUNNING = 427064033280n;

let broker: FakeBroker | undefined;
let calls: NativeFluxCalls | undefined;

afterEach(async () => {
  await calls?.close();
  await broker?.stop();
  calls = undefined;
  broker = undefined;
});

async function setup(extra: RecordedExchange[] = [], options: { submitAsUser?: Pick<FluxCalls, "submit">; checkVersion?: boolean } = {}) {
  broker = await startFakeBroker({ handler: createRecordedHandler([...extra, ...loadExchanges()]) });
  calls = createNativeFluxCalls({ fluxUri: broker.uri, logger: createSilentLogger(), reconnectInitialMs: 20, reconnectMaxMs: 100, ...options });
  return { broker, calls };
}

const sent = (b: FakeBroker, topic: string) => b.requests.filter((r) => r.topic === topic);

describe("native FluxCalls", () => {
  it("checks the broker's version on connect, then pings for the owner", async () => {
    const { broker, calls } = await setup();
    expect(await calls.ping()).toEqual({ ownerUid: 0 });
    expect(await calls.brokerVersion()).toBe("0.88.0-59-g4a5e79f56");
    expect(broker.requests.map((r) => [r.topic, r.payloadText])).toEqual([
      ["attr.get", '{"name":"version"}'],
      ["attr.get", '{"name":"security.owner"}'],
    ]);
  });

  it("refuses a broker outside the supported range, saying so", async () => {
    const old: RecordedExchange = { name: "old", request: { topic: "attr.get", payload: { name: "version" } }, responses: [{ payload: '{"value":"0.60.0","flags":0}' }] };
    const { calls } = await setup([old]);
    const e = await thrown(() => calls.ping());
    expect(isBackendUnavailableError(e)).toBe(true);
    expect((e as Error).message).toBe('flux-core "0.60.0" is outside the native transport\'s supported range >= 0.61.0, < 1.0.0; use FLUX_RESTFUL_FLUX_TRANSPORT=cli');
  });

  it("skips the version check when told to", async () => {
    const future: RecordedExchange = { name: "future", request: { topic: "attr.get", payload: { name: "version" } }, responses: [{ payload: '{"value":"1.2.0","flags":0}' }] };
    const { calls } = await setup([future], { checkVersion: false });
    expect(await calls.ping()).toEqual({ ownerUid: 0 });
  });

  it("submits a none-signed J with the urgency, as flux job submit does", async () => {
    const { broker, calls } = await setup();
    const jobspec = '{"version":1,"tasks":[{"command":["true"]}]}';
    expect(await calls.submit(jobspec, { urgency: 12 })).toBe(24516629626880n);
    const [req] = sent(broker, "job-ingest.submit");
    expect(req!.payload).toMatchObject({ urgency: 12, flags: 0 });
    expect(unwrapNone(req!.payload!.J as string)).toEqual({ userid: process.getuid!(), jobspec });
  });

  it("hands submissions as another user to the CLI", async () => {
    const seen: Array<[string, SubmitOptions]> = [];
    const cli = { submit: async (jobspec: string, opts: SubmitOptions) => (seen.push([jobspec, opts]), 7n) };
    const { broker, calls } = await setup([], { submitAsUser: cli });
    expect(await calls.submit("{}", { urgency: 16, asUser: "alice" })).toBe(7n);
    expect(seen).toEqual([["{}", { urgency: 16, asUser: "alice" }]]);
    expect(sent(broker, "job-ingest.submit")).toHaveLength(0);
  });

  it("maps a refused jobspec to InvalidJobRequest in Flux's words", async () => {
    const refuse: RecordedExchange = { name: "refuse", request: { topic: "job-ingest.submit" }, responses: [{ errnum: 22, error: "urgency range is [0-16] for guest users" }] };
    const { calls } = await setup([refuse]);
    const e = await thrown(() => calls.submit("{}", { urgency: 20 }));
    expect(isInvalidJobRequestError(e)).toBe(true);
    expect(e).toMatchObject({ field: "urgency", message: "urgency range is [0-16] for guest users" });
  });

  it("gets a job's record and knows no unknown id", async () => {
    const { broker, calls } = await setup();
    const job = await calls.get(COMPLETED);
    expect(job).toMatchObject({ id: COMPLETED, state: 64, result: 1, name: "printer", waitstatus: 0 });
    expect(sent(broker, "job-list.list-id")[0]!.payloadText).toBe(`{"id":${COMPLETED},"attrs":["all"]}`);
    const e = await thrown(() => calls.get(123456789n));
    expect(isJobNotFoundError(e)).toBe(true);
    expect((e as Error).message).toBe(`job "${formatJobId(123456789n)}" not found`);
  });

  it("lists my jobs, or everyone's, with the constraint flux job list sends", async () => {
    const { broker, calls } = await setup();
    const mine = await calls.list({ allUsers: false });
    expect(mine.map((j) => j.id)).toEqual([494776877056n, 699140145152n]);
    await calls.list({ allUsers: true });
    await calls.list({ allUsers: false, states: 14, name: "held3", submittedSince: 1795935300 });
    const [a, b, c] = sent(broker, "job-list.list").map((r) => r.payload);
    expect(a).toEqual({ max_entries: 0, attrs: ["all"], constraint: { and: [{ userid: [process.getuid!()] }, { states: [126] }] } });
    expect(b!.constraint).toEqual({ and: [{ userid: [4294967295] }, { states: [126] }] });
    expect(c!.constraint).toEqual({ and: [{ userid: [process.getuid!()] }, { states: [14] }, { name: ["held3"] }, { t_submit: [">=1795935300"] }] });
  });

  it("cancels with job-manager.raise and maps inactive and unknown jobs", async () => {
    const { broker, calls } = await setup();
    await calls.cancel(RUNNING, "by test");
    await calls.cancel(RUNNING, "");
    const [withNote, without] = sent(broker, "job-manager.raise").map((r) => r.payload);
    expect(withNote).toEqual({ id: Number(RUNNING), type: "cancel", severity: 0, note: "by test" });
    expect(without).toEqual({ id: Number(RUNNING), type: "cancel", severity: 0 });
    expect(isJobInactiveError(await thrown(() => calls.cancel(COMPLETED, "")))).toBe(true);
    expect(isJobNotFoundError(await thrown(() => calls.cancel(5n, "")))).toBe(true);
  });

  it("reads the main and output eventlogs, undefined output for a job that never ran", async () => {
    const { calls } = await setup();
    const main = await calls.eventlog(COMPLETED, "eventlog");
    expect(main!.map((e) => e.name)).toEqual(["submit", "validate", "depend", "priority", "alloc", "start", "finish", "release", "free", "clean"]);
    expect(main![0]).toEqual({ timestamp: 1795935317.9940498, name: "submit", context: { userid: 0, urgency: 16, flags: 0, version: 1 } });
    const output = await calls.eventlog(COMPLETED, "output");
    expect(output!.filter((e) => e.name === "data").map((e) => e.context!.data ?? null)).toContain("line 3 to stdout 🥞 ünïcödé\n");
    expect(await calls.eventlog(RUNNING, "output")).toBeUndefined();
    expect(isJobNotFoundError(await thrown(() => calls.eventlog(5n, "eventlog")))).toBe(true);
  });

  it("reads the current jobspec", async () => {
    const { broker, calls } = await setup();
    const spec = (await calls.jobspec(COMPLETED)) as { attributes: { system: { job: { name: string } } } };
    expect(spec.attributes.system.job.name).toBe("printer");
    expect(sent(broker, "job-info.lookup")[0]!.payload).toEqual({ id: Number(COMPLETED), keys: ["jobspec"], flags: 2 });
  });

  it("reads many jobspecs at once, leaving out unknown jobs", async () => {
    const { broker, calls } = await setup();
    const specs = await calls.jobspecs([COMPLETED, 5n]);
    expect([...specs.keys()]).toEqual([COMPLETED]);
    expect(specs.get(COMPLETED)).toMatchObject({ version: 1, attributes: { system: { job: { name: "printer" } } } });
    expect(sent(broker, "job-info.lookup")).toHaveLength(2);
  });

  it("watches a finished job's eventlog to its end, by itself", async () => {
    const { calls } = await setup();
    const names: string[] = [];
    for await (const e of calls.watchEvents(COMPLETED, new AbortController().signal)) names.push(e.name);
    expect(names.at(-1)).toBe("clean");
    expect(names).toHaveLength(10);
  });

  it("watches guest.output with WAITCREATE until the output is complete", async () => {
    const { broker, calls } = await setup();
    const data: string[] = [];
    for await (const e of calls.watchEventlog(COMPLETED, "output", new AbortController().signal)) if (typeof e.context?.data === "string") data.push(e.context.data);
    expect(data.join("")).toBe("line 2 to stderr 🥞\nline 1 to stdout\nline 4 to stderr\nline 3 to stdout 🥞 ünïcödé\npartial-no-newline");
    expect(sent(broker, "job-info.eventlog-watch")[0]!.payload).toEqual({ id: Number(COMPLETED), path: "guest.output", flags: 1 });
  });

  it("stops watching a running job on abort and cancels the watch in the broker", async () => {
    const { broker, calls } = await setup();
    const abort = new AbortController();
    const names: string[] = [];
    for await (const e of calls.watchEvents(RUNNING, abort.signal)) {
      names.push(e.name);
      if (e.name === "start") abort.abort();
    }
    expect(names).toEqual(["submit", "validate", "depend", "priority", "alloc", "start"]);
    const watchTag = sent(broker, "job-info.eventlog-watch")[0]!.matchtag;
    // The cancel reaches the broker some time after the abort: wait for it, not for a fixed pause.
    await expect.poll(() => sent(broker, "job-info.eventlog-watch-cancel").map((r) => r.payload), { timeout: 10_000 }).toEqual([{ matchtag: watchTag }]);
  });

  it("maps a watch of an unknown job to NotFound", async () => {
    const { calls } = await setup();
    const e = await thrown(() => (async () => {
      for await (const _ of calls.watchEvents(5n, new AbortController().signal)) {
        // none
      }
    })());
    expect(isJobNotFoundError(e)).toBe(true);
  });

  it("reads resources from rank 0: R by state and drained ranks", async () => {
    const { broker, calls } = await setup();
    const snapshot = await calls.resources();
    expect(snapshot.drained).toBe("");
    expect(snapshot.all).toMatchObject({ version: 1, execution: { R_lite: [{ rank: "0-1", children: { core: "0-1" } }], nodelist: ["vm,vm"] } });
    expect(snapshot.allocated).toMatchObject({ execution: { R_lite: [{ rank: "0", children: { core: "0" } }] } });
    for (const topic of ["resource.sched-status", "resource.status"]) {
      expect(sent(broker, topic)[0]).toMatchObject({ nodeid: 0, payloadText: undefined });
    }
    const drained: RecordedExchange = {
      name: "drained",
      request: { topic: "resource.status" },
      responses: [{ payload: '{"R":{},"drain":{"1,3":{"timestamp":1.0,"reason":"x"},"5-6":{"timestamp":2.0,"reason":""}},"online":"0-6","offline":"","exclude":"","torpid":""}' }],
    };
    broker.set({ handler: createRecordedHandler([drained, ...loadExchanges()]) });
    expect((await calls.resources()).drained).toBe("1,3,5-6");
  });

  it("reads the instance config", async () => {
    const { calls } = await setup();
    expect(await calls.config()).toEqual({});
  });

  it("says which module is missing when a service is not loaded", async () => {
    const { broker, calls } = await setup();
    broker.set({ handler: createRecordedHandler(loadExchanges().filter((e) => e.request.topic !== "job-list.list-id")) });
    const e = await thrown(() => calls.get(COMPLETED));
    expect(isBackendUnavailableError(e)).toBe(true);
    expect((e as Error).message).toBe('the flux instance does not offer "job-list.list-id" (a module is not loaded)');
  });
});
