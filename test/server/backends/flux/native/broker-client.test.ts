/**
 * The connection machinery against the fake broker (test/support/fake-broker): handshake,
 * requests as libflux frames them, matchtags with many in flight, split, coalesced and
 * long-size frames, streams, cancel, errors, timeouts, backpressure, a broker that drops
 * the connection, restarts, or sends garbage.
 */
import { afterEach, describe, expect, it } from "vitest";
import { isBackendUnavailableError } from "../../../../../server/backends/backend-errors.js";
import { createBrokerClient, isFluxRpcError, type BrokerClient, type BrokerClientOptions } from "../../../../../server/backends/flux/native/index.js";
import { createSilentLogger } from "../../../../../server/logger.js";
import { startFakeBroker, type BrokerHandler, type FakeBroker } from "../../../../support/fake-broker/fake-broker.js";
import { createRecordedHandler, loadExchanges } from "../../../../support/fake-broker/recorded-handler.js";
import { thrown } from "../../../../support/backend-contract-helpers.js";
import { waitUntil } from "../../../../support/wait-until.js";

const COMPLETED = 199783088128n;
const RUNNING = 427064033280n;

let broker: FakeBroker | undefined;
let client: BrokerClient | undefined;

afterEach(async () => {
  await client?.close();
  await broker?.stop();
  client = undefined;
  broker = undefined;
});

async function setup(handler: BrokerHandler = createRecordedHandler(loadExchanges()), clientOptions: Partial<BrokerClientOptions> = {}) {
  broker = await startFakeBroker({ handler });
  client = createBrokerClient({ socketPath: broker.socketPath, logger: createSilentLogger(), reconnectInitialMs: 20, reconnectMaxMs: 100, ...clientOptions });
  return { broker, client };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


describe("broker client", () => {
  it("frames a request as libflux does: empty route stack, unknown userid, any node, a matchtag, NUL-terminated JSON", async () => {
    const { broker, client } = await setup();
    const answer = await client.rpc("broker.ping", { seq: 1 });
    expect(answer).toMatchObject({ seq: 1, rolemask: 5 });
    const req = broker.requests[0]!;
    expect(req).toMatchObject({ topic: "broker.ping", flags: 0x0b, routes: 0, userid: 0xffffffff, rolemask: 0, nodeid: 0xffffffff, magic: "host" });
    expect(req.matchtag).toBeGreaterThan(0);
    expect(req.payloadText).toBe('{"seq":1}');
  });

  it("reports a refused handshake with its errno", async () => {
    const { broker, client } = await setup();
    broker.setHandshakeByte(1);
    const e = await thrown(() => client.rpc("broker.ping", {}));
    expect(isBackendUnavailableError(e)).toBe(true);
    expect((e as Error).message).toMatch(/refused the connection \(EPERM\)/);
  });

  it("fails at once with Unavailable when nothing listens", async () => {
    const c = createBrokerClient({ socketPath: "/nonexistent/flux/local", logger: createSilentLogger() });
    client = c;
    const started = Date.now();
    const e = await thrown(() => c.rpc("broker.ping", {}));
    expect(isBackendUnavailableError(e)).toBe(true);
    expect((e as Error).message).toMatch(/ENOENT/);
    // At once rather than after the 5 s connect timeout.
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("matches 64 requests in flight answered in reverse order", async () => {
    const held: Array<() => void> = [];
    const { broker, client } = await setup((req, res) => {
      held.push(() => res.ok({ n: req.payload!.n! }));
      if (held.length === 64) for (const answer of held.reverse()) answer();
    });
    const answers = await Promise.all(Array.from({ length: 64 }, (_, n) => client.rpc("svc.echo", { n })));
    expect(answers.map((a) => a!.n)).toEqual(Array.from({ length: 64 }, (_, n) => n));
    expect(new Set(broker.requests.map((r) => r.matchtag)).size).toBe(64);
    expect(client.inFlight).toBe(0);
  });

  it.each([
    ["split into 1-byte writes", { kind: "split", bytes: 1 }],
    ["split into 7-byte writes", { kind: "split", bytes: 7 }],
    ["coalesced into one write", { kind: "coalesce" }],
  ] as const)("reads responses %s", async (_name, mode) => {
    const { broker, client } = await setup((req, res) => res.ok({ n: req.payload!.n!, pad: "p".repeat(Number(req.payload!.n) * 10) }));
    broker.setWriteMode(mode);
    const answers = await Promise.all(Array.from({ length: 30 }, (_, n) => client.rpc("svc.echo", { n })));
    expect(answers.map((a) => [a!.n, (a!.pad as string).length])).toEqual(Array.from({ length: 30 }, (_, n) => [n, n * 10]));
  });

  it("reads 4-byte part sizes on short parts", async () => {
    const { broker, client } = await setup();
    broker.set({ longSizes: true });
    expect(await client.rpc("attr.get", { name: "version" })).toEqual({ value: "0.88.0-59-g4a5e79f56", flags: 0 });
  });

  it("accepts RFC 3's magic from the broker and answers in kind (flux-core #7415)", async () => {
    const { broker, client } = await setup();
    broker.set({ magic: "rfc" });
    await client.rpc("broker.ping", {});
    await client.rpc("broker.ping", {});
    expect(broker.requests.map((r) => r.magic)).toEqual(["host", "rfc"]);
  });

  it("carries large payloads both ways", async () => {
    const { client } = await setup((req, res) => res.ok({ back: (req.payload!.s as string).length, big: "y".repeat(8 * 1024 * 1024) }));
    const answer = await client.rpc("svc.big", { s: "x".repeat(4 * 1024 * 1024) });
    expect(answer!.back).toBe(4 * 1024 * 1024);
    expect((answer!.big as string).length).toBe(8 * 1024 * 1024);
  });

  it("keeps ids above 2^53 exact in requests and responses", async () => {
    const id = (1n << 60n) + 5n;
    const { broker, client } = await setup((req, res) => res.ok(`{"id":${req.payloadText!.match(/"id":(\d+)/)![1]},"next":18446744073709551615}`));
    const answer = await client.rpc("job-list.list-id", { id });
    expect(answer).toEqual({ id, next: 18446744073709551615n });
    expect(broker.requests[0]!.payloadText).toBe(`{"id":${id}}`);
  });

  it("turns an error response into FluxRpcError with the broker's words", async () => {
    const { client } = await setup();
    const e = await thrown(() => client.rpc("nosuchservice.foo", {}));
    expect(isFluxRpcError(e)).toBe(true);
    expect(e).toMatchObject({ errnum: 38, errorText: "No service matching nosuchservice.foo is registered" });
    const inactive = await thrown(() => client.rpc("job-manager.raise", { id: COMPLETED, type: "cancel", severity: 0 }));
    expect(inactive).toMatchObject({ errnum: 2, errorText: "job is inactive" });
    const bare = await thrown(() => client.rpc("job-list.list-id", { id: 123456789, attrs: ["all"] }));
    expect(bare).toMatchObject({ errnum: 2, errorText: "" });
    expect((bare as Error).message).toBe("job-list.list-id: ENOENT (ENOENT)");
  });

  it("yields a stream's responses and ends at ENODATA", async () => {
    const { broker, client } = await setup();
    const events: string[] = [];
    for await (const r of client.stream("job-info.eventlog-watch", { id: COMPLETED, path: "eventlog", flags: 0 })) events.push(JSON.parse(r.event as string).name);
    expect(events).toEqual(["submit", "validate", "depend", "priority", "alloc", "start", "finish", "release", "free", "clean"]);
    expect(broker.requests[0]!.flags & 0x40).toBe(0x40);
    expect(client.inFlight).toBe(0);
  });

  it("cancels a stream on abort with <service>-cancel {matchtag}, no response wanted", async () => {
    const { broker, client } = await setup();
    const abort = new AbortController();
    const names: string[] = [];
    for await (const r of client.stream("job-info.eventlog-watch", { id: RUNNING, path: "eventlog", flags: 0 }, { cancelTopic: "job-info.eventlog-watch-cancel", signal: abort.signal })) {
      names.push(JSON.parse(r.event as string).name);
      if (names.length === 6) abort.abort();
    }
    expect(names).toHaveLength(6);
    await waitUntil(() => broker.requests.length === 2);
    const [watch, cancel] = broker.requests;
    expect(cancel).toMatchObject({ topic: "job-info.eventlog-watch-cancel", matchtag: 0, noResponse: true });
    expect(cancel!.payload).toEqual({ matchtag: watch!.matchtag });
    // The broker's ENODATA frees the tag.
    await waitUntil(() => client.inFlight === 0);
  });

  it("cancels a stream the consumer leaves early", async () => {
    const { broker, client } = await setup();
    for await (const _ of client.stream("job-info.eventlog-watch", { id: RUNNING, path: "eventlog", flags: 0 }, { cancelTopic: "job-info.eventlog-watch-cancel" })) break;
    await waitUntil(() => broker.requests.some((r) => r.topic === "job-info.eventlog-watch-cancel"));
    await waitUntil(() => client.inFlight === 0);
  });

  it("fails every waiting call with Unavailable when the broker closes the socket mid-call, then reconnects", async () => {
    let drop = true;
    const { broker, client } = await setup((req, res) => {
      if (req.topic === "svc.slow" || req.topic === "svc.watch") return; // never answered
      if (drop) res.closeConnection();
      else res.ok({ ok: true });
    });
    const slow = thrown(() => client.rpc("svc.slow", {}));
    const stream = thrown(() => (async () => {
      for await (const _ of client.stream("svc.watch", {})) {
        // nothing arrives
      }
    })());
    await waitUntil(() => broker.requests.length === 2);
    const dropped = await thrown(() => client.rpc("svc.drop", {}));
    for (const e of [dropped, await slow, await stream]) {
      expect(isBackendUnavailableError(e)).toBe(true);
      expect((e as Error).message).toMatch(/connection was lost/);
    }
    drop = false;
    await waitUntil(() => client.state === "open"); // the background reconnect, after the backoff
    expect(await client.rpc("svc.ok", {})).toEqual({ ok: true });
    expect(broker.requests.at(-1)!.connection).toBe(2);
  });

  it("fails the call when the broker sends half a frame and closes", async () => {
    const { client } = await setup((_req, res) => res.partialThenClose('{"id":1}', 20));
    const e = await thrown(() => client.rpc("svc.torn", {}));
    expect(isBackendUnavailableError(e)).toBe(true);
  });

  it("drops the connection on a malformed frame and fails the waiting calls", async () => {
    const { client } = await setup((_req, res) => res.writeRaw(Buffer.from("HTTP/1.1 400 Bad Request\r\n\r\n")));
    const e = await thrown(() => client.rpc("svc.garbage", {}));
    expect(isBackendUnavailableError(e)).toBe(true);
    expect(((e as Error).cause as Error).message).toMatch(/malformed message: bad frame magic/);
  });

  it("times out a call the broker never answers, and drops the late answer", async () => {
    let late: (() => void) | undefined;
    const { client } = await setup((req, res) => {
      if (req.topic === "svc.late") late = () => res.ok({ late: true });
      else res.ok({ ok: true });
    });
    const started = Date.now();
    const e = await thrown(() => client.rpc("svc.late", {}, { timeoutMs: 150 }));
    expect(isBackendUnavailableError(e)).toBe(true);
    expect((e as Error).message).toBe('the flux broker did not answer "svc.late" within 150 ms');
    // The call's own timeout, not the client's 30 s default.
    expect(Date.now() - started).toBeLessThan(5000);
    expect(client.inFlight).toBe(1); // the tag stays taken until the broker answers
    late!();
    await waitUntil(() => client.inFlight === 0);
    expect(await client.rpc("svc.ok", {})).toEqual({ ok: true });
  });

  it("waits for a broker that stopped reading only until the deadline, then says Unavailable", async () => {
    const { broker, client } = await setup((_req, res) => res.ok({}), { requestTimeoutMs: 300 });
    await client.rpc("svc.first", {});
    broker.pauseReading(true);
    const big = { s: "x".repeat(8 * 1024 * 1024) };
    const started = Date.now();
    const first = await thrown(() => client.rpc("svc.big", big)); // written into the socket's buffer, never read
    const second = await thrown(() => client.rpc("svc.next", {})); // cannot even be written
    expect((first as Error).message).toBe('the flux broker did not answer "svc.big" within 300 ms');
    expect((second as Error).message).toBe('the flux broker did not take "svc.next" within 300 ms');
    // Two 300 ms deadlines, not the 30 s default nor a wait for the broker to read again.
    expect(Date.now() - started).toBeLessThan(5000);
    broker.pauseReading(false);
  });

  it("keeps at most maxInFlight calls outstanding; the rest wait their turn", async () => {
    let outstanding = 0;
    let most = 0;
    const { client } = await setup(async (req, res) => {
      outstanding += 1;
      most = Math.max(most, outstanding);
      await sleep(5);
      outstanding -= 1;
      res.ok({ n: req.payload!.n! });
    }, { maxInFlight: 4 });
    const answers = await Promise.all(Array.from({ length: 40 }, (_, n) => client.rpc("svc.echo", { n })));
    expect(answers).toHaveLength(40);
    expect(most).toBe(4);
  });

  it("stops a stream whose consumer falls behind, without stalling other calls", async () => {
    const { broker, client } = await setup((req, res) => {
      if (req.topic === "svc.flood") for (let i = 0; i < 200; i++) res.ok({ i });
      else if (!req.noResponse) res.ok({ ok: true });
    }, { streamMaxBuffered: 50 });
    const stream = client.stream("svc.flood", {}, { cancelTopic: "svc.flood-cancel" });
    expect((await stream.next()).value).toEqual({ i: 0 });
    await waitUntil(() => broker.requests.some((r) => r.topic === "svc.flood-cancel"));
    expect(await client.rpc("svc.ok", {})).toEqual({ ok: true });
    const rest: unknown[] = [];
    const e = await thrown(() => (async () => {
      for (;;) {
        const next = await stream.next();
        if (next.done) return;
        rest.push(next.value);
      }
    })());
    expect((e as Error).message).toMatch(/fell 50 responses behind/);
    expect(rest).toEqual(Array.from({ length: 49 }, (_, i) => ({ i: i + 1 })));
  });

  it("survives a broker restart: calls fail fast while it is down, succeed once it is back", async () => {
    const { broker, client } = await setup();
    await client.rpc("broker.ping", {});
    const watching = thrown(() => (async () => {
      for await (const _ of client.stream("job-info.eventlog-watch", { id: RUNNING, path: "eventlog", flags: 0 })) {
        // the running job's events, then the restart
      }
    })());
    await waitUntil(() => broker.requests.length === 2);
    await broker.stop();
    expect(isBackendUnavailableError(await watching)).toBe(true);
    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      expect(isBackendUnavailableError(await thrown(() => client.rpc("broker.ping", {})))).toBe(true);
      // Fast: below the 5 s connect timeout (and far below the 30 s request timeout) it would
      // take to fail by waiting.
      expect(Date.now() - started).toBeLessThan(3000);
    }
    await broker.start();
    await waitUntil(() => client.state === "open"); // the background reconnect
    expect(await client.rpc("broker.ping", { back: true })).toMatchObject({ back: true });
  });

  it("fails calls waiting at close() with Unavailable", async () => {
    const { broker, client } = await setup(() => {});
    const pending = thrown(() => client.rpc("svc.never", {}));
    await waitUntil(() => broker.requests.length === 1); // waiting for its answer, not still connecting
    await client.close();
    expect(isBackendUnavailableError(await pending)).toBe(true);
    expect(isBackendUnavailableError(await thrown(() => client.rpc("broker.ping", {})))).toBe(true);
  });
});
